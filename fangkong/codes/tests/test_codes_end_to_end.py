"""The seed rule end to end: publish, turn yellow, test negative, turn green, with history."""

from datetime import datetime

import pytest

from fangkong.codes.models import CodeChange, PersonCode
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.tests.support import BJ, report_result, sample
from fangkong.ingest.tests.support import policy_source as source
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish, preview

pytestmark = pytest.mark.django_db


def colour(id_number):
    code = PersonCode.objects.filter(person__id_number=id_number).first()
    return code.colour if code else "green"


@pytest.fixture
def published_city(city):
    sampled = city.nanguan[:10]
    sample(sampled, "T-0421-1", "10", datetime(2022, 4, 21, 9, tzinfo=BJ))
    report_result("T-0421-1", "negative", datetime(2022, 4, 21, 20, tzinfo=BJ))
    version, outcome = do_publish(
        source("cc-2022-0420-untested"), user=None, now=datetime(2022, 4, 23, tzinfo=BJ)
    )
    return city, version, outcome


def test_publishing_the_seed_rule_turns_the_unsampled_yellow(published_city):
    city, version, outcome = published_city
    assert version.version == 1
    assert colour(city.nanguan[0]) == "green"
    assert colour(city.nanguan[10]) == "yellow"
    assert colour(city.chaoyang[0]) == "yellow"
    assert outcome.changed == 20
    code = PersonCode.objects.get(person__id_number=city.nanguan[10])
    assert code.reasons[0]["policy"] == "cc-2022-0420-untested"
    assert "吉祥码被赋黄码" in code.reasons[0]["message"]


def test_a_negative_result_for_a_later_sampling_turns_the_code_green_with_history(published_city):
    city, *_ = published_city
    person = city.nanguan[10]
    sample([person], "T-0424-1", "10", datetime(2022, 4, 24, 9, tzinfo=BJ))
    assert colour(person) == "yellow"
    report = report_result("T-0424-1", "negative", datetime(2022, 4, 24, 20, tzinfo=BJ))
    assert report.codes_changed == 1
    assert colour(person) == "green"
    history = list(CodeChange.objects.filter(person__id_number=person).order_by("at"))
    assert [(c.old_colour, c.new_colour, c.cause) for c in history] == [
        ("green", "yellow", "publish"),
        ("yellow", "green", "facts"),
    ]
    assert history[0].reasons[0]["policy"] == "cc-2022-0420-untested"
    assert history[1].reasons == [] and "导入批次" in history[1].cause_detail


def test_a_recompute_writes_back_only_codes_that_changed(published_city):
    from fangkong.codes.actions import do_recompute

    before = CodeChange.objects.count()
    outcome = do_recompute(datetime(2022, 4, 23, 1, tzinfo=BJ))
    assert (outcome.evaluated, outcome.changed) == (30, 0)
    assert CodeChange.objects.count() == before


def test_a_new_version_of_a_policy_renews_the_reasons_without_changing_colours(published_city):
    city, *_ = published_city
    _, outcome = do_publish(
        source("cc-2022-0420-untested"), user=None, now=datetime(2022, 4, 23, 1, tzinfo=BJ)
    )
    assert outcome.changed == 20 and outcome.by_transition == {}
    code = PersonCode.objects.get(person__id_number=city.nanguan[10])
    assert (code.colour, code.reasons[0]["version"]) == ("yellow", 2)


def test_the_impact_preview_counts_changes_by_district_without_changing_anything(city):
    impact = preview(source("cc-2022-0420-untested"), datetime(2022, 4, 23, tzinfo=BJ))
    assert impact.by_county == {"220102": {"green->yellow": 25}, "220104": {"green->yellow": 5}}
    assert PersonCode.objects.count() == 0


def test_a_member_of_a_positive_pool_is_yellow_until_their_retest_and_red_if_positive(city):
    for name in ("std-pooled-positive-yellow", "std-positive-red"):
        do_publish(source(name), user=None, now=datetime(2022, 4, 19, tzinfo=BJ))
    members = city.nanguan[:10]
    sample(members, "P-1", "10", datetime(2022, 4, 20, 9, tzinfo=BJ))
    report_result("P-1", "positive", datetime(2022, 4, 20, 21, tzinfo=BJ))
    assert {colour(m) for m in members} == {"yellow"}
    sample(members[:1], "S-1", "1", datetime(2022, 4, 21, 8, tzinfo=BJ))
    sample(members[1:2], "S-2", "1", datetime(2022, 4, 21, 8, tzinfo=BJ))
    report_result("S-1", "negative", datetime(2022, 4, 21, 20, tzinfo=BJ))
    report_result("S-2", "positive", datetime(2022, 4, 21, 20, tzinfo=BJ))
    assert (colour(members[0]), colour(members[1]), colour(members[2])) == (
        "green",
        "red",
        "yellow",
    )
    assert Person.objects.count() == 30


def test_a_code_explains_itself_as_of_any_time(published_city):
    from fangkong.codes.queries import explain

    city, *_ = published_city
    person = Person.objects.get(id_number=city.nanguan[10])
    assert explain(person, datetime(2022, 4, 22, tzinfo=BJ)).colour == "green"
    code = explain(person, datetime(2022, 4, 23, 8, tzinfo=BJ))
    assert code.colour == "yellow"
    (reason,) = code.reasons
    assert reason.since == datetime(2022, 4, 23, tzinfo=BJ)
    assert any("无采样记录" in f for f in reason.facts)
    assert any("阴性" in c for c in reason.clears)


def test_stats_by_district_count_colours_as_of_a_time(published_city):
    from fangkong.codes.queries import stats_by_county

    rows = {r["code"]: r for r in stats_by_county(datetime(2022, 4, 23, 8, tzinfo=BJ))}
    assert len(rows) == 15
    assert (rows["220102"]["green"], rows["220102"]["yellow"]) == (10, 15)
    assert (rows["220104"]["yellow"], rows["220184"]["yellow"]) == (5, 0)
    before = {r["code"]: r for r in stats_by_county(datetime(2022, 4, 22, tzinfo=BJ))}
    assert before["220102"]["yellow"] == 0


def test_a_publish_changing_many_codes_writes_them_all_in_bulk(db):
    from fangkong.ingest.tests.support import REGISTERED, resident_rows

    rows = resident_rows("220103", "220103", 750, 200) + resident_rows("220105", "220105", 750, 200)
    assert do_ingest("residents", rows=rows, now=REGISTERED).inserted == 1500
    _, outcome = do_publish(
        source("cc-2022-0420-untested"), user=None, now=datetime(2022, 4, 23, tzinfo=BJ)
    )
    assert outcome.changed == 1500
    assert PersonCode.objects.filter(colour="yellow").count() == 1500
    change = CodeChange.objects.filter(new_colour="yellow").first()
    assert CodeChange.objects.count() == 1500
    assert "吉祥码被赋黄码" in change.reasons[0]["message"]
