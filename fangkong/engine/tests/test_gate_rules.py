"""Checkpoint requirements and exit-pass rules, decided from claims alone."""

from datetime import UTC, datetime, time, timedelta

import pytest

from fangkong.engine.gate_rules import (
    ExitRules,
    RuleError,
    check_code,
    check_exit,
    check_exit_pass,
    exit_pass_window,
    parse_exit_rules,
    parse_requirements,
)

NOW = datetime(2022, 4, 24, 2, 0, tzinfo=UTC)  # 10:00 in 长春
FACTORY = parse_requirements(
    {"colours": ["green"], "pcr_negative_within_hours": 48, "antigen_negative_today": True}
)


def ts(delta: timedelta) -> int:
    return int((NOW + delta).timestamp())


def test_a_green_code_with_a_recent_negative_and_todays_antigen_passes_a_factory_gate():
    claims = {"col": "green", "pcr": ts(-timedelta(hours=30)), "ag": ts(-timedelta(hours=1))}
    assert check_code(FACTORY, claims, NOW).passed


def test_a_factory_gate_names_every_missing_requirement():
    claims = {"col": "yellow", "pcr": ts(-timedelta(hours=52)), "ag": ts(-timedelta(hours=11))}
    decision = check_code(FACTORY, claims, NOW)
    assert not decision.passed
    assert decision.reasons[0] == "健康码为黄码,此处要求绿码"
    assert "无48小时内核酸阴性记录" in decision.reasons[1] and "距今52小时" in decision.reasons[1]
    assert decision.reasons[2] == "今日无抗原自测阴性记录"  # 23:00 yesterday, local time


def test_online_the_live_colour_overrides_the_colour_in_the_token():
    public = parse_requirements({})
    assert not check_code(public, {"col": "green"}, NOW, live_colour="yellow").passed
    assert check_code(public, {"col": "yellow"}, NOW, live_colour="green").passed


def test_a_testing_site_takes_any_colour():
    site = parse_requirements({"colours": ["green", "yellow", "red"], "records_sampling": True})
    assert check_code(site, {"col": "red"}, NOW).passed


def test_requirements_with_unknown_keys_or_values_are_refused():
    with pytest.raises(RuleError, match="未知的规则项"):
        parse_requirements({"colour": ["green"]})
    with pytest.raises(RuleError, match="未知取值"):
        parse_requirements({"colours": ["blue"]})
    with pytest.raises(RuleError, match="opens"):
        parse_exit_rules({"opens": "20:00", "closes": "06:00"})


GREEN_NEGATIVE = {"pcr": ts(-timedelta(hours=20))}


def exit_decision(**overrides):
    args = {
        "zone_level": "prevention",
        "colour": "green",
        "claims": GREEN_NEGATIVE,
        "household_passes_today": 0,
        "now": NOW,
    }
    return check_exit(ExitRules(), **(args | overrides))


def test_an_exit_pass_is_granted_in_a_prevention_zone():
    assert exit_decision().passed


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"zone_level": "lockdown"}, "所在小区为封控区,暂不能外出"),
        ({"zone_level": "control"}, "所在小区为管控区,暂不能外出"),
        ({"colour": "yellow"}, "健康码为黄码,需为绿码"),
        ({"household_passes_today": 1}, "每户每天限1人次外出,今日名额已用完"),
        ({"now": NOW + timedelta(hours=11)}, "外出时段为06:00-20:00,当前不在时段内"),
        ({"claims": {}}, "无48小时内核酸阴性记录"),
    ],
)
def test_an_exit_pass_is_denied_with_the_reason(overrides, reason):
    decision = exit_decision(**overrides)
    assert not decision.passed and reason in decision.reasons


def test_a_pass_lasts_its_minutes_but_never_past_closing_time():
    rules = ExitRules(pass_minutes=240, closes=time(12, 0))
    start, end = exit_pass_window(rules, NOW)
    assert start == NOW and end == NOW + timedelta(hours=2)


def test_at_the_gate_a_pass_of_another_compound_or_a_controlled_one_is_denied():
    claims = {"com": "220102001001"}
    assert check_exit_pass(claims, community_code="220102001001", zone_level=None).passed
    assert not check_exit_pass(claims, community_code="220102001002", zone_level=None).passed
    denied = check_exit_pass(claims, community_code="220102001001", zone_level="control")
    assert denied.reasons == ("小区已调整为管控区,通行码停用",)


def test_an_exit_refused_for_its_colour_names_every_colour_the_rules_accept():
    args = {"zone_level": "prevention", "claims": GREEN_NEGATIVE, "household_passes_today": 0}
    decision = check_exit(ExitRules(colours=("green", "yellow")), colour="red", now=NOW, **args)
    assert decision.reasons == ("健康码为红码,需为绿码或黄码",)
