"""The zones of April 2022, replayed so that the announced figures come out of the rules.

The press conference of 21 April: "截至19日全市中风险地区减少至31个,创建公布'无疫小区'1144个、
无疫乡镇(街道)99个", "自20日18时起,我市将4个区域调整为低风险区。同日,公布了第十一批248个'无疫小区'".
Nothing here writes a level, a label or a count. The demo designs the *facts* — which
communities have a positive when, their contacts, which communities are screened the day before
each batch — loads them through ingestion day by day, sweeps the clock as the worker would, and
an officer (fangkong.zones.demo) acts on what the rules (fangkong/zones/rules/*.toml) find:

- a positive (single tube) sampled on day d is loaded that evening; the sweep's follow-up
  (`do_assess`) proposes 封控, the officer approves and publishes it and places the community
  in 高风险区; its close contacts are designated that evening, their end loaded as a correction;
- day d+7 its residents are screened (negative): on d+8 the rules find 高→中 due (7 days, a round
  on day 7), published at 10:00 from 18:00; on d+12 中→低 (10 days, 3 days at 中风险区);
- the communities with a positive on 3 or 4 April are screened on d+14 and released to 防范区
  on d+15 (14 days, contacts' exposure 14 days past and released, a round within 2 days);
- 无疫小区 batches 1–10 are published on 10–19 April, 11 on 20 April: the communities chosen for
  batch k are screened (all residents, negative) the day before; at 10:00 the officer publishes
  every community and town the rules find eligible. Towns (街道/乡镇) are screened whole with
  their batch; every other street keeps one community unscreened, so it never qualifies whole.

So, as of 20 April 00:00, 中风险区 = the positives of 8 April (4, released to 低 from 20 April
18:00) and of 9–11 April (27); those of 3–7 April are 低 by 19 April 18:00.

The figures hold exactly for a city of `FULL_SIZE` residents or more (every batch needs its
communities inhabited); a smaller city gets them scaled by residents / FULL_SIZE (`figures`).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from fangkong.engine.gate_rules import LOCAL

FULL_SIZE = 20_000
BATCH_DAYS = tuple(date(2022, 4, d) for d in range(10, 21))  # batches 1–11
BATCH_SIZES = (48, 63, 85, 97, 112, 126, 138, 147, 156, 172, 248)  # 1–10: 1 144; 11: 248
TOWNS = 99
# Communities with a positive, by day of April: 8 April's four step down to 低 on 20 April.
POSITIVES = {3: 3, 4: 3, 5: 2, 6: 2, 7: 2, 8: 4, 9: 9, 10: 9, 11: 9}
RELEASED_BY_20 = (3, 4)  # their 封控 is released before 20 April (d + 15)
FIRST_DAY, LAST_DAY = date(2022, 4, 1), date(2022, 4, 20)
LAB = "长春市疾病预防控制中心实验室"
NANGUAN = "220102"  # the demo's checkpoints are there: it needs a 防范区 and a 封控区


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL)


@dataclass(frozen=True)
class Figures:
    batches: tuple[int, ...]  # sizes of 无疫小区 batches 1–11
    towns: int
    positives: dict[int, int]  # day of April → communities

    @property
    def communities_by_19(self) -> int:
        return sum(self.batches[:10])

    @property
    def medium_by_19(self) -> int:
        return sum(n for d, n in self.positives.items() if d >= 8)

    @property
    def low_on_20(self) -> int:
        return self.positives.get(8, 0)


def figures(residents: int) -> Figures:
    """The announced figures, scaled down for a city smaller than FULL_SIZE."""
    scale = min(1.0, residents / FULL_SIZE)
    if scale == 1.0:
        return Figures(BATCH_SIZES, TOWNS, dict(POSITIVES))
    return Figures(
        tuple(max(1, round(n * scale)) for n in BATCH_SIZES),
        max(1, round(TOWNS * scale)),
        {d: max(1, round(n * scale)) for d, n in POSITIVES.items()},
    )


@dataclass
class Plan:
    figures: Figures
    positive_day: dict[str, int] = field(default_factory=dict)  # community → day of April
    batch_of: dict[str, int] = field(default_factory=dict)  # community → batch (1–11)
    towns: dict[str, int] = field(default_factory=dict)  # street → batch


def make_plan(
    inhabited: list[tuple[str, str, str]], residents: int, seed: int, busiest: list[str]
) -> Plan:
    """Who has a positive when, and which communities and towns are screened for which batch.
    `inhabited`: (community, street, county) of every community with residents, by code;
    `busiest`: communities by number of residents, most first."""
    fig = figures(residents)
    rng = np.random.default_rng([seed, 4_2022])
    street_of = {c: s for c, s, _ in inhabited}
    by_street: dict[str, list[str]] = defaultdict(list)
    for community, street, _ in inhabited:
        by_street[street].append(community)
    plan = Plan(fig)
    # Positives: 南关区's busiest community on 3 April (released to 防范区 on 18 April) and its
    # next one on 9 April (still 封控 after 20 April), the rest anywhere.
    nanguan = [c for c in busiest if c.startswith(NANGUAN)][:2]
    days = [d for d, n in sorted(fig.positives.items()) for _ in range(n)]
    for community, day in zip(nanguan, (3, 9), strict=False):
        plan.positive_day[community] = day
        days.remove(day)
    others = [c for c, _, _ in inhabited if c not in plan.positive_day]
    picked = [others[i] for i in rng.permutation(len(others))[: len(days)]]
    plan.positive_day.update(zip(picked, days, strict=True))
    hit_streets = {street_of[c] for c in plan.positive_day}
    # Towns: the streets with the fewest inhabited communities and no positive.
    candidates = sorted(
        (s for s in by_street if s not in hit_streets), key=lambda s: (len(by_street[s]), s)
    )
    towns = candidates[: fig.towns]
    weights = np.array(fig.batches[:10], np.float64)
    from fangkong.demo.people import allocate

    per_batch = allocate(fig.towns, weights)
    queue = iter(towns)
    for batch, count in enumerate(per_batch.tolist(), 1):
        for _ in range(count):
            street = next(queue)
            plan.towns[street] = batch
            for community in by_street[street]:
                plan.batch_of[community] = batch
    # Every other street keeps one community unscreened before 21 April.
    reserved = set()
    for street, members in by_street.items():
        if street not in plan.towns:
            reserved.add(next((c for c in members if c not in plan.positive_day), members[0]))
    pool = [
        c
        for c, _, _ in inhabited
        if c not in plan.positive_day and c not in reserved and c not in plan.batch_of
    ]
    pool = [pool[i] for i in rng.permutation(len(pool))]
    for batch, size in enumerate(fig.batches, 1):
        short = size - sum(1 for b in plan.batch_of.values() if b == batch)
        if short < 0 or short > len(pool):
            raise ValueError(f"第{batch}批无疫小区无法凑足{size}个:城市太小")
        for community in pool[:short]:
            plan.batch_of[community] = batch
        pool = pool[short:]
    return plan


# -- the facts, day by day -----------------------------------------------------------------------


class Day:
    """The rows one day adds: samplings and results (loaded 20:00), designations."""

    def __init__(self) -> None:
        self.samplings: list[dict] = []
        self.results: list[dict] = []
        self.designations: list[dict] = []


def _tube(day: date, kind: str, n: int) -> str:
    return f"A{day:%Y%m%d}{kind}{n:06d}"


def facts(plan: Plan, people: dict[str, list[str]], site: dict[str, str]) -> dict[date, Day]:
    """Rows per day. `people`: community → ID numbers (ordered); `site`: community → site."""
    days: dict[date, Day] = defaultdict(Day)
    tubes: dict[date, int] = defaultdict(int)

    def screen(community: str, day: date) -> None:
        members = people[community]
        sampled = at(day, 9)
        for start in range(0, len(members), 10):
            tubes[day] += 1
            tube = _tube(day, "S", tubes[day])
            for i, id_number in enumerate(members[start : start + 10]):
                days[day].samplings.append(
                    {
                        "id_number": id_number,
                        "tube": tube,
                        "pool_size": 10,
                        "site_code": site[community],
                        "sampled_at": (sampled + timedelta(seconds=45 * i)).isoformat(),
                    }
                )
            days[day].results.append(
                {
                    "tube": tube,
                    "result": "negative",
                    "lab": LAB,
                    "reported_at": at(day, 19).isoformat(),
                }
            )

    for community, d in sorted(plan.positive_day.items()):
        day = date(2022, 4, d)
        case, *neighbours = people[community]
        tubes[day] += 1
        tube = _tube(day, "P", tubes[day])
        days[day].samplings.append(
            {
                "id_number": case,
                "tube": tube,
                "pool_size": 1,
                "site_code": site[community],
                "sampled_at": at(day, 8).isoformat(),
            }
        )
        days[day].results.append(
            {"tube": tube, "result": "positive", "lab": LAB, "reported_at": at(day, 18).isoformat()}
        )
        for kind, who, length in (
            ("close_contact", neighbours[:2], 14),
            ("secondary_contact", neighbours[2:3], 7),
        ):
            for id_number in who:
                row = {
                    "id_number": id_number,
                    "kind": kind,
                    "start_at": at(day, 19).isoformat(),
                    "end_at": "",
                    "designated_by": "长春市疾病预防控制中心",
                }
                days[day].designations.append(row)
                ended = day + timedelta(days=length - 1)
                days[ended].designations.append(
                    {
                        **row,
                        "end_at": (at(day, 19) + timedelta(days=length)).isoformat(),
                        "correction_reason": "隔离期满解除",
                    }
                )
        screen(community, day + timedelta(days=7))  # the round on day 7 (高→中)
        if d in RELEASED_BY_20:
            screen(community, day + timedelta(days=14))  # the round before release (封控)
    for community, batch in sorted(plan.batch_of.items()):
        screen(community, BATCH_DAYS[batch - 1] - timedelta(days=1))
    return days


# -- the replay ----------------------------------------------------------------------------------


def _load(day: date, rows: Day) -> None:
    from fangkong.ingest.actions import do_ingest

    evening = at(day, 20)
    for kind, data in (
        ("samplings", rows.samplings),
        ("results", rows.results),
        ("designations", [r for r in rows.designations if "correction_reason" not in r]),
        ("designations", [r for r in rows.designations if "correction_reason" in r]),
    ):
        if data:
            report = do_ingest(kind, rows=data, now=evening, source="demo")
            if report.failure or report.rejected:
                why = report.failure or report.errors[:3]
                raise RuntimeError(f"演示数据({kind},{day})导入失败:{why}")


def _sweep(now: datetime) -> None:
    """What the worker does at `now`: the clock's sweep, then its follow-ups (the zones'
    assessment: a positive loaded since proposes 封控)."""
    from fangkong.clock.actions import do_sweep
    from fangkong.clock.hooks import run_after_sweep

    do_sweep(now)
    run_after_sweep(now)


def _city() -> tuple[list[tuple[str, str, str]], dict[str, list[str]], dict[str, str], list[str]]:
    from django.db.models import Count

    from fangkong.people.models import Person
    from fangkong.places.models import Division
    from fangkong.testing.models import TestingSite

    people: dict[str, list[str]] = defaultdict(list)
    for community, id_number in Person.objects.order_by("community_id", "id_number").values_list(
        "community_id", "id_number"
    ):
        people[community].append(id_number)
    divisions = Division.objects.filter(code__in=list(people)).values_list(
        "code", "parent_id", "county_code"
    )
    inhabited = sorted(divisions)
    first_site: dict[str, str] = {}
    for code, street in TestingSite.objects.order_by("code").values_list(
        "code", "community__parent_id"
    ):
        first_site.setdefault(street, code)
    site = {c: first_site[s] for c, s, _ in inhabited}
    busiest = [
        row["community_id"]
        for row in Person.objects.values("community_id")
        .annotate(n=Count("id"))
        .order_by("-n", "community_id")
    ]
    return inhabited, people, site, busiest


def replay_april(residents: int, seed: int) -> dict:
    """Replay 1–20 April (see the module's docstring); once: a database that already holds
    a 无疫 batch is left as it is. Returns what was published, and the seconds it took."""
    from fangkong.zones.demo import approve_automatic, publish_eligible, release_due
    from fangkong.zones.eligibility import assess_areas
    from fangkong.zones.models import EpidemicFreeBatch

    if EpidemicFreeBatch.objects.exists():
        return {"replayed": False}
    started = time.perf_counter()
    inhabited, people, site, busiest = _city()
    plan = make_plan(inhabited, residents, seed, busiest)
    rows = facts(plan, people, site)
    log = []
    day = FIRST_DAY
    while day <= LAST_DAY:
        _sweep(at(day, 0))
        if day.day >= 3:
            # The officer's morning: the batch of what the rules find eligible, then the
            # releases they find due, both from one assessment of 10:00.
            assessments = assess_areas(at(day, 10))
            published = publish_eligible(assessments, at(day, 10)) if day in BATCH_DAYS else {}
            released = release_due(assessments, at(day, 10))
            if released or published:
                log.append({"day": day.isoformat(), "released": released, **published})
        _sweep(at(day, 12))
        _sweep(at(day, 18))
        if day in rows:
            _load(day, rows[day])
        _sweep(at(day, 20))
        approve_automatic(at(day, 20, 30))
        day += timedelta(days=1)
    _sweep(at(LAST_DAY + timedelta(days=1), 0))
    return {
        "replayed": True,
        "figures": plan.figures,
        "days": log,
        "seconds": round(time.perf_counter() - started, 3),
    }
