"""Eligibility of areas as data (解除封控/管控、风险区降级、无疫小区): rule sets and assessments.

A rule set is a plain mapping (a TOML file in fangkong/zones/rules/) turned into frozen
dataclasses by `parse_rule_set`, which names every mistake in Chinese. `assess` takes the facts
of every area as of a time T and says, per area, what it is eligible for, with the evidence and
the reasons. Only facts recorded by T count, so an assessment as of a past time is the one the
system gave then. docs/zones.md ("Eligibility as data") is the reference; keep the two in step.

Days are Beijing calendar days (Asia/Shanghai, UTC+8, no daylight saving). "N days without a
case" means N whole days, each lying entirely after the case and entirely over by T: the day the
case was sampled in counts only if it was sampled at 00:00, and the day not yet over never
counts. A case sampled on 1 April at 10:00 makes 2–15 April the 14 days, so the criterion holds
from 16 April 00:00 (`met_from`); at 13 days (15 April, any hour) it does not.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fangkong.engine.evaluate import ZoneFact  # the code engine's, read the same way
from fangkong.engine.policies import (
    DESIGNATION_KINDS,
    RISK_AREAS,
    THREE_ZONES,
    ZONE_LABELS,
    ZONE_LEVELS,
    ZONE_SCHEMES,
    PolicyError,
    _Problems,
)

LOCAL = ZoneInfo("Asia/Shanghai")
NONE = "none"  # no standing level in the scheme (未划定 / 已解除)
SCHEMES = (THREE_ZONES, RISK_AREAS)
SCHEME_LABELS = {THREE_ZONES: "三区划分", RISK_AREAS: "风险区"}
LEVEL_LABELS = {**ZONE_LABELS, NONE: "未划定"}
COMMUNITY, TOWN = "community", "town"
AREA_KINDS = (COMMUNITY, TOWN)
LABEL_NAMES = {COMMUNITY: "无疫小区", TOWN: "无疫乡镇(街道)"}
KIND_LABELS = {
    "close_contact": "密切接触者",
    "secondary_contact": "次密切接触者",
    "spacetime_companion": "时空伴随者",
}
EXPOSURE, RELEASE = "exposure", "release"
MEASURE_LABELS = {EXPOSURE: "暴露(判定起始)", RELEASE: "解除隔离"}
# Actions a finding proposes.
RELEASE_ACTION, ESCALATE, AWARD, WITHDRAW = "release", "escalate", "award", "withdraw"
# A resident's place in a screening round.
NEGATIVE, POSITIVE, AWAITING, PENDING, MISSING = (
    "negative",
    "positive",
    "awaiting_retest",
    "pending",
    "missing",
)
MAX_DAYS = 60
MAX_SCREENING_DAYS = 7
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class ZoneRuleError(PolicyError):
    """A rule set that cannot be read: `problems` lists each mistake in Chinese."""


# -- days in Beijing time ------------------------------------------------------------------------


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL).date()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL)


def _first_whole_day(moment: datetime) -> date:
    """The first Beijing day lying entirely after `moment` (its own day if it is 00:00)."""
    day = local_day(moment)
    return day if moment == day_start(day) else day + timedelta(days=1)


def full_days_since(moment: datetime, now: datetime) -> int:
    """Whole Beijing days lying entirely after `moment` and over by `now` (never negative)."""
    return max((local_day(now) - _first_whole_day(moment)).days, 0)


def met_from(moment: datetime, days: int) -> datetime:
    """The first instant at which `days` whole days lie after `moment`."""
    return day_start(_first_whole_day(moment) + timedelta(days=days))


def window_start(now: datetime, days: int) -> datetime:
    """A screening "within the `days` days before" T: sampled from 00:00 of the day `days` days
    before the day of T, up to T."""
    return day_start(local_day(now) - timedelta(days=days))


def _iso(moment: datetime | None) -> str | None:
    """Times in JSON: ISO 8601 in Beijing time (+08:00), or null."""
    return moment.astimezone(LOCAL).isoformat() if moment is not None else None


def local(moment: datetime) -> str:
    return moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")


# -- facts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Positive:
    """A resident's positive result: the case's day is the day it was sampled; it is known from
    when the result was recorded."""

    sampled_at: datetime
    known_at: datetime


@dataclass(frozen=True)
class Contact:
    """A resident designated a contact: exposure is the designation's start, release its end
    (None: no end set, still isolated)."""

    kind: str
    start_at: datetime
    end_at: datetime | None
    recorded_at: datetime
    superseded_at: datetime | None = None  # a correction recorded then replaced it
    # How many designations this row stands for: the database sends one row per group (same
    # area, kind, in isolation or not) with the group's latest exposure and release.
    count: int = 1


@dataclass(frozen=True)
class Swab:
    """One sampling of a resident, with its tube's result standing at T (None: no result)."""

    sampled_at: datetime
    pool_size: int
    result: str | None


