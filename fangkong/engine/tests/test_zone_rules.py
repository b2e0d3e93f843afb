"""Eligibility rules on hand-made timelines: days counted in Beijing time, contacts, screening
rounds, both rule sets as shipped, and rule files refused with reasons."""

import tomllib
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from fangkong.engine.zone_rules import (
    AWAITING,
    MISSING,
    NEGATIVE,
    NONE,
    PENDING,
    POSITIVE,
    AreaFacts,
    Contact,
    Positive,
    Screening,
    Swab,
    ZoneFact,
    ZoneRuleError,
    assess,
    check_rule_sets,
    full_days_since,
    met_from,
    parse_rule_set,
    resident_status,
    standing,
    tally,
    window_start,
)

BJ = ZoneInfo("Asia/Shanghai")
RULES = Path(__file__).resolve().parents[2] / "zones" / "rules"
PLAN = parse_rule_set(tomllib.loads((RULES / "plan-2021.toml").read_text()))
NINTH = parse_rule_set(tomllib.loads((RULES / "edition-9.toml").read_text()))


def bj(month, day, hour=0, minute=0):
    return datetime(2022, month, day, hour, minute, tzinfo=BJ)


def negative_round(day, residents=3):
    """Every resident swabbed in a negative 10-in-1 tube at 08:00 on `day` of April."""
    return [[Swab(bj(4, day, 8), 10, NEGATIVE)] for _ in range(residents)]


def community(now, residents=None, **facts):
    """A 封控区 community since 1 April whose only case was sampled on 1 April 10:00."""
    residents = negative_round(local_day_before(now)) if residents is None else residents
    defaults = {
        "code": "220102001001",
        "name": "自由大路社区",
        "county": "220102",
        "zones": (ZoneFact("lockdown", bj(4, 1, 12), bj(4, 1, 12)),),
        "positives": (Positive(bj(4, 1, 10), bj(4, 2, 9)),),
        "screenings": (tally(residents, 2, now), tally(residents, 1, now)),
    }
    return AreaFacts(**{**defaults, **facts})


def local_day_before(now):
    return (now - timedelta(days=1)).astimezone(BJ).day


def one(rules, area, now, action):
    [assessment] = assess([rules], [area], now)
    return assessment.finding(action)


# -- days in Beijing time --------------------------------------------------------------------


def test_whole_days_count_only_days_that_have_ended_after_the_day_of_the_case():
    case = bj(4, 1, 10)
    assert full_days_since(case, bj(4, 1, 23, 59)) == 0
    assert full_days_since(case, bj(4, 2, 0)) == 0
    assert full_days_since(case, bj(4, 3, 0)) == 1
    assert full_days_since(case, bj(4, 15, 23, 59)) == 13
    assert full_days_since(case, bj(4, 16, 0)) == 14
    assert full_days_since(case, bj(4, 17, 0)) == 15


def test_the_day_of_a_case_is_its_beijing_day_not_its_utc_day():
    late = bj(4, 1, 23, 30)  # 15:30 UTC on 1 April
    early = bj(4, 2, 0, 30)  # still 1 April in UTC
    assert met_from(late, 14) == bj(4, 16, 0)
    assert met_from(early, 14) == bj(4, 17, 0)


def test_a_day_that_begins_with_the_event_counts_whole():
    midnight = bj(4, 2, 0)
    assert met_from(midnight, 14) == bj(4, 16, 0)
    assert full_days_since(midnight, bj(4, 3, 0)) == 1
    assert full_days_since(midnight + timedelta(microseconds=1), bj(4, 3, 0)) == 0


def test_a_round_within_two_days_starts_at_midnight_two_days_before():
    assert window_start(bj(4, 16, 0), 2) == bj(4, 14, 0)
    assert window_start(bj(4, 16, 18, 30), 2) == bj(4, 14, 0)
    assert window_start(bj(4, 16, 18, 30), 1) == bj(4, 15, 0)


# -- the 2021 plan: 封控区、管控区 -------------------------------------------------------------


def test_a_lockdown_is_not_released_after_13_days_without_a_case():
    now = bj(4, 15, 12)
    finding = one(PLAN, community(now), now, "release")
    assert not finding.due
    assert finding.level == "lockdown" and finding.to == "prevention"
    assert finding.reasons == (
        "末例阳性感染者采样于2022-04-01 10:00,连续无新增仅13天,不足14天(2022-04-16 00:00起满足)",
    )
    assert finding.checks[0].met_from == bj(4, 16, 0)


