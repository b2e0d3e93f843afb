"""The public page lists, with no sign-in, the risk areas in force and the epidemic-free
communities and towns as residents read them in the notices — and nothing about any person."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from fangkong.ingest.tests.support import community
from fangkong.people.models import Person
from fangkong.places.models import Division
from fangkong.zones.actions import do_issue_notice
from fangkong.zones.epidemic_free import do_publish_epidemic_free_batch, do_withdraw_epidemic_free
from fangkong.zones.stats import zone_stats
from fangkong.zones.tests.support import NOW, nanguan

pytestmark = pytest.mark.django_db
__all__ = ["nanguan"]  # fixtures


def page(at):
    with time_machine.travel(at, tick=False):
        response = Client().get(reverse("zones:public"))
    assert response.status_code == 200
    return response.content.decode()


def test_anyone_reads_the_risk_areas_with_their_notice_and_time(nanguan):
    chaoyang = community("220104")
    do_issue_notice(
        title="关于将部分区域调整为中风险区的通告",
        scheme="risk_areas",
        entries=[(nanguan.code, "medium"), (chaoyang.code, "low")],
        effective_from=NOW.replace(hour=18),
        now=NOW,
        number=31,
    )
    before = page(NOW + timedelta(hours=1))
    assert '中风险区<span class="muted">(0个)' in before
    html = page(NOW.replace(hour=19))
    assert '中风险区<span class="muted">(1个)' in html
    assert nanguan.name in html and nanguan.parent.name in html
    assert "自4月20日18时起" in html
    assert "长春市新冠肺炎疫情防控工作领导小组通告(第31号)" in html
    assert f"{chaoyang.name}(低风险区)" in html  # in the recent notice's list
    assert "<td>朝阳区</td><td>1</td><td>0</td>" in html  # low-risk areas counted by district


def test_the_epidemic_free_lists_show_each_batch_and_withdrawn_labels(nanguan):
    codes = list(
        Division.objects.filter(level=5, county_code="220102")
        .order_by("code")
        .values_list("code", flat=True)[:3]
    )
    do_publish_epidemic_free_batch(None, "community", codes, NOW, check=None)
    town = Division.objects.filter(level=4, county_code="220104").order_by("code").first()
    do_publish_epidemic_free_batch(None, "town", [town.code], NOW, check=None)
    do_withdraw_epidemic_free(codes[0], NOW + timedelta(days=1), "出现阳性感染者")
    html = page(NOW + timedelta(days=2))
    assert "第1批无疫小区(4月20日公布,3个)" in html
    assert "第1批无疫乡镇(街道)(4月20日公布,1个)" in html
    assert f'{nanguan.name}<span class="muted">(已摘牌)</span>' in html
    assert '无疫小区</span><span class="value">2<' in html
    assert '无疫乡镇(街道)</span><span class="value">1<' in html
    stats = zone_stats(NOW + timedelta(days=2))["epidemic_free"]
    assert stats == {"communities": 2, "towns": 1, "batches": 2}


def test_the_page_shows_nothing_about_any_person(nanguan):
    do_issue_notice(
        title="封控",
        scheme="three_zones",
        entries=[(nanguan.code, "lockdown")],
        effective_from=NOW,
        now=NOW,
    )
    html = page(NOW + timedelta(hours=1))
    assert nanguan.name in html
    people = list(Person.objects.filter(community_id=nanguan.code))
    assert len(people) == 25
    for person in people:
        for value in (person.id_number, person.id_number[-6:], person.name, person.phone):
            assert value not in html
    assert "登记居民" not in html


def test_the_page_is_cacheable_by_anyone_for_a_minute(db):
    with time_machine.travel(NOW, tick=False):
        response = Client().get(reverse("zones:public"))
    assert response["Cache-Control"] in ("max-age=60, public", "public, max-age=60")
