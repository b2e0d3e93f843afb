"""Checkpoint requirements and exit rules as data: every value is read as what it says, and every
mistake is refused with its own words (the officials who edit these read them)."""

from datetime import datetime, time, timedelta, timezone

import pytest

from fangkong.engine.evaluate import DesignationFact, PersonFacts, ZoneFact, evaluate
from fangkong.engine.gate_rules import RuleError, parse_exit_rules, parse_requirements
from fangkong.engine.id_numbers import WEIGHTS, check_char, check_id_numbers, make_id_number
from fangkong.engine.policies import parse_policy


def refusal(parse, data) -> str:
    with pytest.raises(RuleError) as caught:
        parse(data)
    return str(caught.value)


def test_every_requirement_is_read_as_written():
    req = parse_requirements(
        {
            "kinds": ["fk-code", "fk-exit"],
            "colours": ["green", "yellow"],
            "pcr_negative_within_hours": 0,
            "antigen_negative_today": True,
            "records_sampling": True,
        }
    )
    assert req.kinds == ("fk-code", "fk-exit") and req.colours == ("green", "yellow")
    assert req.pcr_negative_within_hours == 0
    assert req.antigen_negative_today is True and req.records_sampling is True
    rules = parse_exit_rules(
        {"zone_levels": ["prevention", "control"], "allow_unzoned": False, "opens": "07:30"}
    )
    assert rules.zone_levels == ("prevention", "control") and rules.allow_unzoned is False
    assert rules.opens == time(7, 30)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"colour": [], "kind": []}, "未知的规则项: colour, kind"),
        ({"colours": "green"}, "colours 应为字符串列表"),
        ({"kinds": ["fk-code", 1]}, "kinds 应为字符串列表"),
        ({"colours": ["blue", "pink"]}, "colours 含未知取值: blue, pink"),
        ({"kinds": ["fk-pass"]}, "kinds 含未知取值: fk-pass"),
        ({"antigen_negative_today": 1}, "antigen_negative_today 应为 true/false"),
        ({"records_sampling": "yes"}, "records_sampling 应为 true/false"),
        ({"pcr_negative_within_hours": -1}, "pcr_negative_within_hours 应为非负整数"),
        ({"pcr_negative_within_hours": 2.5}, "pcr_negative_within_hours 应为非负整数"),
        ({"pcr_negative_within_hours": True}, "pcr_negative_within_hours 应为非负整数"),
    ],
)
def test_a_wrong_requirement_is_refused_in_its_own_words(data, words):
    assert refusal(parse_requirements, data) == words


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"zone_levels": ["red"]}, "zone_levels 含未知取值: red"),
        ({"allow_unzoned": "no"}, "allow_unzoned 应为 true/false"),
        ({"opens": "25:00"}, "opens 应为 HH:MM"),
        ({"per_household_per_day": None, "opens": "20:00"}, "opens 应早于 closes"),
    ],
)
def test_a_wrong_exit_rule_is_refused_in_its_own_words(data, words):
    assert refusal(parse_exit_rules, data) == words


def test_a_time_given_as_a_time_is_kept():
    assert parse_exit_rules({"closes": time(21, 0)}).closes == time(21, 0)


# -- the id number check's edges that only the exact words show ------------------------------------


def test_a_non_digit_just_after_nine_is_not_a_digit_even_with_a_matching_check_character():
    body = "2201021980010100:"  # ':' comes right after '9' in ASCII
    total = sum((ord(c) - 48) * w for c, w in zip(body, WEIGHTS, strict=True))
    forged = body + "10X98765432"[total % 11]
    verdicts = check_id_numbers([forged], datetime(2022, 4, 24).date())
    assert not verdicts.ok[0] and verdicts.reasons[0] == "前17位应为数字"


@pytest.mark.parametrize("region", ["220199", "220170"])
def test_an_unknown_code_that_is_no_zone_code_is_called_unknown(region):
    number = make_id_number(region, datetime(1980, 1, 1).date(), 1)
    reasons = check_id_numbers([number], datetime(2022, 4, 24).date()).reasons
    assert reasons[0] == f"地区代码{region}不是已知的县级行政区划代码"
    assert check_char(number[:17]) == number[17]


# -- zone levels and designations at the exact instant they become known --------------------------

BJ = timezone(timedelta(hours=8))
T = datetime(2022, 4, 24, 8, tzinfo=BJ)
ZONED = parse_policy(
    {
        "id": "zoned",
        "title": "t",
        "message": "m",
        "colour": "yellow",
        "effective_from": "2022-04-01T00:00:00+08:00",
        "trigger": {"type": "zone_level", "levels": ["lockdown"]},
    }
)
CONTACT = parse_policy(
    {
        "id": "contact",
        "title": "t",
        "message": "m",
        "colour": "red",
        "effective_from": "2022-04-01T00:00:00+08:00",
        "trigger": {"type": "designation", "kind": "close_contact"},
    }
)


def resident(zones=(), designations=()) -> PersonFacts:
    return PersonFacts(
        1,
        "220102001001",
        datetime(2022, 1, 1, tzinfo=BJ),
        designations=tuple(designations),
        zones=tuple(zones),
    )


def test_a_zone_recorded_and_starting_exactly_now_counts_now():
    assert evaluate([ZONED], resident([ZoneFact("lockdown", T, T)]), T).colour == "yellow"
    early = T - timedelta(microseconds=1)
    assert evaluate([ZONED], resident([ZoneFact("lockdown", T, T)]), early).colour == "green"


def test_the_latest_start_holds_and_of_equal_starts_the_latest_recorded():
    day = timedelta(days=1)
    lifted = [ZoneFact("lockdown", T - 2 * day, T - 2 * day), ZoneFact("prevention", T - day, T)]
    assert evaluate([ZONED], resident(lifted), T).colour == "green"
    relisted = [ZoneFact("prevention", T - day, T - day), ZoneFact("lockdown", T - day, T)]
    assert evaluate([ZONED], resident(relisted), T).colour == "yellow"
    (reason,) = evaluate([ZONED], resident(relisted), T).reasons
    assert reason.since == T - day


def test_a_designation_recorded_exactly_now_counts_now():
    d = DesignationFact(1, "close_contact", T - timedelta(days=1), None, "cdc", T)
    assert evaluate([CONTACT], resident(designations=[d]), T).colour == "red"
    assert evaluate([CONTACT], resident(designations=[d]), T - timedelta(seconds=1)).colour == (
        "green"
    )
