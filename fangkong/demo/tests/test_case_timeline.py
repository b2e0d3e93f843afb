"""The demo's case timeline: the bulletin of 20 April is counted from case events, not typed.

The story of a city of 2 000 residents (built once for this module: conftest.april_city) gets
the press conference's figures scaled (fangkong.demo.cases.targets); one test records the
timeline of the default `make demo` city of 20 000 residents (residents only, no zones: the
timeline does not need them) and reads the paragraph itself, word for word.
"""

import json
from datetime import date

import pytest

from fangkong.cases.models import Bulletin, BulletinStatus, Case, CaseEvent
from fangkong.cases.queries import day_figures
from fangkong.cli import build_parser
from fangkong.demo.april import FULL_SIZE
from fangkong.demo.build import build_demo
from fangkong.demo.cases import PRESS_MORNING, replay_cases, targets
from fangkong.demo.people import REGISTERED_AT
from fangkong.demo.story import run_story
from fangkong.demo.tests.conftest import SMALL
from fangkong.engine.gate_rules import LOCAL
from fangkong.zones.models import EpidemicFreeLabel

pytestmark = pytest.mark.django_db
DAY = date(2022, 4, 20)
PARAGRAPH = (
    "4月20日0-24时,全市新增本地确诊病例88例(含32例无症状感染者转为确诊病例),新增本地无症状感染者"
    "233例。以上人员均为隔离管控期间筛查新冠病毒核酸阳性感染者。4月20日0-24时,我市新增治愈出院确诊病例"
    "409例,新增解除隔离医学观察无症状感染者680例。"
)


@pytest.fixture
def story(april_city):
    return april_city


def bulletin_json(capsys) -> dict:
    """`fangkong bulletin 2022-04-20 --json`, as the command line reads it."""
    args = build_parser().parse_args(["bulletin", "2022-04-20", "--json"])
    capsys.readouterr()
    assert args.func(args) == 0
    return json.loads(capsys.readouterr().out)


# First in the module: before the module's small city exists (it lives until the last test).
def test_the_default_demo_city_reads_the_press_conference_s_paragraph_word_for_word(capsys):
    assert not CaseEvent.objects.exists()
    build_demo(residents=FULL_SIZE, seed=20220421, now=REGISTERED_AT, kinds=("residents",))
    replay_cases(FULL_SIZE, 20220421)
    shown = bulletin_json(capsys)
    assert shown["text"] == PARAGRAPH
    assert shown["status"] == "published"


def test_the_bulletin_of_20_april_states_the_scaled_figures_counted_from_the_events(story, capsys):
    t = targets(SMALL)
    shown = bulletin_json(capsys)
    assert shown["status"] == "published"
    assert shown["figures"] == {
        "new_confirmed": t.new_confirmed,
        "of_which_conversions": t.of_which_conversions,
        "new_asymptomatic": t.new_asymptomatic,
        "discharged": t.discharged,
        "released": t.released,
    }
    assert shown["corrections"] == []
    assert shown["figures"] == day_figures(DAY, PRESS_MORNING).published()


def test_its_text_reads_as_the_press_conference_s_with_the_scaled_figures(story, capsys):
    t = targets(SMALL)
    text = bulletin_json(capsys)["text"]
    assert text == (
        f"4月20日0-24时,全市新增本地确诊病例{t.new_confirmed}例"
        f"(含{t.of_which_conversions}例无症状感染者转为确诊病例),"
        f"新增本地无症状感染者{t.new_asymptomatic}例。以上人员均为隔离管控期间筛查新冠病毒核酸阳性感染者。"
        f"4月20日0-24时,我市新增治愈出院确诊病例{t.discharged}例,"
        f"新增解除隔离医学观察无症状感染者{t.released}例。"
    )
    assert story["cases"]["text"] == text
    assert text in story["text"]


def test_every_new_case_of_20_april_was_found_in_isolation_or_control_screening(story):
    assert day_figures(DAY, PRESS_MORNING).found_in_community == 0
    first_that_day = CaseEvent.objects.filter(
        kind__in=["asymptomatic", "confirmed"], at__date=DAY
    ).values_list("case_id", flat=True)
    assert set(Case.objects.filter(pk__in=first_that_day).values_list("found_by", flat=True)) <= {
        "isolation",
        "control",
    }


def test_the_cases_are_residents_of_the_demo_recorded_at_the_end_of_each_day(story):
    events = CaseEvent.objects.select_related("case__person")
    assert events.count() >= targets(SMALL).cases
    for event in events:
        recorded = event.recorded_at.astimezone(LOCAL)
        assert (recorded.hour, recorded.minute) == (23, 59)
        assert event.at.astimezone(LOCAL).date() == recorded.date()
        assert event.case.county_code == event.case.person.county_code


def test_no_case_lives_in_a_community_or_town_labelled_epidemic_free(story):
    labelled = set(EpidemicFreeLabel.objects.values_list("division_id", flat=True))
    assert labelled
    homes = Case.objects.filter(events__isnull=False).values_list(
        "person__community_id", "person__community__parent_id"
    )
    assert not any({community, street} & labelled for community, street in homes)


def test_officers_drafted_approved_and_published_it_on_the_press_conference_morning(story):
    bulletin = Bulletin.objects.get(date=DAY)
    assert bulletin.status == BulletinStatus.PUBLISHED
    assert bulletin.as_of == bulletin.published_at == PRESS_MORNING
    assert bulletin.drafted_by.username == "command"
    assert (bulletin.approved_by.username, bulletin.published_by.username) == (
        "command2",
        "command2",
    )


def test_running_the_story_again_records_no_new_case_and_no_new_bulletin(story):
    before = (CaseEvent.objects.count(), Bulletin.objects.count())
    run_story(residents=SMALL, seed=7)
    assert (CaseEvent.objects.count(), Bulletin.objects.count()) == before
