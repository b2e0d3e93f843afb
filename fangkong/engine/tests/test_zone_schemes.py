"""Zone levels in two schemes (三区划分 and 风险区), with ends: which level stands at an instant,
what the reason says word for word, and when the code will change by itself — the per-person
and the batch evaluator alike."""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from fangkong.engine.batch import columns_from_people, evaluate_batch, micros
from fangkong.engine.evaluate import PersonFacts, ZoneFact, evaluate, standing_zones
from fangkong.engine.policies import PolicyError, parse_policy

BJ = timezone(timedelta(hours=8))
US = timedelta(microseconds=1)
LEVELS_PROBLEM = (
    "trigger.levels: 应为 prevention, control, lockdown, low, medium, high 中的一个或多个,不重复"
)


def at(day, hour=0):
    return datetime(2022, 4, day, hour, tzinfo=BJ)


def policy(*levels):
    return parse_policy(
        {
            "id": "zone-rule",
            "title": "t",
            "message": "m",
            "colour": "yellow",
            "effective_from": "2022-04-01T00:00:00+08:00",
            "trigger": {"type": "zone_level", "levels": list(levels)},
        },
        version=1,
        published_at=at(1),
    )


def resident(*zones):
    return PersonFacts(1, "220102001001", at(1), zones=tuple(zones))


def both(rule, facts, now):
    """The per-person code, after checking the batch evaluator gives the same colour and since."""
    code = evaluate([rule], facts, now)
    batch = evaluate_batch([rule], columns_from_people([facts]), now)
    assert bool(batch.severity[0]) == (code.colour == "yellow")
    if code.reasons:
        assert batch.since[rule.id][0] == micros(code.reasons[0].since)
    return code


def test_a_risk_area_fires_a_rule_that_names_it_in_the_notices_words():
    code = both(policy("high"), resident(ZoneFact("high", at(19), at(19))), at(22))
    assert code.colour == "yellow"
    assert code.reasons[0].facts == ("居住社区为高风险区(自2022-04-19 00:00)",)
    assert code.reasons[0].since == at(19)


def test_a_level_with_an_end_holds_until_the_instant_before_it():
    temporary = ZoneFact("control", at(19), at(19), at(25))
    rule = policy("control")
    held = both(rule, resident(temporary), at(25) - US)
    assert held.reasons[0].facts == ("居住社区为管控区(自2022-04-19 00:00 至 2022-04-25 00:00)",)
    assert both(rule, resident(temporary), at(25)).colour == "green"
    assert both(rule, resident(temporary), at(19) - US).colour == "green"
    assert both(rule, resident(temporary), at(19)).colour == "yellow"


def test_when_a_temporary_level_ends_the_one_it_interrupted_stands_again():
    lockdown = ZoneFact("lockdown", at(10), at(10))
    interlude = ZoneFact("control", at(19), at(19), at(25))
    facts = resident(lockdown, interlude)
    assert standing_zones(facts.zones, at(24))["three_zones"] == interlude
    assert standing_zones(facts.zones, at(25))["three_zones"] == lockdown
    assert both(policy("lockdown"), facts, at(24)).colour == "green"
    code = both(policy("lockdown"), facts, at(25))
    assert code.colour == "yellow" and code.reasons[0].since == at(10)


def test_each_scheme_keeps_its_own_standing_level():
    lockdown = ZoneFact("lockdown", at(10), at(10))
    low = ZoneFact("low", at(20), at(20))
    facts = resident(lockdown, low)
    assert standing_zones(facts.zones, at(22)) == {"three_zones": lockdown, "risk_areas": low}
    assert both(policy("lockdown"), facts, at(22)).reasons[0].since == at(10)
    assert both(policy("low"), facts, at(22)).reasons[0].since == at(20)
    assert both(policy("medium", "high"), facts, at(22)).colour == "green"


