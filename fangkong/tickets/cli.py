"""`fangkong tickets ...` commands.

fangkong tickets stats [--as-of T] [--county C] [--json]

The JSON printed by `--json` is the contract of GET /api/tickets/stats (docs/tickets.md):
{"raised", "solved", "open", "overdue", "unassigned", "by_group": [{"group", "group_label",
"raised", "solved", "open", "overdue"}], "as_of", "county", "counties"}. Bad arguments exit 2
with the reason on stderr.
"""

from __future__ import annotations

import json

FULL_SPACE = "\u3000"


def _table(shown: dict, scope_name: str) -> list[str]:
    lines = [
        f"{scope_name} 问题工单日调度(数据截至 {shown['as_of'][:16].replace('T', ' ')},北京时间)",
        f"累计提出 {shown['raised']:,} 个,已解决 {shown['solved']:,} 个,未解决 "
        f"{shown['open']:,} 个,其中超期 {shown['overdue']:,} 个,待分派 {shown['unassigned']:,} 个",
        "",
        f"{'工作组'.ljust(7, FULL_SPACE)}  {'承办':>6}  {'已解决':>6}  {'未解决':>6}  {'超期':>6}",
    ]
    for g in shown["by_group"]:
        lines.append(
            f"{g['group_label'].ljust(7, FULL_SPACE)}  {g['raised']:>8,}  {g['solved']:>9,}  "
            f"{g['open']:>9,}  {g['overdue']:>8,}"
        )
    return lines


def cmd_stats(args) -> int:
    from fangkong.cli import known_counties
    from fangkong.tickets.stats import figures

    names = known_counties(args.county)
    if names is None:
        return 2
    shown = figures(args.as_of, county=args.county)
    if args.json:
        print(json.dumps(shown, ensure_ascii=False))
        return 0
    print("\n".join(_table(shown, names[args.county] if args.county else "长春市")))
    return 0


def add_commands(sub) -> None:
    """Add `tickets` to the `fangkong` parser."""
    from fangkong.cli import county_code, moment

    tickets = sub.add_parser("tickets", help="问题工单与日调度")
    commands = tickets.add_subparsers(dest="tickets_command", required=True)
    stats = commands.add_parser(
        "stats", help="问题工单累计提出、已解决、未解决、超期,按工作组(按数据截至时的办理记录计算)"
    )
    stats.add_argument(
        "--as-of",
        type=moment,
        help="数据截至(默认现在;无时区为北京时间;2022-04-20T24:00 即4月20日全天)",
    )
    stats.add_argument("--county", type=county_code, help="区县代码,如 220173;默认全市")
    stats.add_argument("--json", action="store_true", help="机器可读的输出")
    stats.set_defaults(func=cmd_stats)
