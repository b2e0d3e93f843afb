"""`fangkong zones eligible --as-of T [--json] [--county C]`: what each community and town is
eligible for as of T under the shipped rule sets (fangkong/zones/rules/), with the evidence.
Writes nothing. The text lists only what is due; `--json` lists every area."""

from __future__ import annotations

import json
import sys

ACTION_HEADINGS = {
    "release": "可解除/降级",
    "escalate": "应即划为封控区/高风险区(新增阳性)",
    "award": "符合无疫条件",
    "withdraw": "应摘除无疫标识",
}


def cmd_eligible(args) -> int:
    from django.utils import timezone

    from fangkong.engine.zone_rules import LEVEL_LABELS, ZoneRuleError
    from fangkong.places.queries import counties
    from fangkong.zones.eligibility import assess_areas, load_rule_sets

    now = args.as_of or timezone.now()
    known = {c.code: c.name for c in counties()}
    if args.county is not None and args.county not in known:
        print(
            f"错误:--county: 没有代码为 {args.county} 的现行区县(应为6位代码,如 220102)",
            file=sys.stderr,
        )
        return 2
    try:
        rule_sets = load_rule_sets()
    except ZoneRuleError as exc:
        print("错误:规则文件有问题:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    chosen = [args.county] if args.county else None
    assessments = assess_areas(now, chosen, rule_sets)
    if args.json:
        print(
            json.dumps(
                {
                    "as_of": _iso(now),
                    "rule_sets": [r.id for r in rule_sets],
                    "areas": [a.as_dict() for a in assessments],
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(f"截至 {_local(now)}(北京时间),规则:{'、'.join(r.title for r in rule_sets)}")
    due = [(a, f) for a in assessments for f in a.due]
    for action, heading in ACTION_HEADINGS.items():
        rows = [(a, f) for a, f in due if f.action == action]
        print(f"\n{heading}:{len(rows)}")
        for a, f in rows:
            move = (
                f"{LEVEL_LABELS[f.level]} → {LEVEL_LABELS[f.to]}"
                if action in ("release", "escalate")
                else f.to
            )
            print(f"  {known.get(a.county, a.county)} {a.name}({a.code}) {move}")
            for text in f.reasons if action in ("escalate", "withdraw") else _evidence(f):
                print(f"      {text}")
    return 0


def _evidence(finding) -> list[str]:
    return [c.text for c in finding.checks]


def _iso(value) -> str:
    from fangkong.engine.zone_rules import LOCAL

    return value.astimezone(LOCAL).isoformat()


def _local(value) -> str:
    from fangkong.engine.zone_rules import local

    return local(value)


def add_subcommands(zones_sub) -> None:
    """Add `eligible` to the `fangkong zones` subcommands (called by fangkong.zones.cli)."""
    from fangkong.cli import moment

    eligible = zones_sub.add_parser(
        "eligible", help="某一时刻各社区、乡镇(街道)符合的解除、降级与无疫条件及依据"
    )
    eligible.add_argument("--as-of", type=moment, help="判定时刻(默认现在;无时区为北京时间)")
    eligible.add_argument("--county", help="只判定一个区县(6位代码,如 220102)")
    eligible.add_argument("--json", action="store_true", help="输出每个地区的判定与依据(JSON)")
    eligible.set_defaults(func=cmd_eligible)