@dataclass(frozen=True)
class Screening:
    """Counts of residents in the round sampled from `window_start(T, days)` up to T."""

    days: int
    residents: int
    sampled: int
    negative: int
    awaiting_retest: int = 0
    positive: int = 0

    @property
    def missing(self) -> int:
        return self.residents - self.sampled

    @property
    def pending(self) -> int:
        return self.sampled - self.negative - self.awaiting_retest - self.positive

    @property
    def all_negative(self) -> bool:
        return self.residents > 0 and self.negative == self.residents

    def as_dict(self) -> dict:
        return {
            "days": self.days,
            "residents": self.residents,
            "sampled": self.sampled,
            "negative": self.negative,
            "missing": self.missing,
            "awaiting_retest": self.awaiting_retest,
            "positive": self.positive,
            "pending": self.pending,
        }


def resident_status(swabs: Iterable[Swab], start: datetime, now: datetime) -> str:
    """Where a resident stands in the round sampled in [start, now]: a single-tube positive
    makes them positive; a positive pooled tube with no single-tube negative sampled after it,
    awaiting retest; otherwise a negative makes them negative; a sampling without a result (or
    with an invalid one) is pending; no sampling, missing."""
    taken = [s for s in swabs if start <= s.sampled_at <= now]
    if not taken:
        return MISSING
    if any(s.result == POSITIVE and s.pool_size == 1 for s in taken):
        return POSITIVE
    pools = [s.sampled_at for s in taken if s.result == POSITIVE and s.pool_size > 1]
    if pools and not any(
        s.result == NEGATIVE and s.pool_size == 1 and s.sampled_at > max(pools) for s in taken
    ):
        return AWAITING
    if any(s.result == NEGATIVE for s in taken):
        return NEGATIVE
    return PENDING


def tally(residents: Iterable[Iterable[Swab]], days: int, now: datetime) -> Screening:
    """The round's counts over residents (each given by their swabs)."""
    start = window_start(now, days)
    counts = Counter(resident_status(swabs, start, now) for swabs in residents)
    total = sum(counts.values())
    return Screening(
        days=days,
        residents=total,
        sampled=total - counts[MISSING],
        negative=counts[NEGATIVE],
        awaiting_retest=counts[AWAITING],
        positive=counts[POSITIVE],
    )


@dataclass(frozen=True)
class AreaFacts:
    """What the rules read of one area (a community, or a town aggregating its communities).

    `positives` and `contacts` may be reduced to those that can matter (the latest by each
    time); facts recorded after T are ignored here too. `screenings` are counted as of T."""

    code: str
    name: str = ""
    county: str = ""
    kind: str = COMMUNITY
    zones: tuple[ZoneFact, ...] = ()
    positives: tuple[Positive, ...] = ()
    contacts: tuple[Contact, ...] = ()
    screenings: tuple[Screening, ...] = ()
    labelled_since: datetime | None = None  # the 无疫 label standing at T, if any


