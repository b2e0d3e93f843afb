"""The auditor's export of the log: CSV for Excel, JSON Lines to re-check the chain elsewhere,
narrowed like the log page, and itself audited."""

import csv
import hashlib
import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.audit.actions import record
from fangkong.audit.models import AuditEntry

pytestmark = pytest.mark.django_db
BJ = timezone(timedelta(hours=8))
URL = "/audit/export/"


@pytest.fixture
def auditor(make_staff):
    return make_staff("auditor", username="auditor-wang")


@pytest.fixture
def entries(make_staff):
    hotline = make_staff("hotline", username="hotline-li")
    reviewer = make_staff("district_reviewer", ["220102"], username="nanguan-zhao")
    return [
        # 07:00 in Beijing is 23:00 UTC the day before: still 24 April for the filters.
        record(hotline, "person.view", "person", 7, {}, at=datetime(2022, 4, 24, 7, tzinfo=BJ)),
        record(
            hotline,
            "person.search",
            detail={"query_kind": "phone", "results": 0},
            at=datetime(2022, 4, 24, 9, tzinfo=BJ),
        ),
        record(
            reviewer,
            "clearance.approve",
            "clearance",
            3,
            {"reason": "采样点登记表有此人"},
            at=datetime(2022, 4, 25, 10, 30, tzinfo=BJ),
        ),
        record(
            reviewer,
            "clearance.reject",
            "clearance",
            4,
            {"reason": "无证据"},
            at=datetime(2022, 4, 26, 23, 59, 59, 250000, tzinfo=BJ),
        ),
    ]


def download(client, **params):
    response = client.post(URL, params)
    assert response.status_code == 200
    assert response.streaming
    return b"".join(response.streaming_content), response


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def jsonl(body: bytes) -> list[dict]:
    return [json.loads(line) for line in body.decode().splitlines()]


