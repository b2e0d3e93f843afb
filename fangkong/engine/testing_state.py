"""A person's testing state, derived from their samplings and their tubes' results.

Pure: facts in, state out, with `now` passed in. Only facts recorded by `now` count, so the
state "as of" a past time is the state the system showed then.

- A tube's effective result is its latest known result that no other known result corrects.
- A positive pooled tube (10-in-1, 20-in-1) puts each member in "pooled positive, awaiting
  single-tube retest" until a single-tube sampling of that member, taken after the pooled one,
  gets a result: negative resolves it, positive makes the person positive.
- An invalid result means resample: a later sampling with a valid result resolves it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

NEGATIVE, POSITIVE, INVALID = "negative", "positive", "invalid"

NONE = "none"
AWAITING_RETEST = "pooled_positive_awaiting_retest"
RESAMPLE = "invalid_resample"
POSITIVE_INDIVIDUAL = "positive"

STATUS_LABELS = {
    NONE: "无异常",
    AWAITING_RETEST: "混管阳性,待单管复核",
    RESAMPLE: "结果无效,需重新采样",
    POSITIVE_INDIVIDUAL: "单管阳性",
}


@dataclass(frozen=True)
class SamplingFact:
    id: int
    tube: str
    pool_size: int
    sampled_at: datetime
    recorded_at: datetime
    superseded_by: int | None = None  # id of the sampling that corrects this one, if known
    superseded_at: datetime | None = None


@dataclass(frozen=True)
class ResultFact:
    id: int
    tube: str
    result: str
    lab: str
    reported_at: datetime
    recorded_at: datetime
    supersedes: int | None = None


@dataclass(frozen=True)
class SamplingOutcome:
    sampling: SamplingFact
    result: ResultFact | None


@dataclass(frozen=True)
class PersonTestState:
    samplings: tuple[SamplingOutcome, ...]  # known at `now`, oldest first
    latest_sampling: SamplingOutcome | None
    latest_result: SamplingOutcome | None  # the latest sampling that has a result
    status: str
    since: datetime | None  # when the status began (the result that caused it)
    cause: SamplingOutcome | None

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


def effective_results(results: Iterable[ResultFact], now: datetime) -> dict[str, ResultFact]:
    """Per tube, the result standing at `now`."""
    known = [r for r in results if r.recorded_at <= now]
    corrected = {r.supersedes for r in known if r.supersedes is not None}
    standing: dict[str, ResultFact] = {}
    for r in sorted(known, key=lambda r: (r.recorded_at, r.id)):
        if r.id not in corrected:
            standing[r.tube] = r
    return standing


def derive_testing_state(
    samplings: Iterable[SamplingFact], results: Iterable[ResultFact], now: datetime
) -> PersonTestState:
    by_tube = effective_results(results, now)
    known = sorted(
        (
            s
            for s in samplings
            if s.recorded_at <= now and not (s.superseded_at and s.superseded_at <= now)
        ),
        key=lambda s: (s.sampled_at, s.id),
    )
    tested = tuple(SamplingOutcome(s, by_tube.get(s.tube)) for s in known)
    status, since, cause = NONE, None, None
    pending_from: datetime | None = None  # sampled_at of the positive pool awaiting retest
    for item in tested:
        result = item.result
        if result is None:
            continue
        single = item.sampling.pool_size == 1
        if result.result == INVALID:
            if status in (NONE,):
                status, since, cause = RESAMPLE, result.reported_at, item
            continue
        if status == RESAMPLE:
            status, since, cause = NONE, None, None
        if result.result == POSITIVE:
            if single:
                status, since, cause = POSITIVE_INDIVIDUAL, result.reported_at, item
                pending_from = None
            elif status != POSITIVE_INDIVIDUAL:
                status, since, cause = AWAITING_RETEST, result.reported_at, item
                pending_from = item.sampling.sampled_at
        elif single and status == AWAITING_RETEST and item.sampling.sampled_at > pending_from:
            status, since, cause, pending_from = NONE, None, None, None
    latest_result = next((t for t in reversed(tested) if t.result is not None), None)
    return PersonTestState(
        samplings=tested,
        latest_sampling=tested[-1] if tested else None,
        latest_result=latest_result,
        status=status,
        since=since,
        cause=cause,
    )
