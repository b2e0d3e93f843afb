"""Codes as docs/policies.md says they are, for the seed rule and the standard rules."""

import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fangkong.engine.evaluate import DesignationFact, Exemption, PersonFacts, PresenceFact, evaluate
from fangkong.engine.policies import parse_policy
from fangkong.engine.testing_state import ResultFact, SamplingFact

BJ = timezone(timedelta(hours=8))
FIXTURES = Path(__file__).resolve().parents[2] / "policies" / "fixtures"
PUBLISHED = datetime(2022, 4, 23, tzinfo=BJ)


def at(day, hour=0, minute=0):
    return datetime(2022, 4, day, hour, minute, tzinfo=BJ)


def fixture(name):
    data = tomllib.loads((FIXTURES / f"{name}.toml").read_text())
    return parse_policy(data, version=1, published_at=PUBLISHED if name.startswith("cc") else None)


SEED = fixture("cc-2022-0420-untested")
POOLED = fixture("std-pooled-positive-yellow")
POSITIVE = fixture("std-positive-red")
CLOSE = fixture("std-close-contact-red")


def person(community="220102001001", samplings=(), results=(), **kw):
    return PersonFacts(
        1, community, datetime(2022, 1, 1, tzinfo=BJ), tuple(samplings), tuple(results), **kw
    )


def sampled(id, tube, pool, when, recorded=None):
    return SamplingFact(id, tube, pool, when, recorded or when)


def result(id, tube, outcome, when, recorded=None, supersedes=None):
    return ResultFact(id, tube, outcome, "lab", when, recorded or when, supersedes)


def test_an_unsampled_resident_of_nanguan_turns_yellow_when_the_rule_starts():
    nobody = person()
    assert evaluate([SEED], nobody, at(22, 23, 59)).colour == "green"
    code = evaluate([SEED], nobody, at(23))
    assert code.colour == "yellow"
    (reason,) = code.reasons
    assert reason.policy == "cc-2022-0420-untested" and reason.since == at(23)
    assert "吉祥码被赋黄码" in reason.message
    assert any("无采样记录" in fact for fact in reason.facts)


def test_the_four_counties_are_outside_the_rule():
    for county in ("220184", "220182", "220122", "220183"):
        assert evaluate([SEED], person(county + "100200"), at(25)).colour == "green"


def test_a_sampling_in_the_window_keeps_the_code_green_whatever_its_result():
    for outcome in ("negative", "invalid"):
        facts = person(
            samplings=[sampled(1, "T1", 10, at(22, 23, 59))],
            results=[result(1, "T1", outcome, at(23, 10))],
        )
        assert evaluate([SEED], facts, at(25)).colour == "green"


def test_the_window_excludes_its_end():
    facts = person(samplings=[sampled(1, "T1", 10, at(23))])
    assert evaluate([SEED], facts, at(23, 1)).colour == "yellow"


def test_a_negative_result_sampled_after_the_window_turns_the_code_green_when_reported():
    facts = person(
        samplings=[sampled(1, "T1", 10, at(24, 8))],
        results=[result(1, "T1", "negative", at(24, 20))],
    )
    assert evaluate([SEED], facts, at(24, 19)).colour == "yellow"
    assert evaluate([SEED], facts, at(24, 20)).colour == "green"


def test_a_result_recorded_late_counts_only_from_when_it_was_recorded():
    facts = person(
        samplings=[sampled(1, "T1", 10, at(24, 8))],
        results=[result(1, "T1", "negative", at(24, 20), recorded=at(25, 9))],
    )
    assert evaluate([SEED], facts, at(25, 8)).colour == "yellow"
    assert evaluate([SEED], facts, at(25, 9)).colour == "green"


def test_someone_present_in_the_city_during_the_window_is_covered_too():
    visitor = person(
        "220184100200", presences=(PresenceFact("220102", at(20, 9), at(21, 18), at(21, 20)),)
    )
    assert evaluate([SEED], visitor, at(23)).colour == "yellow"


def test_a_member_of_a_positive_pool_is_yellow_until_their_own_retest():
    pool = [sampled(1, "P1", 10, at(20, 8))]
    results = [result(1, "P1", "positive", at(20, 20))]
    facts = person(samplings=pool, results=results)
    code = evaluate([POOLED, POSITIVE], facts, at(21))
    assert code.colour == "yellow" and code.reasons[0].policy == "std-pooled-positive-yellow"
    retest = pool + [sampled(2, "S1", 1, at(21, 8))]
    negative = person(samplings=retest, results=results + [result(2, "S1", "negative", at(21, 20))])
    assert evaluate([POOLED, POSITIVE], negative, at(22)).colour == "green"
    positive = person(samplings=retest, results=results + [result(2, "S1", "positive", at(21, 20))])
    assert evaluate([POOLED, POSITIVE], positive, at(22)).colour == "red"


def test_a_positive_clears_after_negatives_on_two_different_days():
    samplings = [
        sampled(1, "S1", 1, at(20, 8)),
        sampled(2, "S2", 1, at(26, 8)),
        sampled(3, "S3", 1, at(26, 18)),
        sampled(4, "S4", 1, at(27, 8)),
    ]
    results = [
        result(1, "S1", "positive", at(20, 20)),
        result(2, "S2", "negative", at(26, 20)),
        result(3, "S3", "negative", at(27, 2)),
        result(4, "S4", "negative", at(27, 20)),
    ]
    facts = person(samplings=samplings, results=results)
    assert evaluate([POSITIVE], facts, at(27, 19)).colour == "red"
    assert evaluate([POSITIVE], facts, at(27, 20)).colour == "green"


def test_a_close_contact_is_red_until_the_designation_ends():
    facts = person(
        designations=(DesignationFact(1, "close_contact", at(21), at(28), "南关区疾控", at(21)),)
    )
    code = evaluate([CLOSE], facts, at(22))
    assert code.colour == "red" and code.next_change_at == at(28)
    assert evaluate([CLOSE], facts, at(28)).colour == "green"


def test_an_approved_exemption_clears_only_its_policy():
    facts = person(exemptions=(Exemption("cc-2022-0420-untested", at(23, 10)),))
    assert evaluate([SEED], facts, at(23, 9)).colour == "yellow"
    assert evaluate([SEED], facts, at(23, 10)).colour == "green"


def test_an_exemption_for_one_version_does_not_answer_the_next_version():
    cleared_v1 = person(exemptions=(Exemption("cc-2022-0420-untested", at(23, 10), None, 1),))
    version_2 = parse_policy(
        tomllib.loads((FIXTURES / "cc-2022-0420-untested.toml").read_text()),
        version=2,
        published_at=PUBLISHED,
    )
    assert evaluate([SEED], cleared_v1, at(23, 11)).colour == "green"  # SEED is version 1
    assert evaluate([version_2], cleared_v1, at(23, 11)).colour == "yellow"


def test_red_outranks_yellow_and_both_reasons_are_given():
    facts = person(
        designations=(DesignationFact(1, "close_contact", at(21), None, "南关区疾控", at(21)),)
    )
    code = evaluate([SEED, CLOSE], facts, at(24))
    assert code.colour == "red"
    assert [r.policy for r in code.reasons] == ["std-close-contact-red", "cc-2022-0420-untested"]


def test_a_policy_is_not_in_force_before_it_is_published():
    late = parse_policy(
        tomllib.loads((FIXTURES / "cc-2022-0420-untested.toml").read_text()),
        version=1,
        published_at=at(24, 12),
    )
    assert evaluate([late], person(), at(24, 11)).colour == "green"
    assert evaluate([late], person(), at(24, 12)).reasons[0].since == at(24, 12)