def test_a_lockdown_is_released_once_the_14th_day_has_ended():
    now = bj(4, 16, 0)
    finding = one(PLAN, community(now), now, "release")
    assert finding.due and finding.reasons == ()
    assert [c.text for c in finding.checks] == [
        "末例阳性感染者采样于2022-04-01 10:00,已连续14天无新增(要求14天)",
        "无密切接触者",
        "2022-04-14 00:00以来的筛查:居民3人,均为阴性",
    ]


def test_a_lockdown_is_still_released_on_the_15th_day():
    now = bj(4, 17, 9)
    assert one(PLAN, community(now), now, "release").due


def test_a_control_zone_follows_the_same_rule_as_a_lockdown():
    now = bj(4, 16, 0)
    area = community(now, zones=(ZoneFact("control", bj(4, 1, 12), bj(4, 1, 12)),))
    finding = one(PLAN, area, now, "release")
    assert finding.due and finding.level == "control" and finding.to == "prevention"


def test_a_close_contact_counts_from_exposure_under_the_2021_plan():
    contact = Contact("close_contact", bj(4, 3, 9), bj(4, 17, 9), bj(4, 3, 12))
    early = bj(4, 17, 23, 59)
    finding = one(PLAN, community(early, contacts=(contact,)), early, "release")
    assert finding.reasons == (
        "末位密切接触者暴露(判定起始)于2022-04-03 09:00,仅13天,不足14天(2022-04-18 00:00起满足)",
    )
    now = bj(4, 18, 0)
    assert one(PLAN, community(now, contacts=(contact,)), now, "release").due


def test_a_contact_released_late_holds_the_release_until_they_leave_isolation():
    late = Contact("close_contact", bj(4, 3, 9), bj(4, 25, 8), bj(4, 3, 12))
    now = bj(4, 24, 0)
    finding = one(PLAN, community(now, contacts=(late,)), now, "release")
    assert finding.reasons == ("尚有1名密切接触者在隔离期内",)
    after = bj(4, 25, 9)
    assert one(PLAN, community(after, contacts=(late,)), after, "release").due


def test_a_contact_with_no_end_is_still_in_isolation():
    open_ended = Contact("close_contact", bj(4, 3, 9), None, bj(4, 3, 12))
    now = bj(4, 28)
    finding = one(PLAN, community(now, contacts=(open_ended,)), now, "release")
    assert finding.reasons == ("尚有1名密切接触者在隔离期内",)


def test_secondary_contacts_do_not_hold_a_lockdown_under_the_2021_plan():
    secondary = Contact("secondary_contact", bj(4, 10, 9), None, bj(4, 10, 12))
    now = bj(4, 16, 0)
    assert one(PLAN, community(now, contacts=(secondary,)), now, "release").due


def test_a_round_with_one_resident_missing_holds_the_release():
    now = bj(4, 16, 0)
    residents = [*negative_round(15, 2), []]
    finding = one(PLAN, community(now, residents), now, "release")
    assert finding.reasons == (
        "2022-04-14 00:00以来的筛查:居民3人,已采样2人,阴性2人,未采样1人,"
        "混管阳性待复核0人,阳性0人,结果未出0人",
    )


def test_a_round_sampled_before_the_window_does_not_count():
    now = bj(4, 16, 0)
    finding = one(PLAN, community(now, negative_round(13)), now, "release")
    assert not finding.due
    assert "未采样3人" in finding.reasons[0]


def test_a_pooled_positive_tube_awaiting_retest_holds_the_release():
    now = bj(4, 16, 0)
    pool = [[Swab(bj(4, 15, 8), 10, POSITIVE)] for _ in range(2)]
    finding = one(PLAN, community(now, pool), now, "release")
    assert "混管阳性待复核2人" in finding.reasons[0]
    retested = [[*swabs, Swab(bj(4, 15, 14), 1, NEGATIVE)] for swabs in pool]
    assert one(PLAN, community(now, retested), now, "release").due


def test_a_community_with_no_residents_cannot_show_a_negative_round():
    now = bj(4, 16, 0)
    finding = one(PLAN, community(now, []), now, "release")
    assert finding.reasons == ("无登记居民,无法判定筛查",)


def test_a_rule_set_asking_for_a_round_the_facts_lack_says_so():
    now = bj(4, 16, 0)
    area = replace(community(now), screenings=())
    assert one(PLAN, area, now, "release").reasons == ("无2天内的筛查数据",)


