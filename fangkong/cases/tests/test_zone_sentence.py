"""When the city has zone data, the bulletin drafted from the desk adds a second paragraph in the
press conference's wording: the medium-risk areas standing at the end of the day before, and the
epidemic-free communities and towns published by the bulletin's time. The figures' paragraph
stays word for word; a city without zones gets no such sentence."""

from datetime import date

import pytest

from fangkong.accounts.models import Role
from fangkong.cases.figures import Figures
from fangkong.cases.models import Bulletin
from fangkong.cases.tests.support import at, case_of
from fangkong.cases.tests.test_pages import signed_in
from fangkong.cases.views import zone_figures
from fangkong.cases.wording import ZoneFigures, bulletin_text, zone_sentence
from fangkong.places.models import Division
from fangkong.zones.actions import do_issue_notice
from fangkong.zones.epidemic_free import do_publish_epidemic_free_batch

pytestmark = pytest.mark.django_db
APRIL_20 = date(2022, 4, 20)
FIGURES_PARAGRAPH = (
    "4月20日0-24时,全市新增本地确诊病例1例,新增本地无症状感染者0例。"
    "以上人员均为隔离管控期间筛查新冠病毒核酸阳性感染者。"
    "4月20日0-24时,我市新增治愈出院确诊病例0例,新增解除隔离医学观察无症状感染者0例。"
)


def risk_areas(codes, level, starting):
    do_issue_notice(
        title="关于调整部分区域风险等级的通告",
        scheme="risk_areas",
        entries=[(code, level) for code in codes],
        effective_from=starting,
        now=starting,
    )


@pytest.fixture
def zones(city):
    """Three 南关区 communities made medium-risk areas on the 18th, one more on the 20th (after
    the end of the 19th, so not counted); two epidemic-free communities and a town published on
    the 19th."""
    homes = [d.code for d in Division.objects.filter(level=5).order_by("code")[:6]]
    risk_areas(homes[:3], "medium", at("4-18", 10))
    risk_areas(homes[3:4], "medium", at("4-20", 10))
    do_publish_epidemic_free_batch(None, "community", homes[4:6], at("4-19", 15), check=None)
    town = Division.objects.filter(level=4).order_by("code").first()
    do_publish_epidemic_free_batch(None, "town", [town.code], at("4-19", 15), check=None)


def drafted(client) -> Bulletin:
    client.post("/cases/bulletin/draft/", {"date": APRIL_20.isoformat()})
    return Bulletin.objects.get(date=APRIL_20)


def test_the_zone_sentence_follows_the_figures_as_a_second_paragraph(city, zones, make_staff):
    case_of(city.nanguan[0], [("confirmed", at("4-20", 9))])
    bulletin = drafted(signed_in(make_staff(Role.COMMAND_CENTRE)))
    assert bulletin.text.split("\n") == [
        FIGURES_PARAGRAPH,
        "截至19日全市中风险地区3个,创建公布“无疫小区”2个、无疫乡镇(街道)1个。",
    ]


def test_the_desk_shows_the_zone_sentence_before_drafting(city, zones, make_staff):
    html = signed_in(make_staff(Role.COMMAND_CENTRE)).get(
        f"/cases/bulletin/?date={APRIL_20.isoformat()}"
    )
    assert "截至19日全市中风险地区3个" in html.content.decode()


def test_a_city_without_zones_gets_no_zone_sentence(city, make_staff):
    case_of(city.nanguan[0], [("confirmed", at("4-20", 9))])
    assert zone_figures(APRIL_20, at("4-21", 8)) is None
    bulletin = drafted(signed_in(make_staff(Role.COMMAND_CENTRE)))
    assert bulletin.text == FIGURES_PARAGRAPH


def test_the_sentence_reads_as_at_the_press_conference():
    seed = ZoneFigures(
        day=date(2022, 4, 19),
        medium_risk=31,
        epidemic_free_communities=1144,
        epidemic_free_towns=99,
    )
    assert (
        zone_sentence(seed)
        == "截至19日全市中风险地区31个,创建公布“无疫小区”1144个、无疫乡镇(街道)99个。"
    )
    assert bulletin_text(APRIL_20, Figures(), zones=seed).endswith("\n" + zone_sentence(seed))
