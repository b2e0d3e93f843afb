"""Eligibility from the facts in the database, as of any time: residents, screening rounds,
positives and contacts counted per community and town, each assessment reproducible later."""

from datetime import timedelta

import pytest

from fangkong.engine.zone_rules import ZoneRuleError
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.tests.support import report_result, sample
from fangkong.zones.eligibility import assess_areas, load_rule_sets, read_rule_set
from fangkong.zones.tests.test_eligibility_timelines import (  # noqa: F401 (a fixture)
    bj,
    designate,
    found,
    street_fixture,
)

pytestmark = pytest.mark.django_db


def test_a_lockdown_is_released_from_the_facts_once_14_days_have_ended(street):
    street.lockdown(street.a)
    street.case(street.people[street.a][0], bj(4, 1, 10), "P-1", bj(4, 2, 9))
    street.negative_round(street.a, 15, "R-15")
    early = found(bj(4, 15, 23, 59), street.a).finding("release")
    assert not early.due and early.to == "prevention"
    assert early.reasons[0].startswith("末例阳性感染者采样于2022-04-01 10:00,连续无新增仅13天")
    assessment = found(bj(4, 16, 0), street.a)
    assert assessment.finding("release").due
    evidence = assessment.as_dict()["evidence"]
    assert evidence["last_positive_sampled_at"] == "2022-04-01T10:00:00+08:00"
    assert evidence["last_positive_known_at"] == "2022-04-02T09:01:00+08:00"
    assert evidence["screenings"][1] == {
        "days": 2,
        "residents": 3,
        "sampled": 3,
        "negative": 3,
        "missing": 0,
        "awaiting_retest": 0,
        "positive": 0,
        "pending": 0,
    }


def test_a_round_with_one_resident_missing_is_counted_and_holds_the_release(street):
    street.lockdown(street.a)
    sample(street.people[street.a][:2], "R-15", 10, bj(4, 15, 8))
    report_result("R-15", "negative", bj(4, 15, 20))
    release = found(bj(4, 16, 0), street.a).finding("release")
    assert release.reasons == (
        "2022-04-14 00:00以来的筛查:居民3人,已采样2人,阴性2人,未采样1人,"
        "混管阳性待复核0人,阳性0人,结果未出0人",
    )


def test_a_pooled_positive_tube_holds_the_round_until_each_member_is_retested(street):
    street.lockdown(street.a)
    people = street.people[street.a]
    sample(people, "R-15", 10, bj(4, 15, 8))
    report_result("R-15", "positive", bj(4, 15, 12))
    screening = found(bj(4, 15, 13), street.a).evidence.screenings[1]
    assert (screening.awaiting_retest, screening.negative) == (3, 0)
    for i, person in enumerate(people):
        sample([person], f"S-{i}", 1, bj(4, 15, 14))
        report_result(f"S-{i}", "negative", bj(4, 15, 18))
    before_the_pool_was_reported = found(bj(4, 15, 11), street.a).evidence.screenings[1]
    assert (before_the_pool_was_reported.pending, before_the_pool_was_reported.awaiting_retest) == (
        3,
        0,
    )
    assert found(bj(4, 15, 13), street.a).evidence.screenings[1].awaiting_retest == 3
    retested = found(bj(4, 15, 19), street.a).evidence.screenings[1]
    assert (retested.awaiting_retest, retested.negative) == (0, 3)
    assert found(bj(4, 16, 0), street.a).finding("release").due


def test_a_past_assessment_does_not_change_when_later_facts_arrive(street):
    street.lockdown(street.a)
    street.case(street.people[street.a][0], bj(4, 1, 10), "P-1", bj(4, 2, 9))
    street.negative_round(street.a, 15, "R-15")
    then = bj(4, 16, 0)
    before = found(then, street.a).as_dict()
    street.case(street.people[street.a][1], bj(4, 14, 9), "P-2", bj(4, 16, 8))
    designate(street.people[street.a][2], "密接", bj(4, 14, 9), None, bj(4, 16, 9))
    assert found(then, street.a).as_dict() == before
    later = found(bj(4, 16, 10), street.a)
    assert not later.finding("release").due
    assert later.evidence.last_positive.sampled_at == bj(4, 14, 9)