def test_a_positive_recorded_later_does_not_change_a_past_assessment():
    late = Positive(bj(4, 10, 8), bj(4, 20, 9))
    then = bj(4, 16, 0)
    area = community(then, positives=(Positive(bj(4, 1, 10), bj(4, 2, 9)), late))
    assert one(PLAN, area, then, "release").due
    later = bj(4, 20, 10)
    area = community(later, positives=area.positives)
    finding = one(PLAN, area, later, "release")
    assert not finding.due
    assert finding.reasons[0].startswith("末例阳性感染者采样于2022-04-10 08:00,连续无新增仅9天")


def test_a_contact_recorded_later_or_corrected_counts_only_from_then():
    recorded_later = Contact("close_contact", bj(4, 10, 9), None, bj(4, 17, 0))
    corrected = Contact("close_contact", bj(4, 12, 9), None, bj(4, 12, 10), bj(4, 15, 0))
    now = bj(4, 16, 0)
    area = community(now, contacts=(recorded_later, corrected))
    assert one(PLAN, area, now, "release").due
    assert one(PLAN, area, bj(4, 17, 0), "release").reasons[0] == "尚有1名密切接触者在隔离期内"


# -- the 2021 plan: 防范区 and positives -------------------------------------------------------


def test_a_prevention_zone_is_released_only_when_its_county_has_no_lockdown_or_control():
    now = bj(4, 16, 0)
    prevention = (ZoneFact("prevention", bj(4, 1), bj(4, 1)),)
    guard = community(now, code="220102001002", zones=prevention)
    locked = community(now, positives=(Positive(bj(4, 14, 8), bj(4, 14, 20)),))
    elsewhere = community(now, code="220104001001", county="220104")
    found = {a.code: a for a in assess([PLAN], [guard, locked, elsewhere], now)}
    release = found["220102001002"].finding("release")
    assert not release.due and release.to == NONE
    assert release.reasons == ("本区县尚有1个封控区、管控区未解除",)
    ended = replace(locked, zones=(ZoneFact("lockdown", bj(4, 1), bj(4, 1), bj(4, 15)),))
    found = {a.code: a for a in assess([PLAN], [guard, ended, elsewhere], now)}
    release = found["220102001002"].finding("release")
    assert release.due and release.checks[0].text == "本区县已无封控区、管控区"


def test_a_positive_in_a_control_zone_proposes_a_lockdown_at_once():
    now = bj(4, 12, 9)
    area = community(
        now,
        zones=(ZoneFact("control", bj(4, 5), bj(4, 5)),),
        positives=(Positive(bj(4, 1, 10), bj(4, 2, 9)), Positive(bj(4, 11, 8), bj(4, 12, 8))),
    )
    finding = one(PLAN, area, now, "escalate")
    assert finding.due and finding.level == "control" and finding.to == "lockdown"
    assert finding.basis == bj(4, 12, 8)
    assert finding.reasons == (
        "管控区内新增阳性感染者1例(最近一例采样于2022-04-11 08:00,"
        "入库于2022-04-12 08:00),应即划为封控区",
    )


def test_a_positive_known_before_the_zone_began_proposes_nothing():
    now = bj(4, 12, 9)
    area = community(now, zones=(ZoneFact("prevention", bj(4, 5), bj(4, 5)),))
    finding = one(PLAN, area, now, "escalate")
    assert not finding.due
    assert finding.checks[0].text == "防范区内无新增阳性感染者"


def test_only_recent_positives_propose_a_lockdown_for_an_unzoned_community():
    old = community(bj(4, 16, 0), zones=())
    assert not one(PLAN, old, bj(4, 16, 0), "escalate").due
    assert one(PLAN, old, bj(4, 15, 23, 59), "escalate").due


def test_a_lockdown_has_nothing_to_escalate_to():
    now = bj(4, 3)
    assert one(PLAN, community(now), now, "escalate") is None


# -- the 9th edition -------------------------------------------------------------------------


def risk_area(now, zones, residents=None):
    return community(now, residents, zones=zones)


