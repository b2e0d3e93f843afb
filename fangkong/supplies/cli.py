"""`fangkong supplies ...` commands.

fangkong supplies stats [--as-of T] [--county C] [--json]

`--json` prints the figures of fangkong.supplies.stats.figures (docs/supplies.md), the same as
GET /api/supplies/stats. Bad arguments exit 2 with the reason on stderr.
"""

from __future__ import annotations

import json


def _lines(shown: dict, scope_name: str) -> list[str]:
    lines = [
        f"{scope_name} 保供情况(数据截至 {shown['as_of'][:16].replace('T', ' ')},北京时间)",
        f"两级保供企业 {shown['supply_firms']:,} 户(市级 {shown['city_level_firms']:,},"
        f"区级 {shown['district_level_firms']:,}),其他小超市 {shown['small_supermarkets']:,} 户",
        f"物资需求 {shown['requests']:,} 单,配送 {shown['deliveries']:,} 次"
        f"(已确认收货 {shown['confirmed_deliveries']:,} 次),服务企业 {shown['firms_served']:,} 户、"
        f"工地 {shown['sites_served']:,} 个,货值 {shown['value_yuan']:,} 元",
        f"住宿安置点 {shown['housing_sites']:,} 处,床位 {shown['beds_offered']:,} 张,"
        f"已用 {shown['beds_used']:,} 张",
    ]
    for row in shown["by_item"]:
        lines.append(
            f"  {row['item_label']}:申请 {row['requested']:,}{row['unit']},"
            f"已配送 {row['delivered']:,}{row['unit']}"
        )
    return lines


def cmd_stats(args) -> int:
    from django.utils import timezone

    from fangkong.cli import known_counties
    from fangkong.supplies.stats import figures

    names = known_counties(args.county)
    if names is None:
        return 2
    shown = figures(args.as_of or timezone.now(), [args.county] if args.county else None)
    if args.json:
        print(json.dumps(shown, ensure_ascii=False))
        return 0
    print("\n".join(_lines(shown, names[args.county] if args.county else "长春市")))
    return 0


def add_commands(sub) -> None:
    """Add `supplies` to the `fangkong` parser."""
    from fangkong.cli import county_code, moment

    supplies = sub.add_parser("supplies", help="保供与物资保障")
    commands = supplies.add_subparsers(dest="supplies_command", required=True)
    stats = commands.add_parser(
        "stats", help="保供企业、小超市、物资配送与住宿安置的数字(按截至时登记的记录计算)"
    )
    stats.add_argument(
        "--as-of", type=moment, help="数据截至(默认现在;无时区为北京时间),如 2022-04-20T24:00"
    )
    stats.add_argument("--county", type=county_code, help="区县代码,如 220173;默认全市")
    stats.add_argument("--json", action="store_true", help="机器可读的输出")
    stats.set_defaults(func=cmd_stats)
