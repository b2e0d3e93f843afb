"""The cases of April 2022, replayed so that the bulletin of 20 April comes out of the rules.

The press conference of 21 April read the bulletin of 20 April:
"4月20日0-24时,全市新增本地确诊病例88例(含32例无症状感染者转为确诊病例),新增本地无症状感染者
233例。以上人员均为隔离管控期间筛查新冠病毒核酸阳性感染者。4月20日0-24时,我市新增治愈出院确诊病例
409例,新增解除隔离医学观察无症状感染者680例。"

Nothing here writes a figure or a sentence. The demo designs the *facts* — which residents fall
ill when, how they are classified, when the earlier ones leave hospital or observation — and
records them through the case registry's actions (fangkong.cases.actions), one transaction per
day, each day's reports recorded at 23:59 that day. The bulletin of 20 April is then drafted at
8:00 on 21 April by one command-centre officer and approved and published by the other; its
figures and text are fangkong.cases' counting rules (figures.py) and wording (bulletin.toml)
applied to the stored events.

The timeline, over 3–20 April:

- confirmed on 3–12 April, discharged on 20 April (after 8 days or more in hospital): the 409;
- asymptomatic on 3–13 April, released from observation on 20 April (7 days or more): the 680;
- asymptomatic on 14–19 April, confirmed (转为确诊) on 20 April: the 32 conversions;
- on 20 April, 88 − 32 = 56 residents confirmed directly and 233 found asymptomatic, every one
  of them in isolation or control-zone screening.

Earlier cases were found mostly there too; one in ten on a day before 20 April by community
screening. Cases are residents of the demo (`candidates`: none who already has a case — the
zones replay's positives open pending ones — and none of a community or town labelled 无疫).
The figures hold exactly for a city of `FULL_SIZE` residents or more; a smaller city gets each
scaled by residents / FULL_SIZE (`targets`), as the zones replay does.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from fangkong.demo.april import FULL_SIZE, at

BULLETIN_DAY = date(2022, 4, 20)
PRESS_MORNING = at(date(2022, 4, 21), 8)
# The seed's figures for 20 April (the press conference of 21 April).
NEW_CONFIRMED, CONVERSIONS, NEW_ASYMPTOMATIC, DISCHARGED, RELEASED = 88, 32, 233, 409, 680
IN_CONTROL = ("isolation", "control")
COMMUNITY_SHARE = 0.1  # of the cases found before 20 April


@dataclass(frozen=True)
class Targets:
    """The figures of 20 April the timeline is generated to."""

    new_confirmed: int
    of_which_conversions: int
    new_asymptomatic: int
    discharged: int
    released: int

    @property
    def cases(self) -> int:
        return self.new_confirmed + self.new_asymptomatic + self.discharged + self.released


def targets(residents: int) -> Targets:
    """The seed's figures, scaled down for a city smaller than FULL_SIZE."""
    scale = min(1.0, residents / FULL_SIZE)
    seed = (NEW_CONFIRMED, CONVERSIONS, NEW_ASYMPTOMATIC, DISCHARGED, RELEASED)
    if scale == 1.0:
        return Targets(*seed)
    return Targets(*(max(1, round(n * scale)) for n in seed))


@dataclass(frozen=True)
class Step:
    person: int  # Person pk
    kind: str  # an EventKind
    at: datetime
    found_by: str = ""  # on a case's first classification
    clinical_type: str = ""  # on a confirmation


def _moment(rng: np.random.Generator, day: date) -> datetime:
    """A time of the day when a report comes in (06:00–22:00)."""
    return at(day, 6) + timedelta(minutes=int(rng.integers(0, 16 * 60)))


