"""`fangkong passes ...` commands.

fangkong passes stats [--as-of T] [--county C] [--json]

The JSON printed by `--json` is the contract of GET /api/passes/stats (docs/passes.md):
{"applied", "issued", "rejected", "pending", "batches": [{"number", "issued", "closed_at"}],
"median_handling_hours", "within_24h", "by_district", "by_day", …}. Bad arguments exit 2.
"""

from __future__ import annotations

import json


def _percent(rate) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def table(shown: dict) -> list[str]:
    median = shown["median_handling_hours"]
    lines = [
        f"车辆通行证(数据截至 {shown['as_of'][:16].replace('T', ' ')})",
        f"申请 {shown['applied']:,} 件(其中驳回后重新申请 {shown['reapplied']:,} 件),"
        f"已处理 {shown['decided']:,} 件:批准 {shown['approved']:,},驳回 {shown['rejected']:,};"
        f"待处理 {shown['pending']:,} 件,其中超过24小时 {shown['overdue_pending']:,} 件",
        f"已发放 {shown['issued']:,} 个,已吊销 {shown['revoked']:,} 个",
        f"处理用时中位数 {'—' if median is None else f'{median:.1f}小时'},"
        f"24小时内处理 {_percent(shown['within_24h'])}",
    ]
    for b in shown["batches"]:
        lines.append(f"第{b['number']}批 {b['issued']:,} 个(发放于 {b['closed_at'][:16]})")
    for d in shown["by_district"]:
        lines.append(
            f"{d['name']}:申请 {d['applied']:,},发放 {d['issued']:,},驳回 {d['rejected']:,},"
            f"待处理 {d['pending']:,}"
        )
    return lines


def cmd_stats(args) -> int:
    from django.utils import timezone

    from fangkong.cli import known_counties
    from fangkong.passes.stats import figures

    if known_counties(args.county) is None:
        return 2
    as_of = args.as_of or timezone.now()
    shown = figures(as_of, frozenset({args.county}) if args.county else None)
    if args.json:
        print(json.dumps(shown, ensure_ascii=False))
    else:
        print("\n".join(table(shown)))
    return 0


def add_commands(sub) -> None:
    """Add `passes` to the `fangkong` parser."""
    from fangkong.cli import county_code, moment

    passes = sub.add_parser("passes", help="车辆通行证")
    commands = passes.add_subparsers(dest="passes_command", required=True)
    stats = commands.add_parser("stats", help="申请、发放、驳回、处理用时(按数据截至时的记录计算)")
    stats.add_argument("--as-of", type=moment, help="数据截至(默认现在;无时区为北京时间)")
    stats.add_argument("--county", type=county_code, help="区县代码,如 220173;默认全市")
    stats.add_argument("--json", action="store_true", help="机器可读的输出")
    stats.set_defaults(func=cmd_stats)
