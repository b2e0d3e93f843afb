"""An employer's list is checked by the worker, not inside the upload request: the page says
正在处理… and asks again until the batch exists, then shows it. What can be refused at once
still is; nobody follows another liaison's upload; a worker that died is said so."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangkong.accounts.models import Role
from fangkong.audit.models import AuditEntry
from fangkong.clearances.models import EmployerBatch
from fangkong.clearances.tests import test_employer_batches as lists
from fangkong.clearances.tests.test_employer_batches import (
    EMPLOYER,
    POLICY,
    UPLOADED,
    csv_file,
    good_rows,
    pdf,
)
from fangkong.clock.models import BackgroundTask
from fangkong.clock.tests.worker import run_due_tasks

pytestmark = pytest.mark.django_db
NEW = "/clearances/batches/new/"
works = lists.works  # the factory, its policy, staff and liaison of the other page tests


def upload(client, rows):
    with time_machine.travel(UPLOADED, tick=False):
        reply = client.post(NEW, {"policy": POLICY, "rows": csv_file(rows), "document": pdf()})
    assert reply.status_code == 302, reply.content.decode()
    return reply["Location"]


def test_the_page_polls_while_the_worker_has_not_checked_the_list(works, client):
    city, liaison = works
    client.force_login(liaison)
    waiting = upload(client, good_rows(city))
    with time_machine.travel(UPLOADED + timedelta(seconds=2), tick=False):
        fragment = client.get(waiting, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<div id="batch-task"')
    assert 'hx-trigger="every 2s"' in fragment and "正在处理" in fragment


def test_once_checked_the_poll_takes_the_page_to_the_batch(works, client):
    city, liaison = works
    client.force_login(liaison)
    waiting = upload(client, good_rows(city))
    with time_machine.travel(UPLOADED + timedelta(seconds=20), tick=False):
        run_due_tasks()
        reply = client.get(waiting, HTTP_HX_REQUEST="true")
    batch = EmployerBatch.objects.get()
    assert reply["HX-Redirect"] == reverse("clearances:batch", args=[batch.pk])
    assert (batch.rows_total, batch.rows_accepted, batch.uploaded_at) == (3, 3, UPLOADED)
    page = client.get(reply["HX-Redirect"]).content.decode()
    assert "3 行已提交审核" in page


def test_the_checked_list_is_audited_as_a_background_task_of_the_liaison(works, client):
    city, liaison = works
    client.force_login(liaison)
    upload(client, good_rows(city))
    with time_machine.travel(UPLOADED + timedelta(seconds=20), tick=False):
        run_due_tasks()
    entry = AuditEntry.objects.get(action="clock.task")
    assert (entry.actor_id, entry.detail["kind"], entry.detail["status"]) == (
        liaison.pk,
        "employer_batch",
        "done",
    )
    assert BackgroundTask.objects.get().payload is None  # the files are not kept twice


def test_a_list_without_a_required_column_is_refused_at_once(works, client):
    _, liaison = works
    client.force_login(liaison)
    rows = [["1", "2", "3"]]
    text = "身份证号,姓名,采样点\n" + "\n".join(",".join(r) for r in rows) + "\n"
    listing = SimpleUploadedFile("名单.csv", text.encode(), content_type="text/csv")
    with time_machine.travel(UPLOADED, tick=False):
        page = client.post(NEW, {"policy": POLICY, "rows": listing, "document": pdf()})
    assert page.status_code == 200 and "采样时间" in page.content.decode()
    assert not BackgroundTask.objects.exists()


def test_another_liaison_cannot_follow_the_upload(works, client, make_staff):
    city, liaison = works
    client.force_login(liaison)
    waiting = upload(client, good_rows(city))
    other = make_staff(Role.EMPLOYER)
    other.staff.organisation = EMPLOYER
    other.staff.save()
    client.force_login(other)
    assert client.get(waiting).status_code == 404


def test_a_list_whose_worker_died_is_reported_interrupted(works, client):
    city, liaison = works
    client.force_login(liaison)
    waiting = upload(client, good_rows(city))
    with time_machine.travel(UPLOADED + timedelta(hours=1), tick=False):
        page = client.get(waiting).content.decode()
    assert "核验中断" in page and "重新上传" in page and "hx-trigger" not in page