def test_a_contact_released_late_holds_the_label_14_days_after_release(street):
    street.negative_round(street.b, 24, "R-24")
    designate(street.people[street.b][0], "次密接", bj(4, 2, 9), bj(4, 10, 9), bj(4, 2, 12))
    designate(street.people[street.b][1], "密接", bj(4, 2, 9), bj(4, 11, 9), bj(4, 2, 12))
    award = found(bj(4, 25, 0), street.b).finding("award")
    assert award.reasons == (
        "末位密切接触者、次密切接触者解除隔离于2022-04-11 09:00,仅13天,"
        "不足14天(2022-04-26 00:00起满足)",
    )
    street.negative_round(street.b, 25, "R-25")
    assert found(bj(4, 26, 0), street.b).finding("award").due


def test_a_resident_who_moved_counts_where_they_lived_at_the_time(street):
    mover = street.people[street.a][0]
    corrected = bj(4, 20)
    row = {
        "id_number": mover,
        "name": "居民1",
        "phone": "13900000001",
        "community_code": street.b,
        "correction_reason": "登记地址有误",
    }
    assert do_ingest("residents", rows=[row], now=corrected).inserted == 1
    street.case(mover, bj(4, 15, 10), "P-1", bj(4, 15, 20))

    def residents_and_cases(now, code):
        assessment = found(now, code)
        last = assessment.evidence.last_positive
        return assessment.evidence.screenings[0].residents, last and last.sampled_at

    assert residents_and_cases(bj(4, 19), street.a) == (3, bj(4, 15, 10))
    assert residents_and_cases(bj(4, 19), street.b) == (3, None)
    assert residents_and_cases(bj(4, 21), street.a) == (2, None)
    assert residents_and_cases(bj(4, 21), street.b) == (4, bj(4, 15, 10))


def test_a_town_adds_up_its_communities(street):
    street.negative_round(street.a, 16, "R-A")
    street.negative_round(street.b, 16, "R-B")
    street.case(street.people[street.b][0], bj(4, 1, 10), "P-1", bj(4, 2, 9))
    town = found(bj(4, 17), street.town.code)
    assert town.kind == "town" and town.finding("award").to == "无疫乡镇(街道)"
    assert town.evidence.screenings[0].negative == 6
    assert town.evidence.last_positive.sampled_at == bj(4, 1, 10)
    assert town.finding("award").due
    assert town.finding("release") is None


def test_rule_files_are_read_with_their_problems_named(tmp_path):
    with pytest.raises(ZoneRuleError) as caught:
        read_rule_set(b'id = "x\n', "bad.toml")
    assert caught.value.problems[0].startswith("bad.toml: TOML格式错误(第1行第8列)")
    for name in ("plan-2021.toml", "copy.toml"):
        (tmp_path / name).write_text(
            'id = "plan-2021"\ntitle = "t"\nscheme = "three_zones"\n'
            '[escalate]\nfrom = ["control"]\nto = "lockdown"\nrecent_days = 14\n'
        )
    with pytest.raises(ZoneRuleError) as caught:
        load_rule_sets(tmp_path)
    assert caught.value.problems == ["plan-2021: 与 plan-2021 同为三区划分的规则"]
    assert [r.id for r in load_rule_sets()] == ["edition-9", "plan-2021"]


def test_an_assessment_covers_only_the_counties_asked_for(street):
    codes = {a.code for a in assess_areas(bj(4, 16), ["220102"])}
    assert street.a in codes and street.town.code in codes
    assert all(code.startswith("220102") for code in codes)
    assert not any(a.code.startswith("220102") for a in assess_areas(bj(4, 16), ["220104"]))


def test_later_screenings_count_a_sampling_only_once_its_result_is_known(street):
    sample(street.people[street.a], "R-15", 10, bj(4, 15, 8))
    pending = found(bj(4, 15, 12), street.a).evidence.screenings[1]
    assert (pending.sampled, pending.pending, pending.negative) == (3, 3, 0)
    report_result("R-15", "negative", bj(4, 15, 20))
    assert found(bj(4, 15, 19), street.a).evidence.screenings[1].pending == 3
    assert found(bj(4, 15, 21), street.a).evidence.screenings[1].negative == 3
    assert found(bj(4, 15, 21) + timedelta(days=3), street.a).evidence.screenings[1].sampled == 0
