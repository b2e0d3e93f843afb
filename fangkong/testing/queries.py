"""Reading a person's testing facts and deriving their state (see engine.testing_state)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from fangkong.engine.testing_state import (
    PersonTestState,
    ResultFact,
    SamplingFact,
    derive_testing_state,
)
from fangkong.testing.models import LabResult, Sampling


def person_testing_state(person_id: int, now: datetime | None = None) -> PersonTestState:
    """The person's samplings, their tubes' standing results, and the pooled-tube state, as the
    system knew them at `now` (default: the present)."""
    now = now or timezone.now()
    rows = list(Sampling.objects.filter(person_id=person_id).select_related("tube"))
    # A correction names the sampling it replaces; find those of this person's samplings.
    corrections = {
        c["supersedes_id"]: (c["id"], c["recorded_at"])
        for c in Sampling.objects.filter(supersedes_id__in=[s.id for s in rows]).values(
            "id", "supersedes_id", "recorded_at"
        )
    }
    samplings = []
    for s in rows:
        correction_id, corrected_at = corrections.get(s.id, (None, None))
        samplings.append(
            SamplingFact(
                id=s.id,
                tube=s.tube.barcode,
                pool_size=s.tube.capacity,
                sampled_at=s.sampled_at,
                recorded_at=s.recorded_at,
                superseded_by=correction_id,
                superseded_at=corrected_at,
            )
        )
    results = [
        ResultFact(
            id=r.id,
            tube=r.tube.barcode,
            result=r.result,
            lab=r.lab,
            reported_at=r.reported_at,
            recorded_at=r.recorded_at,
            supersedes=r.supersedes_id,
        )
        for r in LabResult.objects.filter(tube_id__in={s.tube_id for s in rows}).select_related(
            "tube"
        )
    ]
    return derive_testing_state(samplings, results, now)
