"""Policies as data (防控政策): what triggers a colour, for whom, from when, and what clears it.

A policy is a plain mapping (from a TOML or JSON file, or the database) turned into frozen
dataclasses by `parse_policy`, which names every mistake it finds. docs/policies.md is the
reference for the format and its exact semantics; keep the two in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

GREEN, YELLOW, RED = "green", "yellow", "red"
SEVERITY = {GREEN: 0, YELLOW: 1, RED: 2}
COLOURS = {v: k for k, v in SEVERITY.items()}
COLOUR_LABELS = {GREEN: "绿码", YELLOW: "黄码", RED: "红码"}

TRIGGERS = ("no_sampling", "positive_result", "pooled_positive", "designation", "zone_level")
CLEARS = ("negative_after", "negatives_on_distinct_days", "expiry")
DESIGNATION_KINDS = ("close_contact", "secondary_contact", "spacetime_companion")
ZONE_LEVELS = ("prevention", "control", "lockdown")  # 防范区, 管控区, 封控区
ZONE_LABELS = {"prevention": "防范区", "control": "管控区", "lockdown": "封控区"}
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
    hours: float | None = None  # expiry: hours after the trigger fired
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

    def in_force(self, now: datetime) -> bool:
        if self.published_at is not None and self.published_at > now:
            return False
        if self.effective_from > now:
            return False
        return self.effective_until is None or now < self.effective_until

    @property
    def starts_at(self) -> datetime:
        """No code from this policy can begin before this time."""
        if self.published_at is None:
            return self.effective_from
        return max(self.effective_from, self.published_at)


def _time(value, name: str, problems: list[str]) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            problems.append(f"{name}: 不是有效的时间 {value!r}")
            return None
    if parsed.tzinfo is None:
        problems.append(f"{name}: 时间须带UTC偏移,如 2022-04-23T00:00:00+08:00")
        return None
    return parsed


def parse_policy(
    data: dict, *, version: int | None = None, published_at: datetime | None = None
) -> Policy:
    """Build a Policy from a mapping, or raise PolicyError listing every problem."""
    problems: list[str] = []
    policy_id = str(data.get("id", ""))
    if not _ID.match(policy_id):
        problems.append("id: 应为2–63位小写字母、数字或连字符")
    title = str(data.get("title", "")).strip()
    message = str(data.get("message", "")).strip()
    if not title:
        problems.append("title: 必填")
    if not message:
        problems.append("message: 必填(向居民说明原因与解码方式)")
    colour = data.get("colour")
    if colour not in (YELLOW, RED):
        problems.append("colour: 应为 yellow 或 red")
    effective_from = _time(data.get("effective_from"), "effective_from", problems)
    if "effective_from" not in data:
        problems.append("effective_from: 必填")
    effective_until = _time(data.get("effective_until"), "effective_until", problems)
    if effective_from and effective_until and effective_until <= effective_from:
        problems.append("effective_until: 应晚于 effective_from")
    scope = _scope(data.get("scope") or {}, problems)
    trigger = _trigger(data.get("trigger") or {}, problems)
    raw_clears = data.get("clear", [])
    if isinstance(raw_clears, dict):
        raw_clears = [raw_clears]
    clears = tuple(_clear(c, i, trigger, problems) for i, c in enumerate(raw_clears))
    if problems:
        raise PolicyError(problems)
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
    )


def _scope(data: dict, problems: list[str]) -> Scope:
    include = tuple(str(c) for c in data.get("include", ["220100"]))
    exclude = tuple(str(c) for c in data.get("exclude", []))
    for code in include + exclude:
        if not _CODE.match(code):
            problems.append(f"scope: 区划代码 {code!r} 应为6、9或12位数字")
    if not include:
        problems.append("scope.include: 至少一个区划代码")
    return Scope(include, exclude)


def _trigger(data: dict, problems: list[str]) -> Trigger:
    kind = data.get("type")
    if kind not in TRIGGERS:
        problems.append(f"trigger.type: 应为 {', '.join(TRIGGERS)} 之一")
        return Trigger(type=str(kind))
    if kind == "no_sampling":
        start = _time(data.get("from"), "trigger.from", problems)
        end = _time(data.get("until"), "trigger.until", problems)
        if not start or not end:
            problems.append("trigger: no_sampling 需要 from 与 until")
        elif end <= start:
            problems.append("trigger.until: 应晚于 trigger.from")
        return Trigger(type=kind, start=start, end=end)
    if kind == "designation":
        designation = data.get("kind")
        if designation not in DESIGNATION_KINDS:
            problems.append(f"trigger.kind: 应为 {', '.join(DESIGNATION_KINDS)} 之一")
        return Trigger(type=kind, kind=str(designation))
    if kind == "zone_level":
        levels = tuple(data.get("levels", ()))
        if not levels or any(level not in ZONE_LEVELS for level in levels):
            problems.append(f"trigger.levels: 应为 {', '.join(ZONE_LEVELS)} 中的一个或多个")
        return Trigger(type=kind, levels=levels)
    return Trigger(type=kind)


def _clear(data: dict, index: int, trigger: Trigger, problems: list[str]) -> Clear:
    where = f"clear[{index}]"
    kind = data.get("type")
    if kind not in CLEARS:
        problems.append(f"{where}.type: 应为 {', '.join(CLEARS)} 之一")
        return Clear(type=str(kind))
    if kind == "expiry":
        hours, at = data.get("hours"), _time(data.get("at"), f"{where}.at", problems)
        if (hours is None) == (at is None):
            problems.append(f"{where}: expiry 需要 hours 或 at 之一")
        if hours is not None and (not isinstance(hours, int | float) or hours <= 0):
            problems.append(f"{where}.hours: 应为正数")
        return Clear(type=kind, hours=float(hours) if hours is not None else None, at=at)
    after_raw = data.get("after", AFTER_TRIGGER)
    after_trigger = after_raw == AFTER_TRIGGER
    after = None if after_trigger else _time(after_raw, f"{where}.after", problems)
    days = int(data.get("days", 1)) if kind == "negatives_on_distinct_days" else 1
    if kind == "negatives_on_distinct_days" and not 1 <= days <= 30:
        problems.append(f"{where}.days: 应为1–30")
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
    return f"赋码{clear.hours:g}小时后自动解除"


def _local(value: datetime | None) -> str:
    from zoneinfo import ZoneInfo

    if value is None:
        return ""
    return value.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y年%m月%d日%H:%M")
