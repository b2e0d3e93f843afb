"""The testing state (docs/policies.md, "The testing state") in both evaluators, case by case:
the per-person fold and the batch kernel's vectorised walk give the same status and since, and
that is the one the rules name. Each case is one person's samplings (id, tube, pool, day) and
their tubes' results (tube, outcome, day); results are reported at noon of their day."""

from datetime import UTC, datetime, timedelta

import pytest

from fangkong.engine import batch as kernel
from fangkong.engine.batch import NEVER, columns_from_people, micros
from fangkong.engine.evaluate import PersonFacts
from fangkong.engine.testing_state import (
    AWAITING_RETEST,
    NONE,
    POSITIVE_INDIVIDUAL,
    RESAMPLE,
    ResultFact,
    SamplingFact,
    derive_testing_state,
)

T0 = datetime(2022, 4, 20, tzinfo=UTC)
NOW = T0 + timedelta(days=30)
BATCH_STATUS = {0: NONE, 1: AWAITING_RETEST, 2: RESAMPLE, 3: POSITIVE_INDIVIDUAL}


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def noon(n: int) -> datetime:
    return day(n) + timedelta(hours=12)


CASES = {
    # name: (samplings, results, status, since-day of the result that set it or None)
    "nothing": ([], [], NONE, None),
    "negative single": ([(1, "S1", 1, 0)], [("S1", "negative", 0)], NONE, None),
    "positive single": ([(1, "S1", 1, 0)], [("S1", "positive", 0)], POSITIVE_INDIVIDUAL, 0),
    "the last of two positives": (
        [(1, "S1", 1, 0), (2, "S2", 1, 2)],
        [("S1", "positive", 0), ("S2", "positive", 2)],
        POSITIVE_INDIVIDUAL,
        2,
    ),
    "positive pool": ([(1, "P1", 10, 0)], [("P1", "positive", 0)], AWAITING_RETEST, 0),
    "pool then single negative": (
        [(1, "P1", 10, 0), (2, "S1", 1, 1)],
        [("P1", "positive", 0), ("S1", "negative", 1)],
        NONE,
        None,
    ),
    "single negative sampled before the pool": (
        [(1, "S1", 1, 0), (2, "P1", 10, 1)],
        [("S1", "negative", 0), ("P1", "positive", 1)],
        AWAITING_RETEST,
        1,
    ),
    "pool then pooled negative": (
        [(1, "P1", 10, 0), (2, "P2", 10, 1)],
        [("P1", "positive", 0), ("P2", "negative", 1)],
        AWAITING_RETEST,
        0,
    ),
    "the later of two positive pools": (
        [(1, "P1", 10, 0), (2, "P2", 20, 2)],
        [("P1", "positive", 0), ("P2", "positive", 2)],
        AWAITING_RETEST,
        2,
    ),
    "retest still awaiting its result": (
        [(1, "P1", 10, 0), (2, "S1", 1, 1)],
        [("P1", "positive", 0)],
        AWAITING_RETEST,
        0,
    ),
    "pool then positive single": (
        [(1, "P1", 10, 0), (2, "S1", 1, 1)],
        [("P1", "positive", 0), ("S1", "positive", 1)],
        POSITIVE_INDIVIDUAL,
        1,
    ),
    "invalid alone": ([(1, "S1", 1, 0)], [("S1", "invalid", 0)], RESAMPLE, 0),
    "invalid after a negative": (
        [(1, "S1", 1, 0), (2, "S2", 1, 1), (3, "S3", 1, 2)],
        [("S1", "negative", 0), ("S2", "invalid", 1), ("S3", "invalid", 2)],
        RESAMPLE,
        1,
    ),
    "negative after an invalid": (
        [(1, "S1", 1, 0), (2, "S2", 1, 1)],
        [("S1", "invalid", 0), ("S2", "negative", 1)],
        NONE,
        None,
    ),
    "invalid pool after a negative pool": (
        [(1, "P1", 10, 0), (2, "P2", 10, 1)],
        [("P1", "negative", 0), ("P2", "invalid", 1)],
        RESAMPLE,
        1,
    ),
    "positive outranks a later invalid": (
        [(1, "S1", 1, 0), (2, "S2", 1, 1)],
        [("S1", "positive", 0), ("S2", "invalid", 1)],
        POSITIVE_INDIVIDUAL,
        0,
    ),
    "awaiting outranks a later invalid": (
        [(1, "P1", 10, 0), (2, "S1", 1, 1)],
        [("P1", "positive", 0), ("S1", "invalid", 1)],
        AWAITING_RETEST,
        0,
    ),
    "a sampling with no result yet after a negative": (
        [(1, "S1", 1, 0), (2, "S2", 1, 1)],
        [("S1", "negative", 0)],
        NONE,
        None,
    ),
}


def person_of(samplings, results) -> PersonFacts:
    sampling_facts = tuple(
        SamplingFact(i, tube, pool, day(d), day(d)) for i, tube, pool, d in samplings
    )
    result_facts = tuple(
        ResultFact(i, tube, outcome, "lab", noon(d), noon(d))
        for i, (tube, outcome, d) in enumerate(results, start=1)
    )
    return PersonFacts(0, "220102001001", T0 - timedelta(days=1), sampling_facts, result_facts)


@pytest.mark.parametrize("name", list(CASES))
def test_both_evaluators_derive_the_state_the_rules_name(name):
    samplings, results, status, since_day = CASES[name]
    person = person_of(samplings, results)
    expected_since = noon(since_day) if since_day is not None else None
    state = derive_testing_state(person.samplings, person.results, NOW)
    assert (state.status, state.since) == (status, expected_since)
    # The batch kernel, with a bystander before the person so indices are not all zero.
    bystander = person_of([(9, "Z9", 1, 0)], [("Z9", "negative", 0)])
    batch = kernel.testing_states(columns_from_people([bystander, person]), micros(NOW))
    assert BATCH_STATUS[int(batch.status[1])] == status
    assert int(batch.since[1]) == (micros(expected_since) if expected_since else NEVER)
    assert BATCH_STATUS[int(batch.status[0])] == NONE