# -- standing levels -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    level: str  # NONE: no level in force in this scheme
    since: datetime | None  # when it began (NONE: when the last level ended, if one did)
    previous: str  # the level in force just before (NONE if none)

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]


def _in_effect(zones: Iterable[ZoneFact], at: datetime) -> ZoneFact | None:
    live = [z for z in zones if z.start_at <= at and (z.end_at is None or at < z.end_at)]
    return max(
        live, key=lambda z: (z.start_at, z.recorded_at, ZONE_LEVELS.index(z.level)), default=None
    )


def standing(zones: Iterable[ZoneFact], scheme: str, now: datetime) -> Standing:
    """The area's level in `scheme` at `now` from the levels recorded by then, as the code
    engine reads it (latest started, then later recorded, then stricter), and the one before."""
    known = [z for z in zones if z.recorded_at <= now and ZONE_SCHEMES[z.level] == scheme]
    current = _in_effect(known, now)
    if current is None:
        ended = [z for z in known if z.end_at is not None and z.end_at <= now]
        last = max(ended, key=lambda z: z.end_at, default=None)
        if last is None:
            return Standing(NONE, None, NONE)
        return Standing(NONE, last.end_at, last.level)
    rest = [z for z in known if z is not current]
    before = _in_effect(rest, current.start_at - timedelta(microseconds=1))
    return Standing(current.level, current.start_at, before.level if before else NONE)


# -- rule sets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criteria:
    days_without_case: int | None = None
    contact_kinds: tuple[str, ...] = ()
    contact_days: int | None = None
    contact_days_from: str = RELEASE
    screening_days: int | None = None
    days_at_level: int | None = None
    county_clear_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class Release:
    levels: tuple[str, ...]  # from
    to: str
    criteria: Criteria
    previous: tuple[str, ...] = ()  # only if the level before was one of these


@dataclass(frozen=True)
class Escalation:
    levels: tuple[str, ...]  # from (NONE: no level)
    to: str
    recent_days: int


@dataclass(frozen=True)
class EpidemicFree:
    criteria: Criteria
    areas: tuple[str, ...] = AREA_KINDS
    withdraw_on_stale_screening: bool = False


@dataclass(frozen=True)
class RuleSet:
    id: str
    title: str
    scheme: str
    releases: tuple[Release, ...] = ()
    escalation: Escalation | None = None
    epidemic_free: EpidemicFree | None = None

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(level for level in ZONE_LEVELS if ZONE_SCHEMES[level] == self.scheme)


TOP_KEYS = ("id", "title", "scheme", "release", "escalate", "epidemic_free")
CRITERIA_KEYS = (
    "days_without_case",
    "contact_kinds",
    "contact_days",
    "contact_days_from",
    "screening_days",
)
_CONDITIONS = ("days_without_case", "contact_kinds", "contact_days", "screening_days")
RELEASE_KEYS = ("from", "previous", "to", *CRITERIA_KEYS, "days_at_level", "county_clear_of")
ESCALATE_KEYS = ("from", "to", "recent_days")
EPIDEMIC_FREE_KEYS = ("areas", *CRITERIA_KEYS, "withdraw_on_stale_screening")