def test_a_high_risk_area_becomes_medium_after_7_days_and_a_round_on_day_7():
    zones = (ZoneFact("high", bj(4, 1, 12), bj(4, 1, 12)),)
    early = bj(4, 8, 23, 59)
    finding = one(NINTH, risk_area(early, zones), early, "release")
    assert finding.reasons == (
        "末例阳性感染者采样于2022-04-01 10:00,连续无新增仅6天,不足7天(2022-04-09 00:00起满足)",
    )
    now = bj(4, 9, 0)
    finding = one(NINTH, risk_area(now, zones), now, "release")
    assert finding.due and finding.to == "medium"
    assert finding.checks[1].text == "2022-04-08 00:00以来的筛查:居民3人,均为阴性"
    stale = risk_area(now, zones, negative_round(7))
    assert not one(NINTH, stale, now, "release").due


def test_a_medium_area_that_was_high_becomes_low_three_days_later():
    zones = (
        ZoneFact("high", bj(4, 1, 12), bj(4, 1, 12)),
        ZoneFact("medium", bj(4, 9, 0), bj(4, 9, 0)),
    )
    early = bj(4, 11, 23, 59)
    finding = one(NINTH, risk_area(early, zones), early, "release")
    assert finding.to == "low"
    assert finding.reasons == (
        "末例阳性感染者采样于2022-04-01 10:00,连续无新增仅9天,不足10天(2022-04-12 00:00起满足)",
        "自2022-04-09 00:00为中风险区,仅2天,不足3天(2022-04-12 00:00起满足)",
    )
    now = bj(4, 12, 0)
    assert one(NINTH, risk_area(now, zones), now, "release").due


def test_a_medium_area_with_no_case_for_7_days_becomes_low():
    zones = (ZoneFact("medium", bj(4, 1, 12), bj(4, 1, 12)),)
    assert not one(NINTH, risk_area(bj(4, 8, 23), zones), bj(4, 8, 23), "release").due
    finding = one(NINTH, risk_area(bj(4, 9, 0), zones), bj(4, 9, 0), "release")
    assert finding.due and [c.name for c in finding.checks] == ["cases"]


def test_a_positive_in_a_low_risk_area_proposes_a_high_risk_area():
    zones = (ZoneFact("low", bj(4, 5), bj(4, 5)),)
    area = replace(risk_area(bj(4, 6), zones), positives=(Positive(bj(4, 5, 8), bj(4, 5, 20)),))
    finding = one(NINTH, area, bj(4, 6), "escalate")
    assert finding.due and finding.to == "high"


# -- standing levels -------------------------------------------------------------------------


def test_the_standing_level_knows_the_level_before_it():
    zones = (
        ZoneFact("high", bj(4, 1), bj(4, 1)),
        ZoneFact("medium", bj(4, 9), bj(4, 8)),
        ZoneFact("lockdown", bj(4, 2), bj(4, 2)),
    )
    at = standing(zones, "risk_areas", bj(4, 10))
    assert (at.level, at.since, at.previous) == ("medium", bj(4, 9), "high")
    assert standing(zones, "risk_areas", bj(4, 8, 12)).level == "high"
    assert standing(zones, "three_zones", bj(4, 10)).previous == NONE


def test_a_level_recorded_later_does_not_stand_before_it_was_recorded():
    zones = (ZoneFact("high", bj(4, 1), bj(4, 3)),)
    assert standing(zones, "risk_areas", bj(4, 2)).level == NONE
    assert standing(zones, "risk_areas", bj(4, 3)).level == "high"


def test_an_ended_level_leaves_no_level_since_its_end():
    zones = (ZoneFact("prevention", bj(4, 1), bj(4, 1), bj(4, 20)),)
    at = standing(zones, "three_zones", bj(4, 21))
    assert (at.level, at.since, at.previous) == (NONE, bj(4, 20), "prevention")
    assert standing(zones, "three_zones", bj(4, 19)).level == "prevention"


# -- epidemic-free labels --------------------------------------------------------------------


def test_an_area_earns_the_label_after_14_days_free_of_cases_and_contacts():
    released = Contact("secondary_contact", bj(4, 2, 9), bj(4, 10, 9), bj(4, 2, 12))
    early = bj(4, 24, 23, 59)
    area = community(early, zones=(), contacts=(released,))
    finding = one(PLAN, area, early, "award")
    assert finding.to == "无疫小区"
    assert finding.reasons == (
        "末位密切接触者、次密切接触者解除隔离于2022-04-10 09:00,仅13天,"
        "不足14天(2022-04-25 00:00起满足)",
    )
    now = bj(4, 25, 0)
    assert one(PLAN, community(now, zones=(), contacts=(released,)), now, "award").due


