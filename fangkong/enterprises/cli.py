"""`fangkong enterprises ...` commands.

fangkong enterprises stats --date D [--county C] [--industry I] [--as-of T] [--json]

The JSON printed by `--json` is the contract of GET /api/enterprises/stats (README.md, "JSON
contract"; docs/enterprises-dashboard.md). Bad arguments exit 2 with the reason on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

FULL_SPACE = "\u3000"


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"不是有效的日期 {value!r}(应为 2022-04-20)") from exc


def percent(rate: float | None) -> str:
    """0.933 → 93.3%; nothing to divide by → —."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _table(shown: dict, scope_name: str) -> list[str]:
    day = date.fromisoformat(shown["date"])
    lines = [
        f"{day.year}年{day.month}月{day.day}日 {scope_name} 复工复产情况"
        f"(数据截至 {shown['as_of'][:16].replace('T', ' ')},北京时间)",
        f"规上工业企业 {shown['registered']:,} 户,已复工 {shown['resumed']:,} 户,"
        f"复工率 {percent(shown['resumption_rate'])}",
        f"复产率 {percent(shown['production_rate'])}",
        f"在岗人数 {shown['staff_on_duty']:,} 人,其中返岗人数 {shown['returning_staff']:,} 人",
        f"已报送日报 {shown['reported']:,} 户,当日无日报 {shown['not_reported']:,} 户"
        "(含未复工企业;应报未报见提醒名单)",
    ]
    if shown["by_industry"]:
        width = max(len(r["industry_label"]) for r in shown["by_industry"])
        lines.append("")
        lines.append(
            f"{'行业'.ljust(width, FULL_SPACE)}  {'规上企业':>6}  {'已复工':>6}  {'复工率':>6}  "
            f"{'复产率':>6}  {'在岗人数':>8}  {'返岗人数':>8}"
        )
        for r in shown["by_industry"]:
            lines.append(
                f"{r['industry_label'].ljust(width, FULL_SPACE)}  {r['registered']:>10,}  "
                f"{r['resumed']:>9,}  {percent(r['resumption_rate']):>9}  "
                f"{percent(r['production_rate']):>9}  {r['staff_on_duty']:>12,}  "
                f"{r['returning_staff']:>12,}"
            )
    return lines


def cmd_stats(args) -> int:
    from fangkong.cli import known_counties
    from fangkong.enterprises.models import Industry
    from fangkong.enterprises.stats import district_figures

    names = known_counties(args.county)
    if names is None:
        return 2
    if args.industry and args.industry not in Industry.values:
        known = "、".join(f"{value}({label})" for value, label in Industry.choices)
        print(f"错误:--industry:未知的行业 {args.industry},应为 {known}", file=sys.stderr)
        return 2
    shown = district_figures(
        args.date, county=args.county, as_of=args.as_of, industry=args.industry
    )
    if args.json:
        print(json.dumps(shown, ensure_ascii=False))
        return 0
    scope_name = names[args.county] if args.county else "长春市"
    print("\n".join(_table(shown, scope_name)))
    return 0


def add_commands(sub) -> None:
    """Add `enterprises` to the `fangkong` parser."""
    # The parser is built before Django is set up: no model may be imported here.
    from fangkong.cli import county_code, moment

    enterprises = sub.add_parser("enterprises", help="企业复工复产")
    commands = enterprises.add_subparsers(dest="enterprises_command", required=True)
    stats = commands.add_parser(
        "stats", help="某日规上工业企业复工率、复产率、在岗人数(按数据截至时的日报计算)"
    )
    stats.add_argument("--date", type=_day, required=True, help="日期(北京时间),如 2022-04-20")
    stats.add_argument("--county", type=county_code, help="区县代码,如 220173;默认全市")
    stats.add_argument("--industry", help="只统计该行业,如 automotive(汽车及零部件)")
    stats.add_argument(
        "--as-of", type=moment, help="数据截至(默认当日结束,或现在若更早;无时区为北京时间)"
    )
    stats.add_argument("--json", action="store_true", help="机器可读的输出")
    stats.set_defaults(func=cmd_stats)