def parse_rule_set(data: dict) -> RuleSet:
    """Build a RuleSet from a mapping, or raise ZoneRuleError listing every problem."""
    problems = _Problems()
    if not isinstance(data, dict):
        raise ZoneRuleError(["规则文件应为一个表(TOML)或对象(JSON)"])
    problems.unknown("", data, TOP_KEYS)
    rule_id = data.get("id", "")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        problems.append("id: 应为2–63位小写字母、数字或连字符")
    title = data.get("title", "")
    if not isinstance(title, str) or not title.strip():
        problems.append("title: 必填,应为文本")
        title = ""
    scheme = data.get("scheme")
    if scheme not in SCHEMES:
        problems.append(f"scheme: 应为 {THREE_ZONES}(三区划分)或 {RISK_AREAS}(风险区)")
        scheme = ""
    levels = tuple(level for level in ZONE_LEVELS if ZONE_SCHEMES[level] == scheme)
    raw = data.get("release", [])
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        problems.append("release: 应为 [[release]] 表的列表")
        raw = []
    releases = tuple(_release(r, f"release[{i}]", levels, problems) for i, r in enumerate(raw))
    escalation = None
    if "escalate" in data:
        escalation = _escalation(data["escalate"], levels, problems)
    epidemic_free = None
    if "epidemic_free" in data:
        epidemic_free = _epidemic_free(data["epidemic_free"], problems)
    if not releases and escalation is None and epidemic_free is None:
        problems.append("规则文件至少应有 release、escalate 或 epidemic_free 之一")
    if problems:
        raise ZoneRuleError(list(problems))
    return RuleSet(rule_id, title.strip(), scheme, releases, escalation, epidemic_free)


def _days(data: dict, key: str, where: str, problems: _Problems, top: int = MAX_DAYS):
    if key not in data:
        return None
    value = problems.typed(f"{where}{key}", data[key], int)
    if value is not None and not 1 <= value <= top:
        problems.append(f"{where}{key}: 应为1–{top}的整数")
        return None
    return value


def _levels(value, name: str, allowed: tuple[str, ...], problems: _Problems) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        problems.append(f"{name}: 应为 {', '.join(allowed)} 中的一个或多个")
        return ()
    wrong = [v for v in value if v not in allowed]
    if wrong or len(set(value)) != len(value):
        problems.append(f"{name}: 应为 {', '.join(allowed)} 中的一个或多个,不重复")
        return tuple(v for v in dict.fromkeys(value) if v in allowed)
    return tuple(value)


def _criteria(data: dict, where: str, problems: _Problems) -> Criteria:
    kinds: tuple[str, ...] = ()
    if "contact_kinds" in data:
        kinds = _levels(data["contact_kinds"], f"{where}contact_kinds", DESIGNATION_KINDS, problems)
    contact_days = _days(data, "contact_days", where, problems)
    if ("contact_kinds" in data) != ("contact_days" in data):
        problems.append(f"{where}contact_kinds 与 contact_days 须同时给出")
    measure = data.get("contact_days_from", RELEASE)
    if measure not in (EXPOSURE, RELEASE):
        problems.append(f"{where}contact_days_from: 应为 {EXPOSURE}(暴露)或 {RELEASE}(解除隔离)")
        measure = RELEASE
    return Criteria(
        days_without_case=_days(data, "days_without_case", where, problems),
        contact_kinds=kinds,
        contact_days=contact_days,
        contact_days_from=measure,
        screening_days=_days(data, "screening_days", where, problems, MAX_SCREENING_DAYS),
    )


def _release(data, where: str, levels: tuple[str, ...], problems: _Problems) -> Release:
    if not isinstance(data, dict):
        problems.append(f"{where}: 应为表([[release]] 下写 from、to 等)")
        return Release((), NONE, Criteria())
    problems.unknown(f"{where}.", data, RELEASE_KEYS)
    start = _levels(data.get("from"), f"{where}.from", levels, problems)
    previous = ()
    if "previous" in data:
        previous = _levels(data["previous"], f"{where}.previous", (*levels, NONE), problems)
    to = data.get("to")
    if to not in (*levels, NONE):
        problems.append(f"{where}.to: 应为 {', '.join((*levels, NONE))} 之一")
        to = NONE
    elif to in start:
        problems.append(f"{where}.to: 不能与 from 相同")
    criteria = _criteria(data, f"{where}.", problems)
    county: tuple[str, ...] = ()
    if "county_clear_of" in data:
        county = _levels(data["county_clear_of"], f"{where}.county_clear_of", levels, problems)
    criteria = replace(
        criteria,
        days_at_level=_days(data, "days_at_level", f"{where}.", problems),
        county_clear_of=county,
    )
    if not any(key in data for key in (*_CONDITIONS, "days_at_level", "county_clear_of")):
        problems.append(f"{where}: 至少需要一个条件(days_without_case、screening_days 等)")
    return Release(start, to, criteria, previous)


