from datetime import UTC, datetime, timedelta

from fangkong.engine.testing_state import (
    AWAITING_RETEST,
    NONE,
    POSITIVE_INDIVIDUAL,
    RESAMPLE,
    ResultFact,
    SamplingFact,
    derive_testing_state,
)

T0 = datetime(2022, 4, 20, 0, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=30)


def sampling(id, tube, pool, day, recorded=None, **kw):
    at = T0 + timedelta(days=day)
    return SamplingFact(id, tube, pool, at, recorded or at, **kw)


def result(id, tube, outcome, day, supersedes=None, recorded=None):
    at = T0 + timedelta(days=day, hours=12)
    return ResultFact(id, tube, outcome, "lab", at, recorded or at, supersedes)


def test_a_negative_pooled_tube_leaves_nothing_to_do():
    state = derive_testing_state(
        [sampling(1, "P1", 10, 0)], [result(1, "P1", "negative", 0)], LATER
    )
    assert state.status == NONE
    assert state.latest_result.result.result == "negative"


def test_a_positive_pooled_tube_awaits_the_members_own_retest():
    state = derive_testing_state(
        [sampling(1, "P1", 10, 0)], [result(1, "P1", "positive", 0)], LATER
    )
    assert state.status == AWAITING_RETEST
    assert state.since == T0 + timedelta(hours=12)


def test_a_negative_single_tube_retest_resolves_the_pooled_positive():
    facts = [sampling(1, "P1", 10, 0), sampling(2, "S1", 1, 1)]
    results = [result(1, "P1", "positive", 0), result(2, "S1", "negative", 1)]
    assert derive_testing_state(facts, results, LATER).status == NONE


def test_a_positive_single_tube_retest_makes_the_person_positive():
    facts = [sampling(1, "P1", 10, 0), sampling(2, "S1", 1, 1)]
    results = [result(1, "P1", "positive", 0), result(2, "S1", "positive", 1)]
    assert derive_testing_state(facts, results, LATER).status == POSITIVE_INDIVIDUAL


def test_a_later_negative_pool_does_not_count_as_the_members_own_retest():
    facts = [sampling(1, "P1", 10, 0), sampling(2, "P2", 10, 1)]
    results = [result(1, "P1", "positive", 0), result(2, "P2", "negative", 1)]
    assert derive_testing_state(facts, results, LATER).status == AWAITING_RETEST


def test_the_retest_still_awaiting_its_result_keeps_the_person_waiting():
    facts = [sampling(1, "P1", 10, 0), sampling(2, "S1", 1, 1)]
    state = derive_testing_state(facts, [result(1, "P1", "positive", 0)], LATER)
    assert state.status == AWAITING_RETEST
    assert state.latest_sampling.sampling.tube == "S1"
    assert state.latest_result.sampling.tube == "P1"


def test_an_invalid_result_means_resample_until_a_valid_one_arrives():
    facts = [sampling(1, "P1", 10, 0)]
    assert derive_testing_state(facts, [result(1, "P1", "invalid", 0)], LATER).status == RESAMPLE
    facts.append(sampling(2, "P2", 10, 1))
    results = [result(1, "P1", "invalid", 0), result(2, "P2", "negative", 1)]
    assert derive_testing_state(facts, results, LATER).status == NONE


def test_a_correction_replaces_the_result_it_supersedes():
    facts = [sampling(1, "P1", 10, 0)]
    results = [result(1, "P1", "positive", 0), result(2, "P1", "negative", 2, supersedes=1)]
    assert derive_testing_state(facts, results, LATER).status == NONE


def test_as_of_a_past_time_only_facts_known_then_count():
    facts = [sampling(1, "P1", 10, 0)]
    results = [result(1, "P1", "positive", 0), result(2, "P1", "negative", 2, supersedes=1)]
    before_correction = T0 + timedelta(days=1)
    assert derive_testing_state(facts, results, before_correction).status == AWAITING_RETEST
    assert derive_testing_state(facts, results, T0 - timedelta(days=1)).latest_sampling is None