def test_a_town_earns_its_own_label():
    now = bj(4, 16, 0)
    town = community(now, code="220102001", kind="town", zones=())
    [assessment] = assess([PLAN], [town], now)
    assert [(f.action, f.to, f.due) for f in assessment.findings] == [
        ("award", "无疫乡镇(街道)", True)
    ]


def test_a_positive_withdraws_the_label_with_the_reason():
    now = bj(4, 20, 9)
    area = community(
        now,
        zones=(),
        labelled_since=bj(4, 17),
        positives=(Positive(bj(4, 19, 8), bj(4, 20, 8)),),
    )
    finding = one(PLAN, area, now, "withdraw")
    assert finding.due
    assert finding.reasons == (
        "末例阳性感染者采样于2022-04-19 08:00,连续无新增仅0天,不足14天(2022-05-04 00:00起满足)",
    )


def test_a_label_is_kept_without_a_new_round_but_not_after_a_positive_pool():
    now = bj(4, 22, 9)
    area = community(now, negative_round(16), zones=(), labelled_since=bj(4, 17))
    assert not one(PLAN, area, now, "withdraw").due
    pool = [[Swab(bj(4, 22, 7), 20, POSITIVE)]]
    finding = one(PLAN, community(now, pool, zones=(), labelled_since=bj(4, 17)), now, "withdraw")
    assert finding.due and "混管阳性待复核1人" in finding.reasons[0]


def test_a_rule_set_may_withdraw_labels_when_no_round_is_held():
    strict = replace(
        PLAN, epidemic_free=replace(PLAN.epidemic_free, withdraw_on_stale_screening=True)
    )
    now = bj(4, 22, 9)
    area = community(now, negative_round(16), zones=(), labelled_since=bj(4, 17))
    assert one(strict, area, now, "withdraw").due


# -- screening rounds, one resident at a time --------------------------------------------------


def test_a_residents_place_in_the_round():
    start, now = bj(4, 14), bj(4, 16)
    assert resident_status([], start, now) == MISSING
    assert resident_status([Swab(bj(4, 13, 23, 59), 1, NEGATIVE)], start, now) == MISSING
    assert resident_status([Swab(bj(4, 14), 1, NEGATIVE)], start, now) == NEGATIVE
    assert resident_status([Swab(bj(4, 16, 0, 1), 1, NEGATIVE)], start, now) == MISSING
    assert resident_status([Swab(bj(4, 15), 10, None)], start, now) == PENDING
    assert resident_status([Swab(bj(4, 15), 10, "invalid")], start, now) == PENDING
    assert resident_status([Swab(bj(4, 15), 1, POSITIVE)], start, now) == POSITIVE
    pool = Swab(bj(4, 15, 8), 10, POSITIVE)
    assert resident_status([pool], start, now) == AWAITING
    assert resident_status([pool, Swab(bj(4, 15, 8), 1, NEGATIVE)], start, now) == AWAITING
    assert resident_status([pool, Swab(bj(4, 15, 20), 10, NEGATIVE)], start, now) == AWAITING
    assert resident_status([pool, Swab(bj(4, 15, 20), 1, NEGATIVE)], start, now) == NEGATIVE
    assert resident_status([Swab(bj(4, 15, 20), 1, NEGATIVE), pool], start, now) == NEGATIVE


def test_a_round_counts_every_kind_of_resident():
    now = bj(4, 16)
    residents = [
        [Swab(bj(4, 15), 10, NEGATIVE)],
        [Swab(bj(4, 15), 10, POSITIVE)],
        [Swab(bj(4, 15), 1, POSITIVE)],
        [Swab(bj(4, 15), 10, None)],
        [],
    ]
    s = tally(residents, 2, now)
    assert s == Screening(2, 5, 4, 1, 1, 1)
    assert (s.missing, s.pending, s.all_negative) == (1, 1, False)
    assert s.as_dict() == {
        "days": 2,
        "residents": 5,
        "sampled": 4,
        "negative": 1,
        "missing": 1,
        "awaiting_retest": 1,
        "positive": 1,
        "pending": 1,
    }
    assert Screening(2, 0, 0, 0).all_negative is False