def _escalation(data, levels: tuple[str, ...], problems: _Problems) -> Escalation | None:
    if not isinstance(data, dict):
        problems.append("escalate: 应为表([escalate] 下写 from、to、recent_days)")
        return None
    problems.unknown("escalate.", data, ESCALATE_KEYS)
    start = _levels(data.get("from"), "escalate.from", (*levels, NONE), problems)
    to = data.get("to")
    if to not in levels:
        problems.append(f"escalate.to: 应为 {', '.join(levels)} 之一")
    elif to in start:
        problems.append("escalate.to: 不能与 from 相同")
    recent = _days(data, "recent_days", "escalate.", problems)
    if "recent_days" not in data:
        problems.append("escalate.recent_days: 必填(多少天内采样的阳性算作新增)")
    return Escalation(start, str(to), recent or 1)


def _epidemic_free(data, problems: _Problems) -> EpidemicFree | None:
    if not isinstance(data, dict):
        problems.append("epidemic_free: 应为表([epidemic_free] 下写条件)")
        return None
    problems.unknown("epidemic_free.", data, EPIDEMIC_FREE_KEYS)
    areas = AREA_KINDS
    if "areas" in data:
        areas = _levels(data["areas"], "epidemic_free.areas", AREA_KINDS, problems)
    stale = problems.typed(
        "epidemic_free.withdraw_on_stale_screening",
        data.get("withdraw_on_stale_screening", False),
        bool,
    )
    criteria = _criteria(data, "epidemic_free.", problems)
    if not any(key in data for key in _CONDITIONS):
        problems.append("epidemic_free: 至少需要一个条件(days_without_case、screening_days 等)")
    return EpidemicFree(criteria, areas, bool(stale))


def check_rule_sets(rule_sets: Iterable[RuleSet]) -> None:
    """Rule sets used together: one per scheme, and one saying what earns a 无疫 label."""
    problems = []
    seen: dict[str, str] = {}
    labels = []
    for rules in rule_sets:
        if rules.scheme in seen:
            problems.append(
                f"{rules.id}: 与 {seen[rules.scheme]} 同为{SCHEME_LABELS[rules.scheme]}的规则"
            )
        seen.setdefault(rules.scheme, rules.id)
        if rules.epidemic_free is not None:
            labels.append(rules.id)
    if len(labels) > 1:
        problems.append(f"{'、'.join(labels)}: 只能有一个规则文件规定无疫小区条件(epidemic_free)")
    if problems:
        raise ZoneRuleError(problems)


# -- assessing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One criterion: met or not, in words an officer checks against the evidence."""

    name: str  # cases, contacts, screening, days_at_level, county, positive
    met: bool
    text: str
    met_from: datetime | None = None  # a criterion only time is missing for: when it holds


