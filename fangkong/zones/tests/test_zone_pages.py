"""The zone pages: the communities of a reviewer's districts with their levels in both schemes,
one community's levels, sampling plan and history (each change with its notice), and the demo's
levels, published as notices."""

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from fangkong.ingest.tests.support import BJ, community
from fangkong.places.models import CommunityZone, Division
from fangkong.zones.actions import do_issue_notice
from fangkong.zones.demo import seed_zones
from fangkong.zones.models import ZoneDecision
from fangkong.zones.queries import current_zones, history
from fangkong.zones.tests.support import NOW, nanguan

pytestmark = pytest.mark.django_db
__all__ = ["nanguan"]  # fixtures


@pytest.fixture
def reviewer(client, make_staff):
    client.force_login(make_staff("district_reviewer", ["220102"]))
    return client


def issue(code, level, at, scheme="three_zones", title="调整通告", **kw):
    return do_issue_notice(
        title=title, scheme=scheme, entries=[(code, level)], effective_from=at, now=at, **kw
    )


def test_a_community_page_shows_both_schemes_the_sampling_plan_and_each_notice(nanguan, reviewer):
    issue(nanguan.code, "lockdown", NOW - timedelta(days=4), title="全域封控", number=5)
    issue(nanguan.code, "control", NOW - timedelta(days=1), title="调整为管控区", number=9)
    issue(nanguan.code, "medium", NOW, scheme="risk_areas", title="中风险区", number=10)
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        html = reviewer.get(reverse("zones:community", args=[nanguan.code])).content.decode()
    assert "管控区</span> 自2022-04-19 10:00" in html
    assert "中风险区</span> 自2022-04-20 10:00" in html
    assert "<strong>10混1</strong>(管控区:10人一管混采)" in html
    for plan in ("单管单检", "封控区:上门采样,单人单管", "防范区:20人一管混采"):
        assert plan in html
    assert html.index("通告(第10号):中风险区") < html.index("通告(第9号):调整为管控区")
    assert html.index("通告(第9号)") < html.index("通告(第5号):全域封控")
    rows = history(nanguan.code, NOW)
    assert [(r.level, r.current) for r in rows] == [
        ("medium", True),
        ("control", True),
        ("lockdown", False),
    ]
    assert f'href="{reverse("zones:decision_new")}?community={nanguan.code}"' in html


def test_the_list_shows_the_level_of_each_scheme_and_filters_and_pages(nanguan, reviewer):
    other = Division.objects.filter(level=5, county_code="220102").exclude(
        parent_id=nanguan.parent_id
    )[0]
    issue(nanguan.code, "lockdown", NOW)
    issue(other.code, "control", NOW)
    issue(other.code, "high", NOW, scheme="risk_areas")
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        everything = reviewer.get(reverse("zones:list")).content.decode()
        locked = reviewer.get(reverse("zones:list"), {"level": "lockdown"}).content.decode()
        street = reviewer.get(reverse("zones:list"), {"street": other.parent_id}).content.decode()
        unzoned = reviewer.get(reverse("zones:list"), {"level": "none", "page": 2})
    assert re.search(r"封控区</span><span class=\"value\">1<", everything)
    assert re.search(r"未划定</span><span class=\"value\">68<", everything)
    assert "第 1 / 2 页,共 70 条" in everything
    assert "高风险区" in everything
    assert nanguan.name in locked and other.name not in locked
    assert other.name in street and nanguan.name not in street
    assert "第 2 / 2 页,共 68 条" in unzoned.content.decode()


def test_a_reviewer_of_another_district_gets_404_and_a_lab_sees_nothing(
    nanguan, client, make_staff
):
    client.force_login(make_staff("district_reviewer", ["220104"]))
    assert client.get(reverse("zones:community", args=[nanguan.code])).status_code == 404
    assert client.get(reverse("zones:exit_rules", args=[nanguan.code])).status_code == 404
    listing = client.get(reverse("zones:list")).content.decode()
    assert community("220104").name in listing and nanguan.code not in listing
    client.force_login(make_staff("lab"))
    assert client.get(reverse("zones:list")).status_code == 403


def test_an_auditor_reads_a_community_but_is_not_offered_a_proposal(nanguan, client, make_staff):
    client.force_login(make_staff("auditor"))
    page = client.get(reverse("zones:community", args=[nanguan.code])).content.decode()
    assert nanguan.name in page and "提出调整" not in page


def test_the_demo_levels_are_published_as_notices_deterministically_and_once(city):
    late_april = datetime(2022, 4, 30, tzinfo=BJ)
    written = seed_zones(late_april)
    assert seed_zones(late_april) == 0
    codes = list(Division.objects.filter(level=5, is_current=True).values_list("code", flat=True))
    assert written == CommunityZone.objects.count() > 2 * len(codes)
    assert not CommunityZone.objects.filter(decision=None).exists()
    notices = list(ZoneDecision.objects.order_by("number"))
    assert [(d.number, d.status, d.effective_from.astimezone(BJ).day) for d in notices] == [
        (1, "published", 3),
        (2, "published", 14),
        (3, "published", 21),
        (4, "published", 25),
        (5, "published", 28),
    ]
    assert notices[0].entries.count() == len(codes)
    levels = [z.level for z in current_zones(codes, late_april).values()]
    assert levels.count("prevention") > 0.7 * len(codes)
    assert 0 < levels.count("lockdown") < levels.count("control") < 0.2 * len(codes)
    in_nanguan = current_zones(
        Division.objects.filter(level=5, county_code="220102").values_list("code", flat=True),
        late_april,
    )
    assert {z.level for z in in_nanguan.values()} == {"lockdown", "control", "prevention"}
    # on 10 April only the lockdown of 3 April had started
    early = current_zones(codes, datetime(2022, 4, 10, tzinfo=BJ))
    assert len(early) == len(codes) and {z.level for z in early.values()} == {"lockdown"}