def test_an_assessment_reads_as_json_with_its_evidence():
    now = bj(4, 16, 0)
    contact = Contact("close_contact", bj(4, 1, 9), bj(4, 14, 9), bj(4, 1, 12))
    [a] = assess([PLAN, NINTH], [community(now, contacts=(contact,))], now)
    data = a.as_dict()
    assert data["levels"] == {
        "three_zones": {
            "level": "lockdown",
            "since": "2022-04-01T12:00:00+08:00",
            "previous": NONE,
        },
        "risk_areas": {"level": NONE, "since": None, "previous": NONE},
    }
    assert data["evidence"]["last_positive_sampled_at"] == "2022-04-01T10:00:00+08:00"
    assert data["evidence"]["last_positive_known_at"] == "2022-04-02T09:00:00+08:00"
    assert data["evidence"]["days_without_case"] == 14
    assert data["evidence"]["contacts"] == [
        {
            "kind": "close_contact",
            "count": 1,
            "in_isolation": 0,
            "last_exposure": "2022-04-01T09:00:00+08:00",
            "last_release": "2022-04-14T09:00:00+08:00",
        }
    ]
    assert [f["action"] for f in data["findings"]] == ["release", "award"]
    assert data["findings"][0]["due"] is True and data["findings"][0]["reasons"] == []
    assert data["findings"][0]["checks"][0]["met_from"] is None
    assert [f.action for f in a.due] == ["release"]


# -- rule files ------------------------------------------------------------------------------


def problems_of(data):
    with pytest.raises(ZoneRuleError) as caught:
        parse_rule_set(data)
    return caught.value.problems


GOOD = {
    "id": "test-rules",
    "title": "测试",
    "scheme": "three_zones",
    "release": [{"from": ["lockdown"], "to": "prevention", "days_without_case": 14}],
}


def test_the_shipped_rule_sets_read_and_go_together():
    assert (PLAN.scheme, NINTH.scheme) == ("three_zones", "risk_areas")
    assert [r.to for r in NINTH.releases] == ["medium", "low", "low"]
    check_rule_sets([PLAN, NINTH])


def test_a_misspelt_key_is_refused_with_a_suggestion():
    data = {**GOOD, "release": [{**GOOD["release"][0], "days_without_cases": 3}]}
    assert problems_of(data) == [
        "release[0].days_without_cases: 未知字段,是否应为 days_without_case?"
    ]
    assert problems_of({**GOOD, "zzz": 1}) == [
        "zzz: 未知字段(可用:id、title、scheme、release、escalate、epidemic_free)"
    ]


def test_values_of_the_wrong_type_or_out_of_bounds_are_refused():
    release = GOOD["release"][0]
    assert problems_of({**GOOD, "release": [{**release, "days_without_case": "14"}]}) == [
        "release[0].days_without_case: 应为整数,而不是 '14'"
    ]
    assert problems_of({**GOOD, "release": [{**release, "days_without_case": 61}]}) == [
        "release[0].days_without_case: 应为1–60的整数"
    ]
    assert problems_of({**GOOD, "release": [{**release, "screening_days": 8}]}) == [
        "release[0].screening_days: 应为1–7的整数"
    ]
    assert problems_of({**GOOD, "release": [{**release, "days_without_case": 0}]}) == [
        "release[0].days_without_case: 应为1–60的整数"
    ]
    assert parse_rule_set({**GOOD, "release": [{**release, "days_without_case": 60}]})


def test_levels_must_belong_to_the_rule_sets_scheme():
    release = GOOD["release"][0]
    assert problems_of({**GOOD, "release": [{**release, "from": ["high"]}]}) == [
        "release[0].from: 应为 prevention, control, lockdown 中的一个或多个,不重复"
    ]
    assert problems_of({**GOOD, "release": [{**release, "to": "lockdown"}]}) == [
        "release[0].to: 不能与 from 相同"
    ]
    assert problems_of({**GOOD, "release": [{**release, "to": "low"}]}) == [
        "release[0].to: 应为 prevention, control, lockdown, none 之一"
    ]
    assert problems_of({**GOOD, "scheme": "zones"}) == [
        "scheme: 应为 three_zones(三区划分)或 risk_areas(风险区)",
        "release[0].from: 应为  中的一个或多个,不重复",
        "release[0].to: 应为 none 之一",
    ]


def test_contact_criteria_need_kinds_days_and_a_known_measure():
    release = GOOD["release"][0]
    assert problems_of({**GOOD, "release": [{**release, "contact_kinds": ["close_contact"]}]}) == [
        "release[0].contact_kinds 与 contact_days 须同时给出"
    ]
    wrong = {**release, "contact_kinds": ["neighbour"], "contact_days": 14}
    assert problems_of({**GOOD, "release": [wrong]}) == [
        "release[0].contact_kinds: 应为 close_contact, secondary_contact, spacetime_companion"
        " 中的一个或多个,不重复"
    ]
    measure = {**release, "contact_kinds": "close_contact", "contact_days": 14}
    assert problems_of({**GOOD, "release": [{**measure, "contact_days_from": "start"}]}) == [
        "release[0].contact_days_from: 应为 exposure(暴露)或 release(解除隔离)"
    ]


