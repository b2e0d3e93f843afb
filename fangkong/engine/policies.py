"""Policies as data (防控政策): what triggers a colour, for whom, from when, and what clears it.

A policy is a plain mapping (from a TOML or JSON file, or the database) turned into frozen
dataclasses by `parse_policy`, which names every mistake it finds. docs/policies.md is the
reference for the format and its exact semantics; keep the two in step.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import UTC, datetime
from difflib import get_close_matches

GREEN, YELLOW, RED = "green", "yellow", "red"
SEVERITY = {GREEN: 0, YELLOW: 1, RED: 2}
COLOURS = {v: k for k, v in SEVERITY.items()}
COLOUR_LABELS = {GREEN: "绿码", YELLOW: "黄码", RED: "红码"}

TRIGGERS = ("no_sampling", "positive_result", "pooled_positive", "designation", "zone_level")
CLEARS = ("negative_after", "negatives_on_distinct_days", "expiry")
DESIGNATION_KINDS = ("close_contact", "secondary_contact", "spacetime_companion")
# Two naming schemes, as the notices name them: the three zones of the 2021 plan (三区划分) and
# the risk areas of the 9th edition (第九版防控方案). A community has at most one standing level
# in each scheme; a `zone_level` trigger may name levels of either.
THREE_ZONES, RISK_AREAS = "three_zones", "risk_areas"
ZONE_SCHEMES = {
    "prevention": THREE_ZONES,  # 防范区
    "control": THREE_ZONES,  # 管控区
    "lockdown": THREE_ZONES,  # 封控区
    "low": RISK_AREAS,  # 低风险区
    "medium": RISK_AREAS,  # 中风险区
    "high": RISK_AREAS,  # 高风险区
}
ZONE_LEVELS = tuple(ZONE_SCHEMES)
ZONE_LABELS = {
    "prevention": "防范区",
    "control": "管控区",
    "lockdown": "封控区",
    "low": "低风险区",
    "medium": "中风险区",
    "high": "高风险区",
}
AFTER_TRIGGER = "trigger"
# Every reason can also be cleared on application (解码申请): not a condition the resident meets
# by themselves, so pages list it apart from the clears.
APPLICATION_CLEAR = "经审核通过的解码申请"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_CODE = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")


class PolicyError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Scope:
    include: tuple[str, ...] = ("220100",)
    exclude: tuple[str, ...] = ()

    def covers(self, code: str) -> bool:
        """A division code is in scope if it starts with an included code's prefix and with no
        excluded one's. Codes compare by their significant digits (220100 → 2201)."""
        return any(code.startswith(_prefix(c)) for c in self.include) and not any(
            code.startswith(_prefix(c)) for c in self.exclude
        )


def _prefix(code: str) -> str:
    """220100 (a city) covers 2201…, 220102 (a district) covers 220102…, 220102001 its street."""
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code


@dataclass(frozen=True)
class Trigger:
    type: str
    start: datetime | None = None  # no_sampling: the window [start, end)
    end: datetime | None = None
    kind: str = ""  # designation
    levels: tuple[str, ...] = ()  # zone_level


@dataclass(frozen=True)
class Clear:
    type: str
    after: datetime | None = None  # None with after_trigger: after the trigger fired
    after_trigger: bool = False
    days: int = 1  # negatives_on_distinct_days
    hours: int | None = None  # expiry: hours after the trigger fired
    at: datetime | None = None  # expiry: a fixed time