def plan(people: list[int], t: Targets, seed: int) -> dict[date, list[Step]]:
    """Every event, by day. `people`: the residents who may fall ill (Person pks, ordered)."""
    if len(people) < t.cases:
        raise ValueError(f"城市太小:需要{t.cases}名病例,只有{len(people)}名居民可选")
    rng = np.random.default_rng([seed, 14_2022])
    chosen = iter(people[i] for i in rng.permutation(len(people))[: t.cases])
    days: dict[date, list[Step]] = defaultdict(list)

    def clinical() -> str:
        return "mild" if rng.random() < 0.85 else "ordinary"

    def found(day: date) -> str:
        if day < BULLETIN_DAY and rng.random() < COMMUNITY_SHARE:
            return "community"
        return IN_CONTROL[int(rng.integers(0, 2))]

    def classify(person: int, kind: str, first: int, last: int) -> date:
        day = date(2022, 4, int(rng.integers(first, last + 1)))
        ct = clinical() if kind == "confirmed" else ""
        days[day].append(Step(person, kind, _moment(rng, day), found(day), ct))
        return day

    for _ in range(t.discharged):  # confirmed 3–12 April, discharged on 20 April
        person = next(chosen)
        classify(person, "confirmed", 3, 12)
        days[BULLETIN_DAY].append(Step(person, "discharged", _moment(rng, BULLETIN_DAY)))
    for _ in range(t.released):  # asymptomatic 3–13 April, released on 20 April
        person = next(chosen)
        classify(person, "asymptomatic", 3, 13)
        days[BULLETIN_DAY].append(Step(person, "released", _moment(rng, BULLETIN_DAY)))
    for _ in range(t.of_which_conversions):  # asymptomatic 14–19 April, confirmed on 20 April
        person = next(chosen)
        classify(person, "asymptomatic", 14, 19)
        step = Step(person, "reclassified", _moment(rng, BULLETIN_DAY), clinical_type=clinical())
        days[BULLETIN_DAY].append(step)
    for _ in range(t.new_confirmed - t.of_which_conversions):
        classify(next(chosen), "confirmed", 20, 20)
    for _ in range(t.new_asymptomatic):
        classify(next(chosen), "asymptomatic", 20, 20)
    return {day: sorted(steps, key=lambda s: (s.at, s.person)) for day, steps in days.items()}


def record_day(day: date, steps: list[Step]) -> int:
    """Record a day's reports through the registry's actions, as recorded at 23:59 that day, in
    one transaction; returns the events recorded."""
    from django.db import transaction

    from fangkong.cases.actions import do_open_case, do_record_event
    from fangkong.cases.models import Case
    from fangkong.people.models import Person

    now = at(day, 23, 59)
    with transaction.atomic():
        persons = Person.objects.in_bulk([s.person for s in steps])
        cases = {c.person_id: c for c in Case.objects.filter(person_id__in=list(persons))}
        for step in steps:
            case = cases.get(step.person)
            if case is None:
                case = do_open_case(None, persons[step.person], now=now)
                cases[step.person] = case
            do_record_event(
                None,
                case,
                step.kind,
                step.at,
                now=now,
                clinical_type=step.clinical_type,
                found_by=step.found_by,
            )
    return len(steps)


def publish_bulletin(day: date = BULLETIN_DAY, now: datetime = PRESS_MORNING):
    """The press conference's morning: one officer drafts the day's bulletin from the stored
    events, the other approves and publishes it."""
    from fangkong.cases.actions import do_approve_bulletin, do_draft_bulletin, do_publish_bulletin
    from fangkong.zones.demo import officers

    drafter, approver = officers()
    bulletin = do_draft_bulletin(drafter, day, now=now)
    do_approve_bulletin(approver, bulletin, now=now)
    return do_publish_bulletin(approver, bulletin, now=now)


def candidates():
    """The residents who may fall ill, by pk: any without a case (the zones replay's positives
    open pending ones), outside the communities and towns labelled 无疫 (the rules granted
    those for having had no positive)."""
    from fangkong.people.models import Person
    from fangkong.zones.models import EpidemicFreeLabel

    labelled = EpidemicFreeLabel.objects.values("division_id")
    return (
        Person.objects.filter(case__isnull=True)
        .exclude(community_id__in=labelled)
        .exclude(community__parent_id__in=labelled)
        .order_by("pk")
    )


def replay_cases(residents: int, seed: int) -> dict:
    """Record the timeline and publish the bulletin of 20 April; once: a database that already
    holds a bulletin of that day, or any case event, is left as it is."""
    from fangkong.cases.models import Bulletin, CaseEvent

    if Bulletin.objects.filter(date=BULLETIN_DAY).exists() or CaseEvent.objects.exists():
        return {"replayed": False}
    started = time.perf_counter()
    t = targets(residents)
    people = list(candidates().values_list("pk", flat=True))
    events = sum(record_day(day, steps) for day, steps in sorted(plan(people, t, seed).items()))
    bulletin = publish_bulletin()
    return {
        "replayed": True,
        "targets": t,
        "events": events,
        "bulletin": {"date": bulletin.date.isoformat(), "version": bulletin.version},
        "text": bulletin.text,
        "seconds": round(time.perf_counter() - started, 3),
    }
