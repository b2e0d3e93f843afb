"""The testing-site pages: each role sees the sites of its districts; the command centre and
district reviewers create, edit, close and reopen them, each change audited and kept."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from fangkong.audit.models import AuditEntry
from fangkong.ingest.tests.support import BJ, community, sample
from fangkong.testing.models import TestingSite, TestingSiteRevision

pytestmark = pytest.mark.django_db
NOW = datetime(2022, 4, 25, 10, tzinfo=BJ)


def signed_in(make_staff, role, districts=()) -> Client:
    client = Client()
    client.force_login(make_staff(role, districts))
    return client


def new_site(client, code="NG-NEW", **changes):
    data = {
        "code": code,
        "name": "南关区新建采样点",
        "community_code": community("220102").code,
        "address": "自由大路100号",
        "kind": "fixed",
        **changes,
    }
    return client.post(reverse("ingest:site_new"), data)


def edit(client, site, reason="街道来函", **changes):
    data = {
        "name": site.name,
        "community_code": site.community_id,
        "address": site.address,
        "kind": site.kind,
        "reason": reason,
        **changes,
    }
    return client.post(reverse("ingest:site_edit", args=[site.pk]), data)


def listed(client, **query) -> str:
    response = client.get(reverse("ingest:sites"), query)
    assert response.status_code == 200
    return response.content.decode()


def test_each_role_lists_the_sites_of_its_districts(city, make_staff):
    everywhere = listed(signed_in(make_staff, "command_centre"))
    nanguan = listed(signed_in(make_staff, "district_reviewer", ["220102"]))
    sampler = listed(signed_in(make_staff, "sampler", ["220104"]))
    assert "S-NG-1" in everywhere and "S-CY-1" in everywhere
    assert "S-NG-1" in nanguan and "S-CY-1" not in nanguan
    assert "S-CY-1" in sampler and "S-NG-1" not in sampler


def test_the_list_is_searched_filtered_by_district_and_paged(city, make_staff):
    home = community("220102")
    TestingSite.objects.bulk_create(
        TestingSite(
            code=f"NG-{i:03d}", name=f"南关区第{i}采样点", community=home, county_code="220102"
        )
        for i in range(2, 62)
    )
    client = signed_in(make_staff, "command_centre")
    assert "第1/2页,共61条" in listed(client, county="220102").replace(" ", "")
    assert "S-CY-1" in listed(client, county="220104")
    found = listed(client, q="第17采样")
    assert "NG-017" in found and "NG-016" not in found and "S-NG-1" not in found


def test_hotline_and_checkpoint_staff_have_no_site_pages(city, make_staff):
    for role in ("hotline", "checkpoint", "employer"):
        assert signed_in(make_staff, role).get(reverse("ingest:sites")).status_code == 403


def test_a_reviewer_of_another_district_finds_no_such_site(city, make_staff):
    chaoyang = signed_in(make_staff, "district_reviewer", ["220104"])
    site = city.site  # in 南关区
    assert chaoyang.get(reverse("ingest:site", args=[site.pk])).status_code == 404
    assert edit(chaoyang, site, name="改名").status_code == 404
    closing = chaoyang.post(reverse("ingest:site_close", args=[site.pk]), {"reason": "撤点"})
    assert closing.status_code == 404
    site.refresh_from_db()
    assert (site.name, site.status) == ("南关区第1采样点", "open")


def test_samplers_and_labs_read_a_site_but_cannot_change_it(city, make_staff):
    for role in ("sampler", "lab"):
        client = signed_in(make_staff, role, ["220102"])
        page = client.get(reverse("ingest:site", args=[city.site.pk]))
        assert page.status_code == 200 and "修改信息" not in page.content.decode()
        assert edit(client, city.site, name="改名").status_code == 403
        assert new_site(client).status_code == 403


def test_a_sites_page_counts_the_people_it_swabbed_by_beijing_day(city, make_staff):
    sample(city.nanguan[:10], "T-20-1", 10, datetime(2022, 4, 20, 8, tzinfo=BJ))
    sample(city.nanguan[10:12], "T-20-2", 10, datetime(2022, 4, 20, 23, 30, tzinfo=BJ))
    sample(city.nanguan[12:15], "T-21-1", 10, datetime(2022, 4, 21, 0, 30, tzinfo=BJ))
    sample(city.chaoyang[:1], "T-CY", 1, datetime(2022, 4, 21, 9, tzinfo=BJ), site="S-CY-1")
    page = signed_in(make_staff, "command_centre").get(reverse("ingest:site", args=[city.site.pk]))
    rows = page.context["days"]
    assert [(d["day"].isoformat(), d["people"]) for d in rows] == [
        ("2022-04-21", 3),
        ("2022-04-20", 12),
    ]
    assert "2022年4月20日" in page.content.decode()


def test_a_reviewer_creates_a_site_in_their_district_and_it_is_audited(db, make_staff):
    client = signed_in(make_staff, "district_reviewer", ["220102"])
    with time_machine.travel(NOW, tick=False):
        response = new_site(client, kind="mobile")
    site = TestingSite.objects.get(code="NG-NEW")
    assert response.status_code == 302 and response.url == reverse("ingest:site", args=[site.pk])
    assert (site.county_code, site.kind, site.status) == ("220102", "mobile", "open")
    entry = AuditEntry.objects.get(action="site.create")
    assert (entry.target_id, entry.detail["name"], entry.at) == (str(site.pk), site.name, NOW)
    assert "NG-NEW" in listed(client, q="NG-NEW")


def test_a_reviewer_cannot_place_a_site_in_another_district(db, make_staff):
    client = signed_in(make_staff, "district_reviewer", ["220102"])
    response = new_site(client, community_code=community("220104").code)
    assert response.status_code == 400
    assert "该社区不在您负责的区县" in response.content.decode()
    assert not TestingSite.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="site.").exists()


def test_a_site_code_is_taken_once(city, make_staff):
    response = new_site(signed_in(make_staff, "command_centre"), code="S-NG-1")
    assert response.status_code == 400 and "采样点编码S-NG-1已存在" in response.content.decode()
    assert TestingSite.objects.count() == 2


def test_an_edit_keeps_the_old_values_and_audits_what_changed(city, make_staff):
    client = signed_in(make_staff, "district_reviewer", ["220102"])
    with time_machine.travel(NOW, tick=False):
        response = edit(client, city.site, reason="更名为便民采样屋", name="南关区便民采样屋")
    assert response.status_code == 302
    city.site.refresh_from_db()
    assert city.site.name == "南关区便民采样屋"
    kept = TestingSiteRevision.objects.get(site=city.site)
    assert (kept.name, kept.valid_until, kept.reason) == (
        "南关区第1采样点",
        NOW,
        "更名为便民采样屋",
    )
    entry = AuditEntry.objects.get(action="site.update")
    assert entry.detail["changes"] == {"name": ["南关区第1采样点", "南关区便民采样屋"]}
    assert entry.detail["reason"] == "更名为便民采样屋"
    page = client.get(reverse("ingest:site", args=[city.site.pk])).content.decode()
    assert "南关区第1采样点" in page and "更名为便民采样屋" in page  # the change history


def test_an_edit_without_a_reason_or_without_a_change_saves_nothing(city, make_staff):
    client = signed_in(make_staff, "command_centre")
    assert edit(client, city.site, reason="", name="改名").status_code == 400
    unchanged = edit(client, city.site)
    assert unchanged.status_code == 400 and "没有修改任何内容" in unchanged.content.decode()
    assert not TestingSiteRevision.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="site.").exists()


def test_closing_and_reopening_a_site_is_audited_and_closes_it_to_later_samplings(city, make_staff):
    client = signed_in(make_staff, "command_centre")
    close, reopen = (reverse(f"ingest:site_{a}", args=[city.site.pk]) for a in ("close", "reopen"))
    with time_machine.travel(NOW, tick=False):
        assert client.post(close, {"reason": "区指挥部通知:撤点"}).status_code == 302
    city.site.refresh_from_db()
    assert (city.site.status, city.site.closed_at) == ("closed", NOW)
    refused = client.post(close, {"reason": "再关一次"})
    assert refused.status_code == 400 and "该采样点已是已关闭状态" in refused.content.decode()

    from fangkong.ingest.actions import do_ingest

    late = {"id_number": city.nanguan[0], "tube": "T-LATE", "pool_size": "1"}
    late |= {"site_code": "S-NG-1", "sampled_at": (NOW + timedelta(hours=1)).isoformat()}
    assert do_ingest("samplings", rows=[late], now=NOW + timedelta(hours=2)).rejected == 1

    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        assert client.post(reopen, {"reason": "恢复常态化采样"}).status_code == 302
    city.site.refresh_from_db()
    assert (city.site.status, city.site.closed_at) == ("open", None)
    entries = AuditEntry.objects.filter(action__startswith="site.").order_by("id")
    assert list(entries.values_list("action", "detail__reason")) == [
        ("site.close", "区指挥部通知:撤点"),
        ("site.reopen", "恢复常态化采样"),
    ]
    assert list(TestingSiteRevision.objects.order_by("id").values_list("status", flat=True)) == [
        "open",
        "closed",
    ]


def test_the_site_pages_ask_to_sign_in(city):
    for name, args in (("ingest:sites", []), ("ingest:site", [city.site.pk])):
        response = Client().get(reverse(name, args=args))
        assert response.status_code == 302 and "/accounts/login/" in response.url