def test_a_rule_with_no_criterion_or_a_file_with_no_rule_is_refused():
    assert problems_of({**GOOD, "release": [{"from": "lockdown", "to": "none"}]}) == [
        "release[0]: 至少需要一个条件(days_without_case、screening_days 等)"
    ]
    assert problems_of({**GOOD, "release": []}) == [
        "规则文件至少应有 release、escalate 或 epidemic_free 之一"
    ]
    assert problems_of({**GOOD, "release": "x"}) == [
        "release: 应为 [[release]] 表的列表",
        "规则文件至少应有 release、escalate 或 epidemic_free 之一",
    ]
    assert problems_of({**GOOD, "release": ["x"]}) == [
        "release[0]: 应为表([[release]] 下写 from、to 等)"
    ]


def test_escalation_and_label_tables_are_checked_too():
    assert problems_of({**GOOD, "escalate": {"from": ["control"], "to": "lockdown"}}) == [
        "escalate.recent_days: 必填(多少天内采样的阳性算作新增)"
    ]
    assert problems_of({**GOOD, "escalate": {"from": "none", "to": "none", "recent_days": 3}}) == [
        "escalate.to: 应为 prevention, control, lockdown 之一"
    ]
    assert problems_of({**GOOD, "escalate": 3}) == [
        "escalate: 应为表([escalate] 下写 from、to、recent_days)"
    ]
    assert problems_of(
        {**GOOD, "epidemic_free": {"areas": ["village"], "days_without_case": 14}}
    ) == ["epidemic_free.areas: 应为 community, town 中的一个或多个,不重复"]
    assert problems_of({**GOOD, "epidemic_free": {"withdraw_on_stale_screening": 1}}) == [
        "epidemic_free.withdraw_on_stale_screening: 应为true 或 false,而不是 1",
        "epidemic_free: 至少需要一个条件(days_without_case、screening_days 等)",
    ]
    assert problems_of({**GOOD, "epidemic_free": []}) == [
        "epidemic_free: 应为表([epidemic_free] 下写条件)"
    ]


def test_an_id_and_a_title_are_required():
    assert problems_of({**GOOD, "id": "Plan 2021", "title": " "}) == [
        "id: 应为2–63位小写字母、数字或连字符",
        "title: 必填,应为文本",
    ]
    assert problems_of([]) == ["规则文件应为一个表(TOML)或对象(JSON)"]


def test_two_rule_sets_for_one_scheme_or_two_label_rules_are_refused():
    other = replace(NINTH, id="edition-10")
    with pytest.raises(ZoneRuleError) as caught:
        check_rule_sets([PLAN, NINTH, other, replace(PLAN, id="plan-2", scheme="x")])
    assert caught.value.problems == [
        "edition-10: 与 edition-9 同为风险区的规则",
        "plan-2021、plan-2: 只能有一个规则文件规定无疫小区条件(epidemic_free)",
    ]


# -- small pieces the rules rest on ------------------------------------------------------------


def test_of_two_levels_started_together_the_later_recorded_then_the_stricter_stands():
    same = bj(4, 5)
    later = (ZoneFact("lockdown", same, bj(4, 5, 1)), ZoneFact("control", same, bj(4, 5, 2)))
    assert standing(later, "three_zones", bj(4, 6)).level == "control"
    tied = (ZoneFact("control", same, same), ZoneFact("lockdown", same, same))
    assert standing(tied, "three_zones", bj(4, 6)).level == "lockdown"
    assert standing(tied[::-1], "three_zones", bj(4, 6)).level == "lockdown"


def test_a_level_ending_now_no_longer_stands_and_one_starting_now_does():
    zones = (ZoneFact("high", bj(4, 1), bj(4, 1), bj(4, 9)), ZoneFact("medium", bj(4, 9), bj(4, 1)))
    at = standing(zones, "risk_areas", bj(4, 9))
    assert (at.level, at.previous) == ("medium", "high")
    assert standing(zones, "risk_areas", bj(4, 9) - timedelta(microseconds=1)).level == "high"


