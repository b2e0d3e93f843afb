"""The daily figures, counted from case events alone (no Django: events in, numbers out).

Rules (docs/cases.md): only events recorded by `as_of` count, and an event that a correction
replaced does not; a day is 0–24 h Beijing time. A case is one new infection, on the day of its
first classification. Its first confirmation is "new confirmed" on its day; that confirmation is
a conversion when the case was asymptomatic on an earlier day. A case found asymptomatic and
confirmed on the same day is reported once, as confirmed, as the bulletins did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")

ASYMPTOMATIC = "asymptomatic"
CONFIRMED = "confirmed"
RECLASSIFIED = "reclassified"  # asymptomatic → confirmed
DISCHARGED = "discharged"
RELEASED = "released"
DIED = "died"
CONFIRMING = (CONFIRMED, RECLASSIFIED)
CLASSIFYING = (ASYMPTOMATIC, *CONFIRMING)

# Where a case was found; only these two make "以上人员均为隔离管控期间筛查…" true.
IN_CONTROL = frozenset({"isolation", "control"})


@dataclass(frozen=True)
class Event:
    id: int
    case: int
    kind: str
    at: datetime
    recorded_at: datetime
    supersedes: int | None = None
    county: str = ""
    found_by: str = ""


@dataclass(frozen=True)
class Figures:
    new_confirmed: int = 0
    of_which_conversions: int = 0
    new_asymptomatic: int = 0
    discharged: int = 0
    released: int = 0
    died: int = 0
    found_in_community: int = 0  # new infections found outside isolation and control screening
    in_hospital: int = 0  # at the end of the day
    in_observation: int = 0

    @property
    def new_infections(self) -> int:
        return self.new_confirmed - self.of_which_conversions + self.new_asymptomatic

    def published(self) -> dict[str, int]:
        """The figures a bulletin states."""
        return {
            "new_confirmed": self.new_confirmed,
            "of_which_conversions": self.of_which_conversions,
            "new_asymptomatic": self.new_asymptomatic,
            "discharged": self.discharged,
            "released": self.released,
        }


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), BEIJING)
    return start, start + timedelta(days=1)


def standing(events: Iterable[Event], as_of: datetime) -> list[Event]:
    """The events known at `as_of` that no correction known then replaced, in time order."""
    known = [e for e in events if e.recorded_at <= as_of]
    replaced = {e.supersedes for e in known if e.supersedes is not None}
    return sorted((e for e in known if e.id not in replaced), key=lambda e: (e.at, e.id))


@dataclass(frozen=True)
class Course:
    """When a case first reached each stage (None: not yet)."""

    asymptomatic: datetime | None
    confirmed: datetime | None
    discharged: datetime | None
    released: datetime | None
    died: datetime | None

    @property
    def first(self) -> datetime | None:
        return min((t for t in (self.asymptomatic, self.confirmed) if t), default=None)


def course(events: Iterable[Event]) -> Course:
    events = list(events)

    def first(kinds) -> datetime | None:
        return min((e.at for e in events if e.kind in kinds), default=None)

    return Course(
        first((ASYMPTOMATIC,)),
        first(CONFIRMING),
        first((DISCHARGED,)),
        first((RELEASED,)),
        first((DIED,)),
    )


def _on(day: date, moment: datetime | None) -> bool:
    return moment is not None and moment.astimezone(BEIJING).date() == day


def _by(moment: datetime | None, end: datetime) -> bool:
    return moment is not None and moment < end


def figures(
    events: Iterable[Event], day: date, as_of: datetime, county: str | None = None
) -> Figures:
    """The figures of `day` (Beijing), as they could be known at `as_of`; of one county if
    given (a case belongs to the county of its community)."""
    by_case: dict[int, list[Event]] = {}
    for event in standing(events, as_of):
        if county is None or event.county == county:
            by_case.setdefault(event.case, []).append(event)
    _, end = day_bounds(day)
    counts = dict.fromkeys(Figures.__dataclass_fields__, 0)
    for case_events in by_case.values():
        c = course(case_events)
        same_day = (
            c.asymptomatic and c.confirmed and _on(day, c.asymptomatic) and _on(day, c.confirmed)
        )
        if _on(day, c.confirmed):
            counts["new_confirmed"] += 1
            converted = c.asymptomatic is not None and c.asymptomatic <= c.confirmed
            if converted and not same_day:
                counts["of_which_conversions"] += 1
        if _on(day, c.asymptomatic) and not same_day:
            counts["new_asymptomatic"] += 1
        if _on(day, c.first) and case_events[0].found_by not in IN_CONTROL:
            counts["found_in_community"] += 1
        for stage in ("discharged", "released", "died"):
            counts[stage] += _on(day, getattr(c, stage))
        ended = _by(c.died, end)
        if _by(c.confirmed, end):
            counts["in_hospital"] += not (ended or _by(c.discharged, end))
        elif _by(c.asymptomatic, end):
            counts["in_observation"] += not (ended or _by(c.released, end))
    return Figures(**counts)


def differences(published: dict[str, int], now: dict[str, int]) -> list[dict]:
    """What changed in a day's figures since they were published: the correction list."""
    return [
        {"figure": name, "published": published.get(name, 0), "now": value}
        for name, value in now.items()
        if published.get(name, 0) != value
    ]


# What may follow what in a case's history, by the stages it has reached.
def allowed(c: Course, kind: str) -> str:
    """'' if `kind` may be recorded next in a case whose course is `c`, else why not."""
    if c.died:
        return "该病例已死亡"
    if kind == ASYMPTOMATIC:
        return "" if c.first is None else "该病例已分类"
    if kind == CONFIRMED:
        return "" if c.first is None else "该病例已分类;无症状感染者转确诊请登记“转为确诊”"
    if kind == RECLASSIFIED:
        if c.asymptomatic is None or c.confirmed is not None:
            return "只有尚未转为确诊的无症状感染者才能转为确诊"
        return "" if c.released is None else "该无症状感染者已解除隔离医学观察"
    if kind == DISCHARGED:
        if c.confirmed is None:
            return "只有确诊病例才能治愈出院"
        return "" if c.discharged is None else "该病例已出院"
    if kind == RELEASED:
        if c.asymptomatic is None or c.confirmed is not None:
            return "只有无症状感染者才能解除隔离医学观察"
        return "" if c.released is None else "该无症状感染者已解除隔离医学观察"
    if kind == DIED:
        return "" if c.first is not None and not (c.discharged or c.released) else "状态不符"
    return f"未知事件类型 {kind}"
