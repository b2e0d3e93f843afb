"""A new version that only rewords a rule continues its decision: whoever had cleared stays
green and an approved clearance still answers; a new decision starts again (docs/policies.md,
"Versions"). Both evaluators agree."""

import tomllib
from datetime import datetime, timedelta, timezone

from fangkong.engine.batch import columns_from_people, evaluate_batch
from fangkong.engine.evaluate import Exemption, PersonFacts, evaluate
from fangkong.engine.policies import SEVERITY, parse_policy
from fangkong.engine.testing_state import ResultFact, SamplingFact

BJ = timezone(timedelta(hours=8))
UNTESTED = """
id = "unsampled"
title = "未采样赋黄码"
colour = "yellow"
message = "请采样"
effective_from = "2022-04-23T00:00:00+08:00"
[trigger]
type = "no_sampling"
from = "2022-04-20T00:00:00+08:00"
until = "2022-04-23T00:00:00+08:00"
[[clear]]
type = "negative_after"
"""


def at(day, hour=0):
    return datetime(2022, 4, day, hour, tzinfo=BJ)


V1 = parse_policy(tomllib.loads(UNTESTED), version=1, published_at=at(23))
REWORDED = tomllib.loads(UNTESTED.replace('message = "请采样"', 'message = "请尽快采样"'))
V2_CONTINUES = parse_policy(
    REWORDED, version=2, published_at=at(25), continues_from=1, continues_since=at(23)
)
V2_RESTARTS = parse_policy(REWORDED | {"restart": True}, version=2, published_at=at(25))


def unsampled_until(day: int, **kw) -> PersonFacts:
    """Nobody sampled in the window; sampled on `day` with a negative reported 6 h later."""
    sampling = SamplingFact(1, "T1", 1, at(day), at(day))
    result = ResultFact(1, "T1", "negative", "lab", at(day, 6), at(day, 6))
    return PersonFacts(
        1, "220102001001", datetime(2022, 1, 1, tzinfo=BJ), (sampling,), (result,), **kw
    )


def colours(policy, facts, when) -> tuple[str, int]:
    """The colour by the per-person evaluator, and the severity by the batch kernel."""
    batch = evaluate_batch([policy], columns_from_people([facts]), when).severity[0]
    return evaluate([policy], facts, when).colour, int(batch)


def test_a_resident_who_cleared_under_version_1_stays_green_under_a_reworded_version_2():
    cleared = unsampled_until(24)
    assert colours(V1, cleared, at(24, 12)) == ("green", SEVERITY["green"])
    assert colours(V2_CONTINUES, cleared, at(26)) == ("green", SEVERITY["green"])


def test_a_continuing_version_keeps_the_original_since():
    waiting = unsampled_until(28)
    (reason,) = evaluate([V2_CONTINUES], waiting, at(26)).reasons
    assert reason.since == at(23) and reason.version == 2


def test_a_clearance_approved_for_version_1_answers_a_continuing_version_2():
    approved = PersonFacts(
        1,
        "220102001001",
        datetime(2022, 1, 1, tzinfo=BJ),
        exemptions=(Exemption("unsampled", at(24), None, 1),),
    )
    assert colours(V2_CONTINUES, approved, at(26)) == ("green", 0)
    assert colours(V2_RESTARTS, approved, at(26)) == ("yellow", 1)


def test_a_version_that_restarts_holds_those_who_had_cleared_again():
    cleared = unsampled_until(24)
    assert colours(V2_RESTARTS, cleared, at(26)) == ("yellow", SEVERITY["yellow"])
    (reason,) = evaluate([V2_RESTARTS], cleared, at(26)).reasons
    assert reason.since == at(25)


def test_only_trigger_scope_and_clears_make_a_new_decision():
    assert V2_CONTINUES.same_rule_as(V1)
    wider = tomllib.loads(UNTESTED.replace('"2022-04-20T00', '"2022-04-19T00'))
    assert not parse_policy(wider).same_rule_as(V1)
