"""The export in a real browser (Debian's Chromium): the buttons post the page's form with its
CSRF token and the file downloads, narrowed by the page's filters (issue 11, item 10)."""

import json

import pytest

from fangkong.audit.actions import record
from fangkong.audit.models import AuditEntry
from fangkong.checkpoints.tests.test_gates_in_the_browser import (  # noqa: F401 (a fixture)
    reference_data,
)
from fangkong.checkpoints.tests.test_gates_in_the_browser import staff_page as signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_auditor_downloads_the_filtered_log_with_a_button(browser, live_server, make_staff):
    make_staff("auditor", username="auditor-wang")
    record(None, "person.view", "person", 7, {})
    record(None, "clearance.approve", "clearance", 3, {"reason": "采样点登记表有此人"})
    page = signed_in(browser.new_context(accept_downloads=True), live_server, "auditor-wang")
    page.goto(f"{live_server.url}/audit/?prefix=clearance.")
    with page.expect_download() as download:
        page.click("button[name=format][value=jsonl]")
    lines = download.value.path().read_text(encoding="utf-8").splitlines()
    assert download.value.suggested_filename.endswith(".jsonl")
    assert [json.loads(line)["action"] for line in lines] == ["clearance.approve"]
    export = AuditEntry.objects.get(action="audit.export")
    assert export.detail["filters"] == {"prefix": "clearance."}
    assert page.url.endswith("/audit/?prefix=clearance.")  # the page stays where it was