def test_a_rule_naming_both_schemes_says_both_oldest_first_and_holds_since_the_first():
    facts = resident(ZoneFact("high", at(20), at(20)), ZoneFact("lockdown", at(18), at(18)))
    code = both(policy("lockdown", "high"), facts, at(22))
    assert code.reasons[0].facts == (
        "居住社区为封控区(自2022-04-18 00:00)",
        "居住社区为高风险区(自2022-04-20 00:00)",
    )
    assert code.reasons[0].since == at(18)


def test_the_latest_start_wins_then_the_later_recorded_then_the_stricter_level():
    early_lockdown = ZoneFact("lockdown", at(10), at(10))
    later_prevention = ZoneFact("prevention", at(12), at(12))
    assert standing_zones((early_lockdown, later_prevention), at(13))["three_zones"].level == (
        "prevention"
    )
    recorded_later = ZoneFact("control", at(12), at(12, 1))
    zones = (later_prevention, recorded_later)
    assert standing_zones(zones, at(12, 1) - US)["three_zones"].level == "prevention"
    assert standing_zones(zones, at(12, 1))["three_zones"].level == "control"
    tie = (ZoneFact("control", at(12), at(12)), ZoneFact("lockdown", at(12), at(12)))
    for order in (tie, tie[::-1]):
        assert standing_zones(order, at(13))["three_zones"].level == "lockdown"
        assert both(policy("lockdown"), resident(*order), at(13)).colour == "yellow"
    risk_tie = (ZoneFact("medium", at(12), at(12)), ZoneFact("low", at(12), at(12)))
    assert standing_zones(risk_tie, at(13))["risk_areas"].level == "medium"


def test_a_level_not_yet_recorded_or_not_yet_started_does_not_stand():
    published_later = ZoneFact("high", at(15), at(20))
    assert both(policy("high"), resident(published_later), at(20) - US).colour == "green"
    assert both(policy("high"), resident(published_later), at(20)).reasons[0].since == at(15)
    announced = ZoneFact("high", at(25), at(20))
    assert both(policy("high"), resident(announced), at(24)).colour == "green"
    assert standing_zones((announced,), at(25))["risk_areas"] == announced


def test_a_level_announced_ahead_and_an_end_are_the_next_changes():
    rule = policy("medium")
    announced = ZoneFact("medium", at(25, 18), at(20))
    assert evaluate([rule], resident(announced), at(22)).next_change_at == at(25, 18)
    # Not before it is published: the clock cannot foresee an unknown decision.
    assert evaluate([rule], resident(announced), at(19)).next_change_at is None
    ending = ZoneFact("medium", at(20), at(20), at(27))
    assert evaluate([rule], resident(ending), at(22)).next_change_at == at(27)
    assert evaluate([rule], resident(ending), at(27)).next_change_at is None


def test_the_batch_reads_a_whole_street_of_neighbours_at_once():
    zones = (ZoneFact("high", at(19), at(19), at(23)), ZoneFact("low", at(23), at(23)))
    people = [PersonFacts(i, "220102001001", at(1), zones=zones) for i in range(3)] + [
        PersonFacts(3, "220102001002", at(1))
    ]
    rule = policy("high")
    for now, expected in ((at(22), [1, 1, 1, 0]), (at(23), [0, 0, 0, 0])):
        batch = evaluate_batch([rule], columns_from_people(people), now)
        assert batch.severity.tolist() == expected
        assert [evaluate([rule], p, now).colour == "yellow" for p in people] == [
            bool(x) for x in expected
        ]
    assert np.array_equal(
        evaluate_batch([policy("low")], columns_from_people(people), at(23)).severity,
        np.array([1, 1, 1, 0]),
    )


@pytest.mark.parametrize("levels", [["high", "medium", "low"], ["lockdown", "low"]])
def test_a_rule_may_name_the_levels_of_either_scheme(levels):
    assert policy(*levels).trigger.levels == tuple(levels)


def test_an_unknown_level_is_refused_naming_every_level_of_both_schemes():
    with pytest.raises(PolicyError) as refused:
        policy("severe")
    assert refused.value.problems == [LEVELS_PROBLEM]
