"""Which exit rules apply to a community, reading rule text, and saying the rules in words."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fangkong.engine.gate_rules import (
    COLOUR_LABELS,
    ZONE_LABELS,
    ExitRules,
    RuleError,
    parse_exit_rules,
)
from fangkong.exits.models import ExitRuleSet

DEFAULT_RULES_FILE = Path(__file__).resolve().parent / "fixtures" / "default_rules.toml"


@dataclass(frozen=True)
class RulesInForce:
    rules: ExitRules
    row: ExitRuleSet | None  # None: no rule set published at all, the engine's defaults apply

    @property
    def source_label(self) -> str:
        if self.row is None:
            return "系统默认规则"
        return "本社区规则" if self.row.community_id else "全市默认规则"


def _latest(qs, now: datetime) -> ExitRuleSet | None:
    return (
        qs.filter(effective_from__lte=now, recorded_at__lte=now)
        .order_by("-effective_from", "-recorded_at", "-id")
        .first()
    )


def rules_for(community_code: str | None, now: datetime) -> RulesInForce:
    """The community's own latest rule set in effect, else the city default's, else the
    engine's defaults (which are the city default of the fixture)."""
    row = None
    if community_code:
        row = _latest(ExitRuleSet.objects.filter(community_id=community_code), now)
    if row is None:
        row = _latest(ExitRuleSet.objects.filter(community__isnull=True), now)
    return RulesInForce(row.as_rules() if row else ExitRules(), row)


def read_rules(text: str) -> tuple[dict, ExitRules]:
    """Rule text, TOML or JSON (starting with `{`), checked. Raises RuleError in Chinese."""
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise RuleError(f"无法解析规则:{exc}") from exc
    if not isinstance(data, dict):
        raise RuleError("规则应为键值表")
    return check_rules(data)


def check_rules(data: Mapping) -> tuple[dict, ExitRules]:
    """A rule mapping (from text or from the form), checked: the JSON to store, and the rules.
    Raises RuleError in Chinese."""
    rules = parse_exit_rules(data)
    return plain(rules), rules


def plain(rules: ExitRules) -> dict:
    """The rules as the JSON a rule set stores (and parse_exit_rules reads back)."""
    return {
        "zone_levels": list(rules.zone_levels),
        "allow_unzoned": rules.allow_unzoned,
        "per_household_per_day": rules.per_household_per_day,
        "opens": rules.opens.strftime("%H:%M"),
        "closes": rules.closes.strftime("%H:%M"),
        "colours": list(rules.colours),
        "pcr_negative_within_hours": rules.pcr_negative_within_hours,
        "pass_minutes": rules.pass_minutes,
    }


def as_text(rules: ExitRules) -> str:
    """The rules as text to start an edit from, which publishes the same rules again: TOML, or
    JSON when a value is null (TOML has no null, and an absent key takes the default)."""
    data = plain(rules)
    if None in data.values():
        return json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    return "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in data.items())


def describe(rules: ExitRules) -> list[str]:
    """The rules in plain Chinese, one sentence each, for residents and staff."""
    levels = "、".join(ZONE_LABELS[level] for level in rules.zone_levels) or "(无)"
    where = f"{levels}小区的居民可申请"
    if rules.allow_unzoned:
        where += ";未划定风险区的小区也可申请"
    colours = "或".join(COLOUR_LABELS[c] for c in rules.colours) or "(无)"
    out = [
        where,
        f"每户每天限{rules.per_household_per_day}人次外出",
        f"外出时段为每天{rules.opens:%H:%M}至{rules.closes:%H:%M}",
        f"健康码须为{colours}",
    ]
    if rules.pcr_negative_within_hours is not None:
        out.append(f"须有{rules.pcr_negative_within_hours}小时内核酸阴性记录(按采样时间计)")
    out.append(
        f"通行码自签发起{rules.pass_minutes}分钟内有效,最晚至当天{rules.closes:%H:%M};"
        "出门、返回均须在小区门岗扫码"
    )
    return out


def default_rules_text() -> str:
    return DEFAULT_RULES_FILE.read_text(encoding="utf-8")
