"""Reading a person's testing facts and deriving their state (see engine.testing_state).

`load_testing_facts` is the one reader of a person's samplings and their tubes' results: the
person page, the code explanation and the testing state all use it. `site_samplings_by_day`
counts a testing site's work for its page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from fangkong.engine.testing_state import (
    PersonTestState,
    ResultFact,
    SamplingFact,
    derive_testing_state,
)
from fangkong.testing.models import LabResult, Sampling

BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass
class TestingFacts:
    samplings: list[Sampling]  # newest first, with site and tube; `correction_id`/`corrected_at`
    results: list[LabResult]  # every result of those tubes, oldest first
    sampling_facts: tuple[SamplingFact, ...]
    result_facts: tuple[ResultFact, ...]


def load_testing_facts(person_id: int) -> TestingFacts:
    """Two queries: the samplings (each with the correction that replaced it, if any, read in
    the same query) and the results of their tubes."""
    corrections = Sampling.objects.filter(supersedes_id=OuterRef("pk"))
    samplings = list(
        Sampling.objects.filter(person_id=person_id)
        .select_related("site", "tube")
        .annotate(
            correction_id=Subquery(corrections.values("id")[:1]),
            corrected_at=Subquery(corrections.values("recorded_at")[:1]),
        )
        .order_by("-sampled_at", "-id")
    )
    results = list(
        LabResult.objects.filter(tube_id__in=sorted({s.tube_id for s in samplings}))
        .select_related("tube")
        .order_by("id")
    )
    return TestingFacts(
        samplings,
        results,
        tuple(
            SamplingFact(
                id=s.id,
                tube=s.tube.barcode,
                pool_size=s.tube.capacity,
                sampled_at=s.sampled_at,
                recorded_at=s.recorded_at,
                superseded_by=s.correction_id,
                superseded_at=s.corrected_at,
            )
            for s in samplings
        ),
        tuple(
            ResultFact(
                id=r.id,
                tube=r.tube.barcode,
                result=r.result,
                lab=r.lab,
                reported_at=r.reported_at,
                recorded_at=r.recorded_at,
                supersedes=r.supersedes_id,
            )
            for r in results
        ),
    )


def person_testing_state(person_id: int, now: datetime | None = None) -> PersonTestState:
    """The person's samplings, their tubes' standing results, and the pooled-tube state, as the
    system knew them at `now` (default: the present)."""
    facts = load_testing_facts(person_id)
    return derive_testing_state(facts.sampling_facts, facts.result_facts, now or timezone.now())


def site_samplings_by_day(site_id: int, days: int) -> list[dict]:
    """How many people the site swabbed on each Beijing day it worked, the latest `days` days
    first: [{"day": date, "people": n}]. Corrected samplings count once, as corrected.

    Samplings have no index by site (each index slows every bulk load), so this reads the
    site's rows by scanning: fine for a page opened now and then, not for a dashboard."""
    corrected = Sampling.objects.filter(supersedes_id=OuterRef("pk"))
    return list(
        Sampling.objects.filter(site_id=site_id)
        .exclude(Exists(corrected))
        .annotate(day=TruncDate("sampled_at", tzinfo=BEIJING))
        .values("day")
        .annotate(people=Count("id"))
        .order_by("-day")[:days]
    )