def test_a_positive_recorded_the_instant_a_level_began_is_not_new_to_it():
    since = bj(4, 5)
    zones = (ZoneFact("control", since, since),)
    at_start = replace(community(bj(4, 6)), zones=zones, positives=(Positive(bj(4, 4), since),))
    assert not one(PLAN, at_start, bj(4, 6), "escalate").due
    just_after = replace(at_start, positives=(Positive(bj(4, 4), since + timedelta(seconds=1)),))
    assert one(PLAN, just_after, bj(4, 6), "escalate").due


def test_the_evidence_counts_the_designations_each_row_stands_for():
    now = bj(4, 16)
    contacts = (
        Contact("close_contact", bj(4, 1), bj(4, 10), bj(4, 1), count=5),
        Contact("close_contact", bj(4, 3), None, bj(4, 3), count=2),
        Contact("secondary_contact", bj(4, 2), None, bj(4, 2)),
    )
    [a] = assess([PLAN], [community(now, contacts=contacts, positives=())], now)
    close, secondary = a.evidence.contacts
    assert (close.kind, close.count, close.in_isolation) == ("close_contact", 7, 2)
    assert (close.last_exposure, close.last_release) == (bj(4, 3), bj(4, 10))
    assert (secondary.count, secondary.in_isolation, secondary.last_release) == (1, 1, None)
    assert a.evidence.last_positive is None and a.evidence.days_without_case is None
    assert a.finding("release").reasons == ("尚有2名密切接触者在隔离期内",)
    assert a.finding("release").checks[0].text == "无阳性感染者记录(要求连续14天无新增)"


def test_a_contact_due_to_start_later_is_not_yet_counted():
    upcoming = Contact("close_contact", bj(4, 17), None, bj(4, 15))
    now = bj(4, 16)
    assert one(PLAN, community(now, contacts=(upcoming,)), now, "release").due


def test_a_kept_label_lapses_when_a_round_finds_a_single_tube_positive():
    now = bj(4, 22, 9)
    found = [[Swab(bj(4, 21, 7), 1, POSITIVE)], *negative_round(21, 2)]
    area = community(now, found, zones=(), labelled_since=bj(4, 17))
    finding = one(PLAN, area, now, "withdraw")
    assert finding.due
    assert finding.reasons[-1] == (
        "2022-04-20 00:00以来的筛查:居民3人,已采样3人,阴性2人,未采样0人,"
        "混管阳性待复核0人,阳性1人,结果未出0人"
    )


def test_time_at_the_level_is_named_when_it_is_met():
    zones = (
        ZoneFact("high", bj(4, 1, 12), bj(4, 1, 12)),
        ZoneFact("medium", bj(4, 9, 0), bj(4, 9, 0)),
    )
    finding = one(NINTH, risk_area(bj(4, 13), zones), bj(4, 13), "release")
    assert [c.text for c in finding.checks] == [
        "末例阳性感染者采样于2022-04-01 10:00,已连续11天无新增(要求10天)",
        "自2022-04-09 00:00为中风险区,已满4天(要求3天)",
    ]


def test_more_bounds_of_the_rule_file():
    release = GOOD["release"][0]
    assert parse_rule_set({**GOOD, "release": [{**release, "screening_days": 7}]})
    assert parse_rule_set({**GOOD, "release": {**release, "days_without_case": 1}}).releases
    assert problems_of({**GOOD, "release": [{**release, "from": ["lockdown", "lockdown"]}]}) == [
        "release[0].from: 应为 prevention, control, lockdown 中的一个或多个,不重复"
    ]
    assert problems_of({**GOOD, "release": [{**release, "from": []}]}) == [
        "release[0].from: 应为 prevention, control, lockdown 中的一个或多个"
    ]
    assert problems_of({**GOOD, "release": [{**release, "previous": ["high"]}]}) == [
        "release[0].previous: 应为 prevention, control, lockdown, none 中的一个或多个,不重复"
    ]
    escalate = {"from": ["control", "lockdown"], "to": "lockdown", "recent_days": 3}
    assert problems_of({**GOOD, "escalate": escalate}) == ["escalate.to: 不能与 from 相同"]
    assert problems_of({**GOOD, "title": 3}) == ["title: 必填,应为文本"]
    parsed = parse_rule_set({**GOOD, "title": " 测试 ", "escalate": {**escalate, "from": "none"}})
    assert parsed.title == "测试" and parsed.escalation.levels == ("none",)
    assert parsed.escalation.recent_days == 3
    assert parsed.levels == ("prevention", "control", "lockdown")