@dataclass(frozen=True)
class Policy:
    id: str
    version: int
    title: str
    colour: str
    message: str
    effective_from: datetime
    effective_until: datetime | None
    scope: Scope
    trigger: Trigger
    clears: tuple[Clear, ...] = field(default=())
    published_at: datetime | None = None  # None: a draft, evaluated as if published
    # A version that changes neither trigger, scope nor clears continues the decision of the
    # version it replaces (docs/policies.md, "Versions"): codes start when that decision was
    # published, and clearances approved for any version since then still answer it.
    continues_from: int | None = None  # the first version of the decision; None: this one
    continues_since: datetime | None = None  # that version's publication
    restart: bool = False  # the file asks for a new decision even if nothing else changed

    def in_force(self, now: datetime) -> bool:
        if self.published_at is not None and self.published_at > now:
            return False
        if self.effective_from > now:
            return False
        return self.effective_until is None or now < self.effective_until

    @property
    def starts_at(self) -> datetime:
        """No code from this policy can begin before this time."""
        published = self.continues_since or self.published_at
        if published is None:
            return self.effective_from
        return max(self.effective_from, published)

    @property
    def first_version(self) -> int:
        """The first version of the decision this version belongs to."""
        return self.continues_from or self.version

    def answered_by(self, version: int | None) -> bool:
        """Whether a clearance approved for `version` (None: every version) answers this one."""
        return version is None or self.first_version <= version <= self.version

    def same_rule_as(self, other: Policy) -> bool:
        """Same trigger, scope and clears: a new version of it only rewords or re-times it."""
        return (self.trigger, self.scope, self.clears) == (other.trigger, other.scope, other.clears)


# -- reading a policy file -------------------------------------------------------------------
#
# Every key is known, every value has its type and bounds: a typo (`effective_untill`), a key in
# the wrong place or an absurd number must never publish a rule that means something else.

TOP_KEYS = (
    "id",
    "title",
    "colour",
    "message",
    "effective_from",
    "effective_until",
    "scope",
    "trigger",
    "clear",
    "restart",
)
SCOPE_KEYS = ("include", "exclude")
TRIGGER_KEYS = {
    "no_sampling": ("type", "from", "until"),
    "positive_result": ("type",),
    "pooled_positive": ("type",),
    "designation": ("type", "kind"),
    "zone_level": ("type", "levels"),
}
CLEAR_KEYS = {
    "negative_after": ("type", "after"),
    "negatives_on_distinct_days": ("type", "after", "days"),
    "expiry": ("type", "hours", "at"),
}
MAX_HOURS = 366 * 24  # an expiry beyond a year is a typo, not a rule
MAX_DAYS = 30
MAX_TITLE, MAX_MESSAGE, MAX_CODES = 200, 2000, 500
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_TYPE_NAMES = {str: "文本", int: "整数", list: "列表", dict: "表", bool: "true 或 false"}


class _Problems(list):
    def unknown(self, where: str, data: dict, known: tuple[str, ...]) -> None:
        for key in data:
            if key not in known:
                guess = get_close_matches(str(key), known, n=1, cutoff=0.6)
                hint = f",是否应为 {guess[0]}?" if guess else f"(可用:{'、'.join(known)})"
                self.append(f"{where}{key}: 未知字段{hint}")

    def typed(self, name: str, value, kind: type):
        """The value if it has the type (an int is not a bool, a float is not an int)."""
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        self.append(f"{name}: 应为{_TYPE_NAMES[kind]},而不是 {value!r}")
        return None


def _time(value, name: str, problems: list[str]) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            problems.append(f"{name}: 不是有效的时间 {value!r},应如 2022-04-23T00:00:00+08:00")
            return None
    else:
        problems.append(f'{name}: 应为带UTC偏移的时间文本,如 "2022-04-23T00:00:00+08:00"')
        return None
    if parsed.tzinfo is None:
        problems.append(f"{name}: 时间须带UTC偏移,如 2022-04-23T00:00:00+08:00")
        return None
    if not EARLIEST <= parsed < LATEST:
        problems.append(f"{name}: 时间应在2000年至2099年之间")
        return None
    return parsed


