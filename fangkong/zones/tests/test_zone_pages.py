"""District staff set a community's zone level; its history keeps every change, each change is
audited, and the residents' codes follow zone-level policies at once."""

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from fangkong.audit.models import AuditEntry
from fangkong.codes.models import PersonCode
from fangkong.ingest.tests.support import BJ, community
from fangkong.places.models import CommunityZone, Division
from fangkong.policies.actions import do_publish
from fangkong.zones.actions import do_set_zone_level
from fangkong.zones.demo import seed_zones
from fangkong.zones.queries import current_level, current_zones, history

pytestmark = pytest.mark.django_db
NOW = datetime(2022, 4, 24, 10, tzinfo=BJ)
ZONE_POLICY = """
id = "zone-controlled-yellow"
title = "封控区、管控区居民赋黄码"
colour = "yellow"
message = "您居住的小区为封控区或管控区,吉祥码为黄码。小区调整为防范区后自动转为绿码。"
effective_from = "2022-04-01T00:00:00+08:00"

[trigger]
type = "zone_level"
levels = ["lockdown", "control"]
"""


@pytest.fixture
def nanguan(city):
    return community("220102")


@pytest.fixture
def reviewer(client, make_staff):
    user = make_staff("district_reviewer", ["220102"])
    user.staff.organisation = "南关区疫情防控指挥部"
    user.staff.save()
    client.force_login(user)
    return client


def set_level(client, code, level, reason="发现阳性病例", follow=False, **extra):
    return client.post(
        reverse("zones:set_level", args=[code]),
        {"level": level, "reason": reason, **extra},
        follow=follow,
    )


def colours(code):
    people = list(PersonCode.objects.filter(person__community_id=code))
    return {c.colour for c in people}, len(people)


def test_a_reviewer_puts_a_community_in_lockdown_and_its_residents_turn_yellow(nanguan, reviewer):
    do_publish(ZONE_POLICY, user=None, now=datetime(2022, 4, 20, tzinfo=BJ))
    with time_machine.travel(NOW, tick=False):
        response = set_level(reviewer, nanguan.code, "lockdown", "出现阳性感染者", follow=True)
    html = response.content.decode()
    assert f"已将{nanguan.name}调整为封控区" in html
    assert "重新判定该社区25名居民的健康码,25人的健康码颜色变化(绿→黄 25)" in html
    assert colours(nanguan.code) == ({"yellow"}, 25)
    zone = CommunityZone.objects.get()
    assert (zone.level, zone.start_at, zone.decided_by) == ("lockdown", NOW, "南关区疫情防控指挥部")
    entry = AuditEntry.objects.get(action="zone.set")
    assert entry.detail["reason"] == "出现阳性感染者" and entry.detail["previous"] is None
    assert entry.target_id == str(zone.pk)
    # the page shows the level, since when, and the history with the reason
    assert "封控区" in html and "2022-04-24 10:00" in html and "出现阳性感染者" in html


def test_releasing_to_prevention_is_a_new_row_and_codes_turn_green_again(nanguan, reviewer):
    do_publish(ZONE_POLICY, user=None, now=datetime(2022, 4, 20, tzinfo=BJ))
    with time_machine.travel(NOW, tick=False):
        set_level(reviewer, nanguan.code, "lockdown")
    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        set_level(reviewer, nanguan.code, "control", "连续7天无新增")
    assert colours(nanguan.code) == ({"yellow"}, 25)
    with time_machine.travel(NOW + timedelta(days=5), tick=False):
        set_level(reviewer, nanguan.code, "prevention", "连续14天无新增")
        page = reviewer.get(reverse("zones:community", args=[nanguan.code])).content.decode()
    assert colours(nanguan.code) == ({"green"}, 25)
    rows = history(nanguan.code, NOW + timedelta(days=5))
    assert [r.level for r in rows] == ["prevention", "control", "lockdown"]
    assert [r.current for r in rows] == [True, False, False]
    assert [r.reason for r in rows] == ["连续14天无新增", "连续7天无新增", "发现阳性病例"]
    assert page.index("连续14天无新增") < page.index("连续7天无新增") < page.index("发现阳性病例")
    assert (
        CommunityZone.objects.count() == 3
        and AuditEntry.objects.filter(action="zone.set").count() == 3
    )


def test_the_level_standing_at_a_time_is_the_latest_started_one_known_then(nanguan, make_staff):
    staff = make_staff("command_centre")
    do_set_zone_level(staff, nanguan.code, "lockdown", NOW - timedelta(days=2), "补录", NOW)
    assert current_level(nanguan.code, NOW) == "lockdown"
    # before it was recorded, the system did not know of it
    assert current_level(nanguan.code, NOW - timedelta(hours=1)) is None
    later = NOW + timedelta(hours=1)
    do_set_zone_level(staff, nanguan.code, "control", later, "降级", later)
    assert current_zones([nanguan.code], later)[nanguan.code].label == "管控区"
    assert current_level(community("220104").code, later) is None


