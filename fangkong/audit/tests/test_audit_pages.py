"""The audit log page: for auditors, newest first, with a check of the hash chain."""

import pytest
from django.urls import reverse

from fangkong.audit.actions import record
from fangkong.audit.models import AuditEntry
from fangkong.clock.models import BackgroundTask
from fangkong.clock.tests.worker import run_due_tasks

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


def check_on_the_worker(client) -> str:
    """Press 校验日志链 (without htmx), let the worker run the check, read the log page."""
    started = client.post(reverse("audit:verify"))
    assert started.status_code == 302
    waiting = client.get(started["Location"]).content.decode()
    assert "正在处理" in waiting
    assert run_due_tasks("fangkong.audit.verify_tasks.verify_log") == 1
    return client.get(started["Location"]).content.decode()


def test_an_intact_chain_verifies(client, auditor):
    record(None, "test.entry", "", "", {"n": 1})
    record(None, "test.entry", "", "", {"n": 2})
    client.force_login(auditor)
    assert "日志链完整" in check_on_the_worker(client)


def test_a_tampered_entry_is_reported(client, auditor):
    record(None, "test.entry", "", "", {"n": 1})
    second = record(None, "test.entry", "", "", {"n": 2})
    record(None, "test.entry", "", "", {"n": 3})
    AuditEntry.objects.filter(pk=second.pk).update(detail={"n": 20})
    client.force_login(auditor)
    html = check_on_the_worker(client)
    assert "日志链已损坏" in html and f"第 {second.pk} 号" in html


def test_the_check_is_a_fragment_for_htmx_that_polls_until_the_outcome(client, auditor):
    client.force_login(auditor)
    html = client.post(reverse("audit:verify"), HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<div id="verification"') and "hx-trigger" in html
    run_due_tasks()
    check = BackgroundTask.objects.get()
    done = client.get(reverse("audit:verify_progress", args=[check.pk])).content.decode()
    assert "日志链完整" in done and "hx-trigger" not in done


def test_an_auditor_does_not_see_another_auditors_check(client, auditor, make_staff):
    client.force_login(auditor)
    client.post(reverse("audit:verify"))
    check = BackgroundTask.objects.get()
    client.force_login(make_staff("auditor"))
    assert client.get(reverse("audit:verify_progress", args=[check.pk])).status_code == 404


@pytest.mark.parametrize("role", ["district_reviewer", "hotline", "command_centre", "lab"])
def test_only_auditors_and_admins_read_the_log(client, make_staff, role):
    client.force_login(make_staff(role, ["220102"]))
    assert client.get(reverse("audit:log")).status_code == 403
    assert client.post(reverse("audit:verify")).status_code == 403
    assert not BackgroundTask.objects.exists()


def test_an_admin_reads_the_log(client, make_staff):
    client.force_login(make_staff("admin"))
    assert client.get(reverse("audit:log")).status_code == 200
