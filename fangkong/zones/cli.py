"""`fangkong zones publish FILE` and `fangkong zones stats --as-of T [--json]` (docs/zones.md).

`zones eligible` comes from fangkong.zones.eligibility_cli when that module is installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys


def _problems(title: str, problems) -> int:
    print(f"错误:{title}", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    return 1


def cmd_publish(args) -> int:
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from fangkong.zones.actions import do_issue_notice
    from fangkong.zones.notice import MAX_NOTICE_BYTES, NoticeError, parse_notice

    if not os.path.isfile(args.file):
        print(f"错误:找不到文件 {args.file}", file=sys.stderr)
        return 2
    with open(args.file, "rb") as f:
        raw = f.read(MAX_NOTICE_BYTES + 1)
    try:
        notice = parse_notice(raw)
    except NoticeError as exc:
        return _problems("通告文件有问题:", exc.problems)
    now = args.at or timezone.now()
    try:
        # No user: the trusted local operator, audited as "system" at each step.
        published = do_issue_notice(
            title=notice.title,
            scheme=notice.scheme,
            entries=notice.entries,
            effective_from=notice.effective_from,
            effective_until=notice.effective_until,
            number=notice.number,
            issuer=notice.issuer,
            now=now,
        )
    except ValidationError as exc:
        return _problems("通告未发布:", exc.messages)
    decision, codes = published.decision, published.codes
    summary = {
        "decision": decision.pk,
        "notice": decision.notice,
        "entries": published.rows,
        "effective_from": decision.effective_from.isoformat(),
        "effective_until": decision.effective_until.isoformat()
        if decision.effective_until
        else None,
        "applied": codes is not None,
        "evaluated": codes.evaluated if codes else 0,
        "changed": codes.changed if codes else 0,
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
        return 0
    print(f"已发布 {decision.notice}:{decision.title}({published.rows}个社区)")
    if codes is None:
        print(f"生效时间 {_when(decision.effective_from)} 未到,届时自动生效。")
    else:
        print(f"已生效:重新判定{codes.evaluated:,}名居民的健康码,{codes.changed:,}人颜色变化。")
    return 0


def _when(value) -> str:
    from fangkong.zones.notice import BEIJING

    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def cmd_stats(args) -> int:
    from django.utils import timezone

    from fangkong.zones.stats import zone_stats

    stats = zone_stats(args.as_of or timezone.now())
    if args.json:
        print(json.dumps(stats, ensure_ascii=False))
        return 0
    zones, risk, free = stats["zones"], stats["risk_areas"], stats["epidemic_free"]
    print(f"截至 {_when(args.as_of or timezone.now())}(北京时间):")
    print(
        f"  封控区 {zones['lockdown']:,},管控区 {zones['control']:,},防范区 {zones['prevention']:,}"
    )
    print(f"  高风险区 {risk['high']:,},中风险区 {risk['medium']:,},低风险区 {risk['low']:,}")
    print(
        f"  无疫小区 {free['communities']:,},无疫乡镇(街道) {free['towns']:,},"
        f"已公布 {free['batches']:,} 批"
    )
    return 0


def add_commands(sub) -> None:
    """Add `zones` and its subcommands to the `fangkong` parser."""
    from fangkong.cli import moment

    zones = sub.add_parser("zones", help="风险区划:发布调整通告、统计")
    zones_sub = zones.add_subparsers(dest="zones_command", required=True)
    publish = zones_sub.add_parser("publish", help="发布风险区划调整通告(TOML文件,见docs/zones.md)")
    publish.add_argument("file")
    publish.add_argument("--at", type=moment, help="发布时间(默认现在;无时区为北京时间)")
    publish.add_argument("--json", action="store_true")
    publish.set_defaults(func=cmd_publish)
    stats = zones_sub.add_parser("stats", help="某一时刻的风险区与无疫小区(乡镇)数量")
    stats.add_argument("--as-of", type=moment, help="统计时刻(默认现在;无时区为北京时间)")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=cmd_stats)
    if importlib.util.find_spec("fangkong.zones.eligibility_cli") is not None:
        importlib.import_module("fangkong.zones.eligibility_cli").add_subcommands(zones_sub)
