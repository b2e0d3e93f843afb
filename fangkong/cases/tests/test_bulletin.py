"""The daily bulletin: drafted from stored case events, approved, published as it stands; later
reports change a published day only through a correction."""

import json
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from fangkong.accounts.models import Role
from fangkong.audit.models import AuditEntry
from fangkong.cases.actions import (
    do_approve_bulletin,
    do_correct_event,
    do_draft_bulletin,
    do_publish_bulletin,
)
from fangkong.cases.models import Bulletin, CaseEvent
from fangkong.cases.queries import day_figures, figures_by_county
from fangkong.cases.tests.support import at, case_of
from fangkong.cli import build_parser

pytestmark = pytest.mark.django_db
APRIL_20 = date(2022, 4, 20)
MORNING_AFTER = at("4-21", 8)


@pytest.fixture
def april_20(city):
    """One conversion, one new asymptomatic and one new confirmed case on April 20, all found
    in isolation or control screening; one discharge."""
    case_of(city.nanguan[0], [("asymptomatic", at("4-19", 9)), ("reclassified", at("4-20", 9))])
    case_of(city.nanguan[1], [("asymptomatic", at("4-20", 10))], found_by="control")
    case_of(city.chaoyang[0], [("confirmed", at("4-20", 11))])
    case_of(city.nanguan[2], [("confirmed", at("4-10", 9)), ("discharged", at("4-20", 15))])
    return city


def published_on_the_morning_after(user=None):
    draft = do_draft_bulletin(user, APRIL_20, now=MORNING_AFTER)
    do_approve_bulletin(user, draft, now=at("4-21", 8, 30))
    return do_publish_bulletin(user, draft, now=at("4-21", 9))


def bulletin_cli(capsys, *argv):
    args = build_parser().parse_args(["bulletin", *argv, "--json"])
    assert args.func(args) == 0
    return json.loads(capsys.readouterr().out)


def test_the_draft_states_the_days_figures_from_the_stored_events(april_20):
    text = do_draft_bulletin(None, APRIL_20, now=MORNING_AFTER).text
    assert text == (
        "4月20日0-24时,全市新增本地确诊病例2例(含1例无症状感染者转为确诊病例),"
        "新增本地无症状感染者1例。以上人员均为隔离管控期间筛查新冠病毒核酸阳性感染者。"
        "4月20日0-24时,我市新增治愈出院确诊病例1例,新增解除隔离医学观察无症状感染者0例。"
    )


def test_the_days_figures_split_by_county_add_up_to_the_citys(april_20):
    counties = figures_by_county(APRIL_20, MORNING_AFTER)
    assert {code: f.new_infections for code, f in counties.items()} == {"220102": 1, "220104": 1}
    assert sum(f.new_confirmed for f in counties.values()) == 2


def test_a_case_found_in_community_screening_changes_the_sentence(april_20):
    case_of(april_20.nanguan[3], [("asymptomatic", at("4-20", 16))], found_by="community")
    text = do_draft_bulletin(None, APRIL_20, now=MORNING_AFTER).text
    assert "新增本地无症状感染者2例。其中社会面筛查发现1例。4月20日" in text
    assert "以上人员均为" not in text


def test_a_bulletin_is_drafted_approved_and_published_each_step_audited(april_20, make_staff):
    analyst = make_staff(Role.COMMAND_CENTRE)
    bulletin = published_on_the_morning_after(analyst)
    assert (bulletin.status, bulletin.published_by, bulletin.approved_by) == (
        "published",
        analyst,
        analyst,
    )
    steps = AuditEntry.objects.filter(target_type="bulletin", target_id=str(bulletin.pk)).order_by(
        "pk"
    )
    assert list(steps.values_list("action", "actor")) == [
        ("bulletin.draft", analyst.pk),
        ("bulletin.approve", analyst.pk),
        ("bulletin.publish", analyst.pk),
    ]


