"""The gate and closed-loop rules on hand-made timelines (fangkong.enterprises.rules): no
database, times in Beijing."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fangkong.enterprises.rules import (
    LoopMember,
    check_entry,
    closed_loop_compliance,
    exit_breaks_loop,
)

BJ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2022, 4, 20, 8, 0, tzinfo=BJ)


def entering(**changes):
    """A returning worker who meets every requirement, with `changes`."""
    facts = {
        "colour": "green",
        "pcr_negative_sampled_at": NOW - timedelta(hours=20),
        "origin_levels": ["prevention"],
        "origin_name": "自由大路社区",
        "antigen": "negative",
        "temperature": Decimal("36.5"),
        "mask": True,
        "now": NOW,
    }
    return check_entry(**{**facts, **changes})


def test_a_worker_who_meets_every_requirement_enters():
    check = entering()
    assert check.admitted is True
    assert check.reasons == ()


def test_a_negative_sampled_47_hours_59_minutes_ago_still_counts():
    sampled = NOW - timedelta(hours=47, minutes=59)
    assert entering(pcr_negative_sampled_at=sampled).admitted is True


def test_a_negative_sampled_exactly_48_hours_ago_still_counts():
    assert entering(pcr_negative_sampled_at=NOW - timedelta(hours=48)).admitted is True


def test_a_negative_sampled_48_hours_1_minute_ago_does_not():
    check = entering(pcr_negative_sampled_at=NOW - timedelta(hours=48, minutes=1))
    assert check.admitted is False
    assert len(check.reasons) == 1
    assert check.reasons[0].startswith("无48小时内核酸阴性结果")
    assert "04-18 07:59" in check.reasons[0]


def test_no_negative_at_all_is_refused_with_that_reason():
    check = entering(pcr_negative_sampled_at=None)
    assert check.reasons == ("无48小时内核酸阴性结果",)


def test_a_positive_antigen_at_the_gate_refuses_and_says_report_it():
    check = entering(antigen="positive")
    assert check.admitted is False
    assert check.reasons == ("入厂抗原检测阳性:不得入厂,须立即隔离并报告疾控",)


def test_an_invalid_antigen_means_test_again():
    check = entering(antigen="invalid")
    assert check.reasons == ("入厂抗原检测结果无效,须重新检测",)


def test_a_fever_from_37_3_refuses_but_37_2_does_not():
    assert entering(temperature=Decimal("37.2")).admitted is True
    check = entering(temperature=Decimal("37.3"))
    assert check.reasons == ("体温37.3℃,达到或超过37.3℃",)


def test_no_mask_refuses():
    assert entering(mask=False).reasons == ("未规范佩戴口罩",)


def test_a_worker_from_a_lockdown_community_is_refused_naming_it():
    check = entering(origin_levels=["lockdown"], origin_name="繁荣路社区")
    assert check.reasons == ("来自风险区(繁荣路社区,封控区),严禁返厂",)


def test_a_medium_risk_area_in_the_other_scheme_also_refuses():
    check = entering(origin_levels=["prevention", "medium"])
    assert check.admitted is False
    assert "中风险区" in check.reasons[0]


def test_a_yellow_code_and_several_failures_are_all_named():
    check = entering(colour="yellow", mask=False, antigen="positive")
    assert check.reasons == (
        "健康码为黄码,入厂须为绿码",
        "入厂抗原检测阳性:不得入厂,须立即隔离并报告疾控",
        "未规范佩戴口罩",
    )


APRIL_20 = date(2022, 4, 20)


def at(day: int, hour: int) -> datetime:
    return datetime(2022, 4, day, hour, tzinfo=BJ)


def test_a_daily_antigen_missed_yesterday_is_missed_this_morning():
    members = [
        LoopMember(1, since=at(10, 8), antigen_at=(at(19, 7),), pcr_sampled_at=(at(18, 9),)),
        LoopMember(2, since=at(10, 8), antigen_at=(at(18, 7),), pcr_sampled_at=(at(18, 9),)),
    ]
    compliance = closed_loop_compliance(members, APRIL_20, pcr_every_days=3, antigen_every_days=1)
    assert compliance.members == 2
    assert [(m.person_id, m.antigen, m.pcr) for m in compliance.missed] == [(2, True, False)]
    assert compliance.rate == 0.5


def test_a_pcr_three_days_and_one_minute_back_is_outside_the_window():
    window_opens = datetime(2022, 4, 17, 0, 0, tzinfo=BJ)
    inside = LoopMember(1, since=at(10, 8), antigen_at=(at(19, 7),), pcr_sampled_at=(window_opens,))
    outside = LoopMember(
        2,
        since=at(10, 8),
        antigen_at=(at(19, 7),),
        pcr_sampled_at=(window_opens - timedelta(minutes=1),),
    )
    compliance = closed_loop_compliance(
        [inside, outside], APRIL_20, pcr_every_days=3, antigen_every_days=1
    )
    assert [(m.person_id, m.pcr) for m in compliance.missed] == [(2, True)]


def test_a_test_on_the_morning_itself_does_not_count_for_the_day_before():
    member = LoopMember(1, since=at(10, 8), antigen_at=(at(20, 6),), pcr_sampled_at=(at(19, 9),))
    compliance = closed_loop_compliance([member], APRIL_20, pcr_every_days=3, antigen_every_days=1)
    assert [(m.antigen, m.pcr) for m in compliance.missed] == [(True, False)]


def test_someone_who_joined_the_loop_yesterday_is_not_yet_due():
    member = LoopMember(1, since=at(19, 10))
    compliance = closed_loop_compliance([member], APRIL_20, pcr_every_days=3, antigen_every_days=1)
    assert compliance.missed == ()
    assert compliance.rate == 1.0


def test_a_plant_with_nobody_in_the_loop_has_no_rate():
    assert closed_loop_compliance([], APRIL_20, pcr_every_days=3, antigen_every_days=1).rate is None


def test_only_testing_and_supplies_keep_the_loop():
    assert exit_breaks_loop("testing", closed_loop=True) is False
    assert exit_breaks_loop("supplies", closed_loop=True) is False
    assert exit_breaks_loop("other", closed_loop=True) is True
    assert exit_breaks_loop("other", closed_loop=False) is False