def parse_policy(
    data: dict,
    *,
    version: int | None = None,
    published_at: datetime | None = None,
    divisions: Container[str] | None = None,
    strict: bool = True,
    continues_from: int | None = None,
    continues_since: datetime | None = None,
) -> Policy:
    """Build a Policy from a mapping, or raise PolicyError listing every problem, in Chinese,
    each naming its key.

    `divisions`: the division codes that exist (scope codes must be among them). `strict=False`
    reads a version published before unknown keys were refused; the bounds always hold.
    """
    problems = _Problems()
    if not isinstance(data, dict):
        raise PolicyError(["政策文件应为一个表(TOML)或对象(JSON)"])
    if strict:
        problems.unknown("", data, TOP_KEYS)
    policy_id = data.get("id", "")
    if not isinstance(policy_id, str) or not _ID.match(policy_id):
        problems.append("id: 应为2–63位小写字母、数字或连字符")
    title = _text(data, "title", MAX_TITLE, problems)
    message = _text(data, "message", MAX_MESSAGE, problems)
    colour = data.get("colour")
    if colour not in (YELLOW, RED):
        problems.append("colour: 应为 yellow 或 red")
    effective_from = _time(data.get("effective_from"), "effective_from", problems)
    if data.get("effective_from") in (None, ""):
        problems.append("effective_from: 必填")
    effective_until = _time(data.get("effective_until"), "effective_until", problems)
    if effective_from and effective_until and effective_until <= effective_from:
        problems.append("effective_until: 应晚于 effective_from")
    restart = data.get("restart", False)
    restart = problems.typed("restart", restart, bool) or False
    scope = _scope(data.get("scope", {}), problems, divisions, strict)
    trigger = _trigger(data.get("trigger"), problems, strict)
    raw_clears = data.get("clear", [])
    if isinstance(raw_clears, dict):
        raw_clears = [raw_clears]
    if not isinstance(raw_clears, list):
        problems.append("clear: 应为 [[clear]] 表的列表")
        raw_clears = []
    clears = tuple(_clear(c, i, problems, strict) for i, c in enumerate(raw_clears))
    if problems:
        raise PolicyError(list(problems))
    return Policy(
        id=policy_id,
        version=int(version if version is not None else data.get("version", 0) or 0),
        title=title,
        colour=colour,
        message=message,
        effective_from=effective_from,
        effective_until=effective_until,
        scope=scope,
        trigger=trigger,
        clears=clears,
        published_at=published_at,
        continues_from=continues_from,
        continues_since=continues_since,
        restart=restart,
    )


def _text(data: dict, name: str, limit: int, problems: _Problems) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        problems.append(f"{name}: 应为文本")
        return ""
    value = value.strip()
    if not value:
        hint = "(向居民说明原因与解码方式)" if name == "message" else ""
        problems.append(f"{name}: 必填{hint}")
    elif len(value) > limit:
        problems.append(f"{name}: 不超过{limit}字(现为{len(value)}字)")
    return value


def _scope(data, problems: _Problems, divisions, strict: bool) -> Scope:
    if not isinstance(data, dict):
        problems.append('scope: 应为表,如 [scope] include = ["220100"]')
        return Scope()
    if strict:
        problems.unknown("scope.", data, SCOPE_KEYS)
    codes = {}
    for key, default in (("include", ["220100"]), ("exclude", [])):
        value = data.get(key, default)
        if problems.typed(f"scope.{key}", value, list) is None:
            value = []
        if len(value) > MAX_CODES:
            problems.append(f"scope.{key}: 至多{MAX_CODES}个区划代码")
        for code in value:
            if not isinstance(code, str):
                problems.append(f'scope.{key}: 区划代码应写成文本,如 "{code}"')
            elif not _CODE.match(code):
                problems.append(f"scope.{key}: 区划代码 {code!r} 应为6、9或12位数字")
            elif divisions is not None and code not in divisions:
                problems.append(f"scope.{key}: 没有区划代码为 {code} 的现行区划")
        codes[key] = tuple(str(c) for c in value)
    if not codes["include"]:
        problems.append("scope.include: 至少一个区划代码")
    return Scope(codes["include"], codes["exclude"])


