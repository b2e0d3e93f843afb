"""The audit log page: for auditors, newest first, with a check of the hash chain."""

import pytest
from django.urls import reverse

from fangkong.audit.actions import record
from fangkong.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(make_staff):
    return make_staff("auditor")


def test_an_auditor_sees_the_entries_newest_first(client, auditor, make_staff):
    hotline = make_staff("hotline", ["220102"])
    record(hotline, "person.view", "person", 7, {})
    record(hotline, "person.search", "", "", {"query_kind": "phone", "results": 0})
    client.force_login(auditor)
    html = client.get(reverse("audit:log")).content.decode()
    assert html.index("person.search") < html.index("person.view")
    assert hotline.username in html and "person:7" in html


def test_the_log_is_paginated(client, auditor):
    for i in range(55):
        record(None, "test.entry", "thing", i, {})
    client.force_login(auditor)
    first = client.get(reverse("audit:log")).content.decode()
    assert "thing:54" in first and "thing:0<" not in first
    second = client.get(reverse("audit:log") + "?page=2").content.decode()
    assert "thing:0<" in second


def test_the_log_can_be_narrowed_to_one_target(client, auditor):
    record(None, "person.view", "person", 1, {})
    record(None, "person.view", "person", 2, {})
    client.force_login(auditor)
    html = client.get(reverse("audit:log"), {"target": "person:2"}).content.decode()
    assert "person:2" in html and "person:1<" not in html


def test_an_intact_chain_verifies(client, auditor):
    record(None, "test.entry", "", "", {"n": 1})
    record(None, "test.entry", "", "", {"n": 2})
    client.force_login(auditor)
    html = client.get(reverse("audit:log"), {"verify": "1"}).content.decode()
    assert "日志链完整" in html


def test_a_tampered_entry_is_reported(client, auditor):
    record(None, "test.entry", "", "", {"n": 1})
    second = record(None, "test.entry", "", "", {"n": 2})
    record(None, "test.entry", "", "", {"n": 3})
    AuditEntry.objects.filter(pk=second.pk).update(detail={"n": 20})
    client.force_login(auditor)
    html = client.get(reverse("audit:verify")).content.decode()
    assert "日志链已损坏" in html and f"第 {second.pk} 号" in html


def test_the_chain_check_alone_is_a_fragment_for_htmx(client, auditor):
    client.force_login(auditor)
    html = client.get(reverse("audit:verify"), HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<div id="verification">')


@pytest.mark.parametrize("role", ["district_reviewer", "hotline", "command_centre", "lab"])
def test_only_auditors_and_admins_read_the_log(client, make_staff, role):
    client.force_login(make_staff(role, ["220102"]))
    assert client.get(reverse("audit:log")).status_code == 403
    assert client.get(reverse("audit:verify")).status_code == 403


def test_an_admin_reads_the_log(client, make_staff):
    client.force_login(make_staff("admin"))
    assert client.get(reverse("audit:log")).status_code == 200