def recomputed(line: dict) -> str:
    """The hash by the recipe the export page states, without the project's code."""
    body = json.dumps(
        [
            line["prev_hash"],
            line["at"],
            line["actor_name"],
            line["action"],
            line["target_type"],
            line["target_id"],
            line["detail"],
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def test_an_auditor_downloads_the_log_as_csv_for_excel(client, auditor, entries):
    client.force_login(auditor)
    body, response = download(client)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="audit-log-' in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith('.csv"')
    header, *rows = csv_rows(body)
    assert header[:5] == ["编号", "时间(北京时间)", "时间(UTC,参与哈希)", "操作人", "操作"]
    assert header[-2:] == ["前一条哈希", "哈希"]
    mine = [r for r in rows if int(r[0]) >= entries[0].pk]
    assert [r[0] for r in mine] == [str(e.pk) for e in entries]  # oldest first
    approve = mine[2]
    assert approve[1:8] == [
        "2022-04-25 10:30:00",
        "2022-04-25T02:30:00.000000+00:00",
        "nanguan-zhao",
        "clearance.approve",
        "clearance",
        "3",
        '{"reason":"采样点登记表有此人"}',
    ]
    assert approve[8:] == [entries[2].prev_hash, entries[2].hash]


def test_the_json_lines_let_an_auditor_recheck_the_chain_elsewhere(client, auditor, entries):
    client.force_login(auditor)
    body, response = download(client, format="jsonl")
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert response["Content-Disposition"].endswith('.jsonl"')
    lines = jsonl(body)
    assert [line["id"] for line in lines][-4:] == [e.pk for e in entries]
    for line in lines:
        assert recomputed(line) == line["hash"]
    for before, after in zip(lines, lines[1:], strict=False):
        assert after["prev_hash"] == before["hash"]
    last = lines[-1]
    assert last["at"] == "2022-04-26T15:59:59.250000+00:00"
    assert last["at_local"] == "2022-04-26T23:59:59.250000+08:00"
    assert last["detail"] == {"reason": "无证据"} and "无证据" in body.decode()


def test_the_export_is_recorded_and_not_part_of_its_own_file(client, auditor, entries):
    client.force_login(auditor)
    body, _ = download(client, format="jsonl", prefix="clearance.", start="2022-04-25")
    export = AuditEntry.objects.get(action="audit.export")
    assert export.actor == auditor and export.actor_name == "auditor-wang"
    assert export.detail == {
        "format": "jsonl",
        "filters": {"prefix": "clearance.", "start": "2022-04-25"},
        "up_to": entries[-1].pk,
    }
    assert export.pk not in [line["id"] for line in jsonl(body)]
    # ... and the next export includes it, in the chain.
    lines = jsonl(download(client, format="jsonl", prefix="audit.")[0])
    assert [line["id"] for line in lines] == [export.pk]
    assert recomputed(lines[0]) == export.hash


def test_filters_narrow_the_export_like_the_log_page(client, auditor, entries):
    client.force_login(auditor)

    def ids(**params):
        return [line["id"] for line in jsonl(download(client, format="jsonl", **params)[0])]

    person_view, person_search, approve, reject = (e.pk for e in entries)
    assert ids(prefix="clearance.") == [approve, reject]
    assert ids(action="person.view") == [person_view]
    assert ids(actor="nanguan-zhao") == [approve, reject]
    assert ids(target="clearance:4") == [reject]
    assert ids(target="person") == [person_view]
    # Beijing days, both ends included.
    assert ids(start="2022-04-24", end="2022-04-24") == [person_view, person_search]
    assert ids(start="2022-04-25", end="2022-04-26") == [approve, reject]
    assert ids(start="2022-04-26", prefix="clearance.") == [reject]
    assert ids(end="2022-04-23") == []


def test_a_bad_filter_or_format_is_refused_and_not_recorded(client, auditor, entries):
    client.force_login(auditor)
    assert client.post(URL, {"start": "24/04/2022"}).status_code == 400
    assert client.post(URL, {"start": "2022-04-26", "end": "2022-04-24"}).status_code == 400
    assert client.post(URL, {"format": "xlsx"}).status_code == 400
    assert not AuditEntry.objects.filter(action="audit.export").exists()


def test_csv_cells_that_excel_would_run_as_formulas_are_defused(client, auditor, make_staff):
    sly = make_staff("hotline", username="=HYPERLINK")
    entry = record(sly, "person.view", "person", "=1+1", {"note": "=cmd"})
    client.force_login(auditor)
    rows = csv_rows(download(client)[0])
    row = next(r for r in rows if r[0] == str(entry.pk))
    assert row[3] == "'=HYPERLINK" and row[6] == "'=1+1" and row[7] == '{"note":"=cmd"}'
    # JSON Lines keeps the values exactly: the hash still checks.
    line = next(x for x in jsonl(download(client, format="jsonl")[0]) if x["id"] == entry.pk)
    assert line["actor_name"] == "=HYPERLINK" and recomputed(line) == entry.hash


def test_the_log_page_exports_with_its_filters(client, auditor, entries):
    client.force_login(auditor)
    html = client.get(
        reverse("audit:log"), {"prefix": "clearance.", "start": "2022-04-25"}
    ).content.decode()
    assert reverse("audit:export") == URL
    form = html.split(f'<form method="post" class="inline" action="{URL}">', 1)[1]
    form = form.split("</form>", 1)[0]
    assert 'name="csrfmiddlewaretoken"' in form
    assert '<input type="hidden" name="prefix" value="clearance.">' in form
    assert '<input type="hidden" name="start" value="2022-04-25">' in form
    assert 'name="format" value="csv">导出 CSV(Excel)' in form
    assert 'name="format" value="jsonl">导出 JSON Lines' in form
    # The page itself is narrowed the same way.
    assert "clearance:3" in html and "clearance:4" in html and "person:7" not in html


def test_the_log_page_says_when_a_date_is_not_understood(client, auditor, entries):
    client.force_login(auditor)
    html = client.get(reverse("audit:log"), {"start": "yesterday"}).content.decode()
    assert "未按日期筛选" in html and "person:7" in html


@pytest.mark.parametrize("role", ["district_reviewer", "hotline", "command_centre", "employer"])
def test_only_auditors_and_admins_export(client, make_staff, role):
    client.force_login(make_staff(role, ["220102"]))
    assert client.post(URL).status_code == 403
    assert client.post(URL, {"format": "jsonl"}).status_code == 403
    assert not AuditEntry.objects.filter(action="audit.export").exists()


def test_an_admin_exports(client, make_staff):
    client.force_login(make_staff("admin"))
    body, _ = download(client)
    assert csv_rows(body)[0][0] == "编号"


def test_signing_in_is_required(client):
    response = client.post(URL)
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_a_link_cannot_export_in_an_auditor_s_name(auditor, entries):
    """A GET (a link or an image on another site) and a POST without the page's CSRF token
    export nothing and record nothing."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(auditor)
    assert client.get(URL, {"format": "csv"}).status_code == 405
    assert client.post(URL, {"format": "csv"}).status_code == 403
    assert not AuditEntry.objects.filter(action="audit.export").exists()
    client.get(reverse("audit:log"))
    token = client.cookies["csrftoken"].value
    response = client.post(URL, {"format": "csv", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert AuditEntry.objects.filter(action="audit.export").count() == 1