def test_a_draft_is_not_published_before_approval_nor_by_a_district_reviewer(april_20, make_staff):
    draft = do_draft_bulletin(None, APRIL_20, now=MORNING_AFTER)
    with pytest.raises(ValueError, match="草稿"):
        do_publish_bulletin(None, draft, now=MORNING_AFTER)
    reviewer = make_staff(Role.DISTRICT_REVIEWER, districts=["220102"])
    with pytest.raises(PermissionDenied):
        do_approve_bulletin(reviewer, draft, now=MORNING_AFTER)


def late_report_and_correction(city):
    """On April 22: an April 20 asymptomatic case reported late, and the 朝阳区 confirmation
    moved from April 20 to April 21."""
    late = at("4-20", 20)
    case_of(city.nanguan[4], [("asymptomatic", late)], recorded_after=at("4-22", 0) - late)
    confirmation = CaseEvent.objects.get(case__person__id_number=city.chaoyang[0])
    do_correct_event(None, confirmation, now=at("4-22", 1), reason="确诊时间有误", at=at("4-21", 2))


def test_the_bulletin_as_published_is_reproducible_after_later_edits(april_20, capsys):
    bulletin = published_on_the_morning_after()
    late_report_and_correction(april_20)
    shown = bulletin_cli(capsys, "2022-04-20")
    assert (shown["status"], shown["text"]) == ("published", bulletin.text)
    assert shown["figures"] == {
        "new_confirmed": 2,
        "of_which_conversions": 1,
        "new_asymptomatic": 1,
        "discharged": 1,
        "released": 0,
    }
    assert shown["as_of"] == "2022-04-21T08:00:00+08:00"
    # The stored events, read as of the publication, still give what was published.
    assert day_figures(APRIL_20, bulletin.as_of).published() == shown["figures"]


def test_a_late_report_changes_the_earlier_day_only_as_a_correction(april_20, capsys):
    first = published_on_the_morning_after()
    late_report_and_correction(april_20)
    shown = bulletin_cli(capsys, "2022-04-20")
    assert shown["corrections"] == [
        {"figure": "new_confirmed", "published": 2, "now": 1},
        {"figure": "new_asymptomatic", "published": 1, "now": 2},
    ]
    second = do_draft_bulletin(None, APRIL_20, now=at("4-22", 8))
    assert (second.version, second.corrections) == (2, shown["corrections"])
    do_approve_bulletin(None, second, now=at("4-22", 8))
    do_publish_bulletin(None, second, now=at("4-22", 9))
    assert Bulletin.objects.get(pk=first.pk).text == first.text
    assert bulletin_cli(capsys, "2022-04-20", "--as-of", "2022-04-21T12:00")["text"] == first.text
    assert bulletin_cli(capsys, "2022-04-20")["text"] == second.text != first.text
    # The late case stays on its own day: April 21 gains only the moved confirmation.
    assert day_figures(date(2022, 4, 21), at("4-22", 9)).published() == {
        "new_confirmed": 1,
        "of_which_conversions": 0,
        "new_asymptomatic": 0,
        "discharged": 0,
        "released": 0,
    }


def test_before_publication_the_command_line_shows_the_draft_as_of_the_time_asked(april_20, capsys):
    shown = bulletin_cli(capsys, "2022-04-20", "--as-of", "2022-04-20T12:00")
    assert shown == {
        "date": "2022-04-20",
        "as_of": "2022-04-20T12:00:00+08:00",
        "text": shown["text"],
        "figures": {
            "new_confirmed": 2,
            "of_which_conversions": 1,
            "new_asymptomatic": 1,
            "discharged": 0,
            "released": 0,
        },
        "status": "draft",
    }
    assert shown["text"].startswith("4月20日0-24时,全市新增本地确诊病例2例")


def test_the_command_line_names_each_correction_in_words(april_20, capsys):
    published_on_the_morning_after()
    late_report_and_correction(april_20)
    args = build_parser().parse_args(["bulletin", "2022-04-20"])
    assert args.func(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "2022-04-20(第1版 已发布,数据截至 2022-04-21T08:00:00+08:00)"
    assert lines[2:] == [
        "更正:新增本地确诊病例 已发布2例,现为1例",
        "更正:新增本地无症状感染者 已发布1例,现为2例",
    ]