def _trigger(data, problems: _Problems, strict: bool) -> Trigger:
    if not isinstance(data, dict):
        problems.append(
            'trigger: 必填,应为表,如 [trigger] type = "no_sampling"'
            if data is None
            else "trigger: 应为表([trigger] 下写 type 等),而不是单个值"
        )
        return Trigger(type="")
    kind = data.get("type")
    if kind not in TRIGGERS:
        problems.append(f"trigger.type: 应为 {', '.join(TRIGGERS)} 之一")
        return Trigger(type=str(kind))
    if strict:
        problems.unknown("trigger.", data, TRIGGER_KEYS[kind])
    if kind == "no_sampling":
        start = _time(data.get("from"), "trigger.from", problems)
        end = _time(data.get("until"), "trigger.until", problems)
        if not data.get("from") or not data.get("until"):
            problems.append("trigger: no_sampling 需要 from 与 until")
        elif start and end and end <= start:
            problems.append("trigger.until: 应晚于 trigger.from")
        return Trigger(type=kind, start=start, end=end)
    if kind == "designation":
        designation = data.get("kind")
        if designation not in DESIGNATION_KINDS:
            problems.append(f"trigger.kind: 应为 {', '.join(DESIGNATION_KINDS)} 之一")
        return Trigger(type=kind, kind=str(designation))
    if kind == "zone_level":
        levels = data.get("levels", [])
        if not isinstance(levels, list):
            levels = [levels]
        if (
            not levels
            or any(level not in ZONE_LEVELS for level in levels)
            or len(set(levels)) != len(levels)
        ):
            problems.append(f"trigger.levels: 应为 {', '.join(ZONE_LEVELS)} 中的一个或多个,不重复")
            levels = [level for level in levels if level in ZONE_LEVELS]
        return Trigger(type=kind, levels=tuple(levels))
    return Trigger(type=kind)


def _clear(data, index: int, problems: _Problems, strict: bool) -> Clear:
    where = f"clear[{index}]"
    if not isinstance(data, dict):
        problems.append(f"{where}: 应为表([[clear]] 下写 type 等)")
        return Clear(type="")
    kind = data.get("type")
    if kind not in CLEARS:
        problems.append(f"{where}.type: 应为 {', '.join(CLEARS)} 之一")
        return Clear(type=str(kind))
    if strict:
        problems.unknown(f"{where}.", data, CLEAR_KEYS[kind])
    if kind == "expiry":
        hours, at = data.get("hours"), _time(data.get("at"), f"{where}.at", problems)
        if (hours is None) == (data.get("at") in (None, "")):
            problems.append(f"{where}: expiry 需要 hours 或 at 之一")
        if hours is not None:
            hours = problems.typed(f"{where}.hours", hours, int)
            if hours is not None and not 1 <= hours <= MAX_HOURS:
                problems.append(f"{where}.hours: 应为1–{MAX_HOURS}的整数(至多366天)")
                hours = None
        return Clear(type=kind, hours=hours, at=at)
    after_raw = data.get("after", AFTER_TRIGGER)
    after_trigger = after_raw == AFTER_TRIGGER
    after = None if after_trigger else _time(after_raw, f"{where}.after", problems)
    if not after_trigger and after_raw in (None, ""):
        problems.append(f'{where}.after: 应为时间或 "trigger"')
    days = 1
    if kind == "negatives_on_distinct_days":
        days = problems.typed(f"{where}.days", data.get("days", 1), int)
        if days is None:
            days = 1
        elif not 1 <= days <= MAX_DAYS:
            problems.append(f"{where}.days: 应为1–{MAX_DAYS}的整数")
    return Clear(type=kind, after=after, after_trigger=after_trigger, days=days)


def describe_clear(clear: Clear) -> str:
    """How to clear, in the words a resident reads."""
    since = "此后" if clear.after_trigger else f"{_local(clear.after)}之后"
    if clear.type == "negative_after":
        return f"{since}采样的一次核酸检测结果为阴性"
    if clear.type == "negatives_on_distinct_days":
        return f"{since}在{clear.days}个不同日期采样的核酸检测结果均为阴性"
    if clear.at is not None:
        return f"{_local(clear.at)}自动解除"
    return f"赋码{clear.hours}小时后自动解除"


def _local(value: datetime | None) -> str:
    from zoneinfo import ZoneInfo

    if value is None:
        return ""
    return value.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y年%m月%d日%H:%M")