@dataclass(frozen=True)
class Finding:
    """What an area is (or is not) eligible for under one rule set."""

    action: str  # release, escalate, award, withdraw
    rule_set: str
    level: str  # the standing level (NONE for a label)
    to: str  # the level it would move to, or the label's name
    due: bool  # eligible (release, award) or called for (escalate, withdraw)
    checks: tuple[Check, ...]
    # escalate: when the latest new positive became known (a proposal made since answers it)
    basis: datetime | None = None

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why it is due (escalate, withdraw) or why not yet (release, award)."""
        if self.action == ESCALATE:
            return tuple(c.text for c in self.checks if c.met)
        return tuple(c.text for c in self.checks if not c.met)

    def as_dict(self) -> dict:
        return {
            "action": self.action,
            "rule_set": self.rule_set,
            "level": self.level,
            "to": self.to,
            "due": self.due,
            "reasons": list(self.reasons),
            "checks": [
                {
                    "name": c.name,
                    "met": c.met,
                    "text": c.text,
                    "met_from": _iso(c.met_from),
                }
                for c in self.checks
            ],
        }


@dataclass(frozen=True)
class ContactEvidence:
    kind: str
    count: int
    in_isolation: int
    last_exposure: datetime | None
    last_release: datetime | None


@dataclass(frozen=True)
class Evidence:
    last_positive: Positive | None
    days_without_case: int | None  # None: no case known
    contacts: tuple[ContactEvidence, ...]
    screenings: tuple[Screening, ...]

    def as_dict(self) -> dict:
        last = self.last_positive
        return {
            "last_positive_sampled_at": _iso(last.sampled_at) if last else None,
            "last_positive_known_at": _iso(last.known_at) if last else None,
            "days_without_case": self.days_without_case,
            "contacts": [
                {
                    "kind": c.kind,
                    "count": c.count,
                    "in_isolation": c.in_isolation,
                    "last_exposure": _iso(c.last_exposure),
                    "last_release": _iso(c.last_release),
                }
                for c in self.contacts
            ],
            "screenings": [s.as_dict() for s in self.screenings],
        }


@dataclass(frozen=True)
class Assessment:
    code: str
    name: str
    kind: str
    county: str
    as_of: datetime
    levels: tuple[tuple[str, Standing], ...]  # (scheme, standing), schemes of the rule sets
    evidence: Evidence
    findings: tuple[Finding, ...]

    @property
    def due(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.due)

    def finding(self, action: str) -> Finding | None:
        return next((f for f in self.findings if f.action == action), None)

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "county": self.county,
            "as_of": _iso(self.as_of),
            "levels": {
                scheme: {
                    "level": s.level,
                    "since": _iso(s.since),
                    "previous": s.previous,
                }
                for scheme, s in self.levels
            },
            "evidence": self.evidence.as_dict(),
            "findings": [f.as_dict() for f in self.findings],
        }


def _known_positives(facts: AreaFacts, now: datetime) -> list[Positive]:
    return [p for p in facts.positives if p.known_at <= now and p.sampled_at <= now]


def _known_contacts(facts: AreaFacts, now: datetime) -> list[Contact]:
    return [
        c
        for c in facts.contacts
        if c.recorded_at <= now
        and c.start_at <= now
        and not (c.superseded_at is not None and c.superseded_at <= now)
    ]


def _isolated(contact: Contact, now: datetime) -> bool:
    return contact.end_at is None or contact.end_at > now


def evidence_of(facts: AreaFacts, now: datetime) -> Evidence:
    positives = _known_positives(facts, now)
    last = max(positives, key=lambda p: (p.sampled_at, p.known_at), default=None)
    contacts = _known_contacts(facts, now)
    per_kind = []
    for kind in DESIGNATION_KINDS:
        these = [c for c in contacts if c.kind == kind]
        if not these:
            continue
        released = [c.end_at for c in these if not _isolated(c, now)]
        per_kind.append(
            ContactEvidence(
                kind,
                sum(c.count for c in these),
                sum(c.count for c in these if _isolated(c, now)),
                max(c.start_at for c in these),
                max(released, default=None),
            )
        )
    return Evidence(
        last,
        full_days_since(last.sampled_at, now) if last else None,
        tuple(per_kind),
        facts.screenings,
    )


def _cases(facts: AreaFacts, days: int, now: datetime) -> Check:
    last = evidence_of(facts, now).last_positive
    if last is None:
        return Check("cases", True, f"无阳性感染者记录(要求连续{days}天无新增)")
    clear = full_days_since(last.sampled_at, now)
    when = met_from(last.sampled_at, days)
    if clear >= days:
        return Check(
            "cases",
            True,
            f"末例阳性感染者采样于{local(last.sampled_at)},已连续{clear}天无新增(要求{days}天)",
        )
    return Check(
        "cases",
        False,
        f"末例阳性感染者采样于{local(last.sampled_at)},连续无新增仅{clear}天,"
        f"不足{days}天({local(when)}起满足)",
        when,
    )


def _kinds_text(kinds: tuple[str, ...]) -> str:
    return "、".join(KIND_LABELS[k] for k in kinds)


def _contacts(facts: AreaFacts, criteria: Criteria, now: datetime) -> Check:
    kinds, days = criteria.contact_kinds, criteria.contact_days
    who = _kinds_text(kinds)
    these = [c for c in _known_contacts(facts, now) if c.kind in kinds]
    isolated = [c for c in these if _isolated(c, now)]
    if isolated:
        return Check("contacts", False, f"尚有{sum(c.count for c in isolated)}名{who}在隔离期内")
    if not these:
        return Check("contacts", True, f"无{who}")
    measure = criteria.contact_days_from
    last = max(c.start_at if measure == EXPOSURE else c.end_at for c in these)
    clear = full_days_since(last, now)
    words = f"末位{who}{MEASURE_LABELS[measure]}于{local(last)}"
    if clear >= days:
        return Check("contacts", True, f"{words},已满{clear}天(要求{days}天)")
    when = met_from(last, days)
    return Check("contacts", False, f"{words},仅{clear}天,不足{days}天({local(when)}起满足)", when)


def screening_text(s: Screening, now: datetime) -> str:
    head = f"{local(window_start(now, s.days))}以来的筛查:居民{s.residents}人"
    if s.all_negative:
        return f"{head},均为阴性"
    return (
        f"{head},已采样{s.sampled}人,阴性{s.negative}人,未采样{s.missing}人,"
        f"混管阳性待复核{s.awaiting_retest}人,阳性{s.positive}人,结果未出{s.pending}人"
    )


def _screening(facts: AreaFacts, days: int, now: datetime, stale_ok: bool = False) -> Check:
    found = next((s for s in facts.screenings if s.days == days), None)
    if found is None:
        return Check("screening", False, f"无{days}天内的筛查数据")
    if found.residents == 0:
        return Check("screening", False, "无登记居民,无法判定筛查")
    text = screening_text(found, now)
    if stale_ok:  # a kept label lapses on what a round found, not on a round not yet held
        return Check("screening", found.positive + found.awaiting_retest == 0, text)
    return Check("screening", found.all_negative, text)


def _days_at_level(standing_: Standing, days: int, now: datetime) -> Check:
    clear = full_days_since(standing_.since, now)
    words = f"自{local(standing_.since)}为{standing_.label}"
    if clear >= days:
        return Check("days_at_level", True, f"{words},已满{clear}天(要求{days}天)")
    when = met_from(standing_.since, days)
    return Check(
        "days_at_level", False, f"{words},仅{clear}天,不足{days}天({local(when)}起满足)", when
    )


def _county(open_count: int, levels: tuple[str, ...]) -> Check:
    names = "、".join(LEVEL_LABELS[level] for level in levels)
    if open_count:
        return Check("county", False, f"本区县尚有{open_count}个{names}未解除")
    return Check("county", True, f"本区县已无{names}")


def _checks(
    facts: AreaFacts,
    criteria: Criteria,
    now: datetime,
    standing_: Standing | None = None,
    county_open: int = 0,
    stale_ok: bool = False,
) -> tuple[Check, ...]:
    checks = []
    if criteria.days_without_case is not None:
        checks.append(_cases(facts, criteria.days_without_case, now))
    if criteria.contact_kinds:
        checks.append(_contacts(facts, criteria, now))
    if criteria.screening_days is not None:
        checks.append(_screening(facts, criteria.screening_days, now, stale_ok))
    if criteria.days_at_level is not None and standing_ is not None:
        checks.append(_days_at_level(standing_, criteria.days_at_level, now))
    if criteria.county_clear_of:
        checks.append(_county(county_open, criteria.county_clear_of))
    return tuple(checks)


def _release_finding(
    rules: RuleSet, facts: AreaFacts, at: Standing, county: Counter, now: datetime
) -> Finding | None:
    if at.level == NONE:
        return None
    rule = next(
        (
            r
            for r in rules.releases
            if at.level in r.levels and (not r.previous or at.previous in r.previous)
        ),
        None,
    )
    if rule is None:
        return None
    open_count = sum(county[(facts.county, level)] for level in rule.criteria.county_clear_of)
    checks = _checks(facts, rule.criteria, now, at, open_count)
    return Finding(RELEASE_ACTION, rules.id, at.level, rule.to, all(c.met for c in checks), checks)


def _escalation_finding(
    rules: RuleSet, facts: AreaFacts, at: Standing, now: datetime
) -> Finding | None:
    rule = rules.escalation
    if rule is None or at.level not in rule.levels:
        return None
    new = [
        p
        for p in _known_positives(facts, now)
        if (at.since is None or p.known_at > at.since)
        and full_days_since(p.sampled_at, now) < rule.recent_days
    ]
    latest = max(new, key=lambda p: (p.sampled_at, p.known_at), default=None)
    if latest is None:
        check = Check("positive", False, f"{at.label}内无新增阳性感染者")
    else:
        check = Check(
            "positive",
            True,
            f"{at.label}内新增阳性感染者{len(new)}例(最近一例采样于{local(latest.sampled_at)},"
            f"入库于{local(latest.known_at)}),应即划为{LEVEL_LABELS[rule.to]}",
        )
    basis = max((p.known_at for p in new), default=None)
    return Finding(ESCALATE, rules.id, at.level, rule.to, check.met, (check,), basis)


def _label_finding(rules: RuleSet, facts: AreaFacts, now: datetime) -> Finding | None:
    rule = rules.epidemic_free
    if rule is None or facts.kind not in rule.areas:
        return None
    name = LABEL_NAMES[facts.kind]
    if facts.labelled_since is None:
        checks = _checks(facts, rule.criteria, now)
        return Finding(AWARD, rules.id, NONE, name, all(c.met for c in checks), checks)
    checks = _checks(facts, rule.criteria, now, stale_ok=not rule.withdraw_on_stale_screening)
    return Finding(WITHDRAW, rules.id, NONE, name, not all(c.met for c in checks), checks)


def assess(
    rule_sets: Iterable[RuleSet], areas: Iterable[AreaFacts], now: datetime
) -> list[Assessment]:
    """Each area's assessment as of `now`, in the order given."""
    rule_sets = tuple(rule_sets)
    areas = list(areas)
    schemes = tuple(dict.fromkeys(r.scheme for r in rule_sets))
    levels = {a.code: {scheme: standing(a.zones, scheme, now) for scheme in schemes} for a in areas}
    county: Counter = Counter(
        (a.county, s.level) for a in areas if a.kind == COMMUNITY for s in levels[a.code].values()
    )
    out = []
    for area in areas:
        findings = []
        for rules in rule_sets:
            at = levels[area.code][rules.scheme]
            if area.kind == COMMUNITY:
                findings.append(_escalation_finding(rules, area, at, now))
                findings.append(_release_finding(rules, area, at, county, now))
            findings.append(_label_finding(rules, area, now))
        out.append(
            Assessment(
                area.code,
                area.name,
                area.kind,
                area.county,
                now,
                tuple(levels[area.code].items()),
                evidence_of(area, now),
                tuple(f for f in findings if f is not None),
            )
        )
    return out