@pytest.mark.parametrize(
    ("start", "level", "message"),
    [
        (NOW - timedelta(days=8), "control", "起始时间不能早于7天前"),
        (NOW + timedelta(hours=1), "control", "起始时间不能晚于现在"),
        (NOW, "lockdown", "该社区当前已是封控区"),
        (NOW - timedelta(days=2), "control", "起始时间不能早于当前级别的起始时间"),
    ],
)
def test_a_change_that_makes_no_sense_is_refused_with_the_reason(
    nanguan, make_staff, start, level, message
):
    staff = make_staff("command_centre")
    do_set_zone_level(staff, nanguan.code, "lockdown", NOW - timedelta(days=1), "初次", NOW)
    with pytest.raises(ValidationError, match=message):
        do_set_zone_level(staff, nanguan.code, level, start, "再次", NOW)
    assert CommunityZone.objects.count() == 1


def test_a_refused_change_is_shown_on_the_form_and_nothing_is_written(nanguan, reviewer):
    with time_machine.travel(NOW, tick=False):
        response = set_level(
            reviewer,
            nanguan.code,
            "lockdown",
            start_at=(NOW - timedelta(days=9)).strftime("%Y-%m-%dT%H:%M"),
        )
        empty = set_level(reviewer, nanguan.code, "lockdown", reason="")
    assert response.status_code == 400 and "起始时间不能早于7天前" in response.content.decode()
    assert empty.status_code == 400
    assert (
        not CommunityZone.objects.exists()
        and not AuditEntry.objects.filter(action="zone.set").exists()
    )


def test_a_reviewer_of_another_district_gets_404_and_cannot_set_the_level(
    nanguan, client, make_staff
):
    chaoyang_reviewer = make_staff("district_reviewer", ["220104"])
    client.force_login(chaoyang_reviewer)
    assert client.get(reverse("zones:community", args=[nanguan.code])).status_code == 404
    assert set_level(client, nanguan.code, "lockdown").status_code == 404
    assert client.get(reverse("zones:exit_rules", args=[nanguan.code])).status_code == 404
    listing = client.get(reverse("zones:list")).content.decode()
    assert community("220104").name in listing and nanguan.code not in listing
    with pytest.raises(PermissionDenied):
        do_set_zone_level(chaoyang_reviewer, nanguan.code, "lockdown", NOW, "越权", NOW)
    assert not CommunityZone.objects.exists()


def test_an_auditor_reads_the_zones_but_cannot_change_them_and_a_lab_sees_nothing(
    nanguan, client, make_staff
):
    client.force_login(make_staff("auditor"))
    page = client.get(reverse("zones:community", args=[nanguan.code])).content.decode()
    assert "调整级别" not in page
    assert set_level(client, nanguan.code, "lockdown").status_code == 403
    client.force_login(make_staff("lab"))
    assert client.get(reverse("zones:list")).status_code == 403


def test_setting_the_level_requires_the_csrf_token(nanguan, make_staff):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_staff("command_centre"))
    assert set_level(strict, nanguan.code, "lockdown").status_code == 403
    assert not CommunityZone.objects.exists()


def test_the_list_filters_by_street_and_level_and_pages(nanguan, reviewer, make_staff):
    other = Division.objects.filter(level=5, county_code="220102").exclude(
        parent_id=nanguan.parent_id
    )[0]
    staff = make_staff("command_centre")
    do_set_zone_level(staff, nanguan.code, "lockdown", NOW, "阳性", NOW)
    do_set_zone_level(staff, other.code, "control", NOW, "密接", NOW)
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        everything = reviewer.get(reverse("zones:list")).content.decode()
        locked = reviewer.get(reverse("zones:list"), {"level": "lockdown"}).content.decode()
        street = reviewer.get(reverse("zones:list"), {"street": other.parent_id}).content.decode()
        unzoned = reviewer.get(reverse("zones:list"), {"level": "none", "page": 2})
    assert re.search(r"封控区</span><span class=\"value\">1<", everything)
    assert re.search(r"未划定</span><span class=\"value\">68<", everything)
    assert "第 1 / 2 页,共 70 条" in everything
    assert nanguan.name in locked and other.name not in locked
    assert other.name in street and nanguan.name not in street
    assert "第 2 / 2 页,共 68 条" in unzoned.content.decode()


def test_the_demo_zones_are_deterministic_and_recorded_once(city):
    late_april = datetime(2022, 4, 30, tzinfo=BJ)
    written = seed_zones(late_april)
    assert seed_zones(late_april) == 0
    codes = list(Division.objects.filter(level=5, is_current=True).values_list("code", flat=True))
    assert written == CommunityZone.objects.count() > 2 * len(codes)
    levels = [z.level for z in current_zones(codes, late_april).values()]
    assert levels.count("prevention") > 0.7 * len(codes)
    assert 0 < levels.count("lockdown") < levels.count("control") < 0.2 * len(codes)
    # each district has all three levels
    in_nanguan = current_zones(
        Division.objects.filter(level=5, county_code="220102").values_list("code", flat=True),
        late_april,
    )
    assert {z.level for z in in_nanguan.values()} == {"lockdown", "control", "prevention"}
    # on 10 April only the lockdown of 3 April had started
    early = current_zones(codes, datetime(2022, 4, 10, tzinfo=BJ))
    assert len(early) == len(codes) and {z.level for z in early.values()} == {"lockdown"}
