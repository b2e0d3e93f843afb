"""What a reason says about the facts behind it, word for word, and when the code will next
change by itself (`next_change_at`): the resident, the hotline and the checkpoints read these."""

from datetime import datetime, timedelta, timezone

from fangkong.engine.evaluate import (
    DesignationFact,
    Exemption,
    PersonFacts,
    PresenceFact,
    ZoneFact,
    evaluate,
)
from fangkong.engine.policies import parse_policy
from fangkong.engine.testing_state import ResultFact, SamplingFact

BJ = timezone(timedelta(hours=8))


def at(day, hour=0):
    return datetime(2022, 4, day, hour, tzinfo=BJ)


def policy(trigger, clears=(), **extra):
    return parse_policy(
        {
            "id": "rule-p",
            "title": "t",
            "message": "m",
            "colour": "yellow",
            "effective_from": "2022-04-01T00:00:00+08:00",
            "trigger": trigger,
            "clear": list(clears),
            **extra,
        },
        version=1,
        published_at=at(1),
    )


def person(community="220102001001", **kw):
    return PersonFacts(1, community, at(1) - timedelta(days=30), **kw)


def only_reason(policies, facts, now):
    (reason,) = evaluate(policies, facts, now).reasons
    return reason


def test_an_unsampled_resident_and_a_visitor_present_are_told_why():
    rule = policy({"type": "no_sampling", "from": at(20).isoformat(), "until": at(23).isoformat()})
    resident = only_reason([rule], person(), at(24))
    assert resident.facts == (
        "2022-04-20 00:00 至 2022-04-23 00:00 无采样记录",
        "登记居住于适用范围内",
    )
    visit = PresenceFact("220102", at(21, 9), at(21, 18), at(21, 20))
    visitor = only_reason([rule], person("150102001001", presences=(visit,)), at(24))
    assert visitor.facts[1] == "在场记录:220102 2022-04-21 09:00"
    assert visitor.since == at(23)


def test_a_positive_and_a_pool_name_the_tube_the_time_and_the_lab():
    single = SamplingFact(1, "T-1", 1, at(20, 9), at(20, 9))
    pooled = SamplingFact(2, "P-9", 10, at(21, 9), at(21, 9))
    positive = ResultFact(1, "T-1", "positive", "金域", at(20, 20), at(20, 20))
    pool_positive = ResultFact(2, "P-9", "positive", "金域", at(21, 20), at(21, 20))
    red = only_reason(
        [policy({"type": "positive_result"})],
        person(samplings=(single,), results=(positive,)),
        at(22),
    )
    assert red.facts == ("单管 T-1 阳性(采样于2022-04-20 09:00,金域 报告于2022-04-20 20:00)",)
    assert red.since == at(20, 20)
    pool = only_reason(
        [policy({"type": "pooled_positive"})],
        person(samplings=(pooled,), results=(pool_positive,)),
        at(22),
    )
    assert pool.facts == ("10混1 混管 P-9 阳性(采样于2022-04-21 09:00),待单管复核",)


def test_a_designation_and_a_zone_say_who_decided_and_since_when():
    d = DesignationFact(1, "close_contact", at(20), at(27), "南关区疾控", at(20))
    open_ended = DesignationFact(2, "close_contact", at(21), None, "朝阳区疾控", at(21))
    contact = only_reason(
        [policy({"type": "designation", "kind": "close_contact"})],
        person(designations=(d, open_ended)),
        at(22),
    )
    assert contact.facts == (
        "南关区疾控 判定为密切接触者(2022-04-20 00:00 至 2022-04-27 00:00)",
        "朝阳区疾控 判定为密切接触者(2022-04-21 00:00 起)",
    )
    assert contact.since == at(20)
    zone = only_reason(
        [policy({"type": "zone_level", "levels": ["control"]})],
        person(zones=(ZoneFact("control", at(19), at(19)),)),
        at(22),
    )
    assert zone.facts == ("居住社区为管控区(自2022-04-19 00:00)",)


def test_the_next_change_is_the_earliest_instant_the_code_can_change_by_itself():
    ending = DesignationFact(1, "close_contact", at(20), at(27), "cdc", at(20))
    rule = policy({"type": "designation", "kind": "close_contact"})
    assert evaluate([rule], person(designations=(ending,)), at(22)).next_change_at == at(27)
    # An expiry earlier than the designation's end comes first.
    expiring = policy(
        {"type": "designation", "kind": "close_contact"}, [{"type": "expiry", "hours": 48}]
    )
    assert evaluate([expiring], person(designations=(ending,)), at(21)).next_change_at == at(22)
    # A policy that ends, or one published to start later, changes codes at that instant.
    ends = policy({"type": "positive_result"}, effective_until="2022-04-25T00:00:00+08:00")
    assert evaluate([ends], person(), at(22)).next_change_at == at(25)
    later = policy({"type": "positive_result"}, effective_from="2022-04-26T00:00:00+08:00")
    assert evaluate([later], person(), at(22)).next_change_at == at(26)
    # A designation known now that starts later.
    future = DesignationFact(3, "close_contact", at(24), None, "cdc", at(22))
    assert evaluate([rule], person(designations=(future,)), at(22)).next_change_at == at(24)
    # An approval is a fact like any other: not known before it is made, so not foreseen.
    approved = person(designations=(ending,), exemptions=(Exemption("rule-p", at(23)),))
    assert evaluate([rule], approved, at(22)).next_change_at == at(27)
    assert evaluate([rule], approved, at(23)).colour == "green"
    assert evaluate([rule], person(), at(22)).next_change_at is None


def test_a_rule_that_fires_after_its_window_says_when():
    rule = policy({"type": "no_sampling", "from": at(20).isoformat(), "until": at(23).isoformat()})
    code = evaluate([rule], person(), at(22))
    assert code.colour == "green" and code.next_change_at == at(23)


def test_a_person_registered_later_is_green_with_no_reasons():
    later = PersonFacts(1, "220102001001", at(25))
    rule = policy({"type": "zone_level", "levels": ["control"]})
    assert evaluate([rule], later, at(24)).colour == "green"


def test_reasons_come_most_severe_first_then_oldest():
    d = DesignationFact(1, "close_contact", at(21), None, "cdc", at(21))
    red = parse_policy(
        {**_data("b-red", "red"), "trigger": {"type": "designation", "kind": "close_contact"}},
        version=1,
        published_at=at(1),
    )
    early = parse_policy(
        {**_data("c-early", "yellow"), "trigger": {"type": "zone_level", "levels": ["control"]}},
        version=1,
        published_at=at(1),
    )
    late = parse_policy(
        {**_data("a-late", "yellow"), "trigger": {"type": "designation", "kind": "close_contact"}},
        version=1,
        published_at=at(1),
    )
    facts = person(designations=(d,), zones=(ZoneFact("control", at(19), at(19)),))
    code = evaluate([late, early, red], facts, at(22))
    assert [r.policy for r in code.reasons] == ["b-red", "c-early", "a-late"]
    assert code.colour == "red"


def _data(pid, colour):
    return {
        "id": pid,
        "title": pid,
        "message": "m",
        "colour": colour,
        "effective_from": "2022-04-01T00:00:00+08:00",
    }
