"""Uploading files from the browser, reading the batch they made, and resolving flags."""

import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from fangkong.audit.models import AuditEntry
from fangkong.engine.id_numbers import mask
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.models import Batch, Flag
from fangkong.ingest.tests.support import community
from fangkong.testing.models import LabResult

pytestmark = pytest.mark.django_db
AT = "2022-04-20T08:00:00+08:00"
REPORTED = "2022-04-20T20:00:00+08:00"


def csv_file(lines, name="results.csv", encoding="utf-8"):
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(encoding), "text/csv")


def web_batch():
    return Batch.objects.get(source="web")


def upload(client, kind, file, **fields):
    return client.post(reverse("ingest:upload", args=[kind]), {"file": file, **fields})


@pytest.fixture
def tubes(city):
    """Two single tubes of 南关区 residents, sampled at the 南关区 site."""
    rows = [
        {
            "id_number": number,
            "tube": f"T-{i}",
            "pool_size": "1",
            "site_code": "S-NG-1",
            "sampled_at": AT,
        }
        for i, number in enumerate(city.nanguan[:2], start=1)
    ]
    assert do_ingest("samplings", rows=rows).inserted == 2
    return city


@pytest.fixture
def lab(make_staff):
    return make_staff("lab")


@pytest.fixture
def upload_dir(tmp_path, monkeypatch):
    """Uploads spill into a directory of their own, so a test can see they are removed."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_lab_uploading_results_sees_the_batch_with_counts_and_row_errors(
    tubes, client, lab, upload_dir
):
    client.force_login(lab)
    response = upload(
        client,
        "results",
        csv_file(
            [
                "试管条码,检测结果,检测机构,报告时间",
                f"T-1,阴性,吉林金域,{REPORTED}",
                f"T-404,阴性,吉林金域,{REPORTED}",
                f"T-2,弱阳性,吉林金域,{REPORTED}",
            ]
        ),
    )
    batch = web_batch()
    assert response.status_code == 302
    assert response["Location"] == reverse("ingest:batch", args=[batch.pk])
    html = client.get(response["Location"]).content.decode()
    assert (batch.rows, batch.inserted, batch.rejected, batch.uploaded_by) == (3, 1, 2, lab)
    assert batch.source == "web" and batch.filename == "results.csv"
    assert "未知试管:尚无该条码的采样记录" in html and "T-404" in html
    assert "取值应为" in html and "弱阳性" in html
    assert '<td class="num">3</td>' in html and '<td class="num">4</td>' in html  # row numbers
    assert list(upload_dir.iterdir()) == []  # the temporary copy is gone


def test_a_lab_cannot_open_the_residents_upload(city, client, lab):
    client.force_login(lab)
    assert client.get(reverse("ingest:upload", args=["residents"])).status_code == 403
    response = upload(client, "residents", csv_file(["id_number,name,phone,community_code"]))
    assert response.status_code == 403
    assert not Batch.objects.filter(source="web").exists()


def test_an_unknown_kind_of_upload_is_not_found(client, lab):
    client.force_login(lab)
    assert client.get(reverse("ingest:upload", args=["vaccinations"])).status_code == 404


def test_the_upload_page_lists_the_columns_of_its_kind(client, lab):
    client.force_login(lab)
    html = client.get(reverse("ingest:upload", args=["results"])).content.decode()
    assert "reported_at" in html and "报告时间" in html and "必填" in html
    assert "correction_reason" in html and "选填" in html
    assert reverse("ingest:docs") in html


def test_csrf_is_enforced_on_the_upload(tubes, lab):
    client = Client(enforce_csrf_checks=True)
    client.force_login(lab)
    lines = ["tube,result,lab,reported_at", f"T-1,negative,吉林金域,{REPORTED}"]
    assert upload(client, "results", csv_file(lines)).status_code == 403
    assert not Batch.objects.filter(source="web").exists()
    client.get(reverse("ingest:upload", args=["results"]))
    token = client.cookies["csrftoken"].value
    response = upload(client, "results", csv_file(lines), csrfmiddlewaretoken=token)
    assert response.status_code == 302
    assert web_batch().inserted == 1


def test_times_without_a_zone_are_read_as_beijing_time_only_when_asked(tubes, client, lab):
    client.force_login(lab)
    lines = ["tube,result,lab,reported_at", "T-1,negative,吉林金域,2022-04-20 20:00"]
    upload(client, "results", csv_file(lines))
    assert web_batch().rejected == 1
    upload(client, "results", csv_file(lines), assume_beijing_time="on")
    assert LabResult.objects.get().reported_at.isoformat() == "2022-04-20T12:00:00+00:00"


def test_a_gb18030_file_can_be_named_as_such(tubes, client, lab):
    client.force_login(lab)
    lines = ["试管条码,检测结果,检测机构,报告时间", f"T-1,阴性,吉林金域,{REPORTED}"]
    upload(client, "results", csv_file(lines, encoding="gb18030"), encoding="gb18030")
    batch = web_batch()
    assert (batch.inserted, batch.encoding) == (1, "gb18030")


def test_an_excel_file_is_accepted(tubes, client, lab):
    book = Workbook()
    sheet = book.active
    sheet.append(["tube", "result", "lab", "reported_at"])
    sheet.append(["T-1", "阴性", "吉林金域", REPORTED])
    data = io.BytesIO()
    book.save(data)
    client.force_login(lab)
    upload(client, "results", SimpleUploadedFile("results.xlsx", data.getvalue()))
    batch = web_batch()
    assert (batch.file_format, batch.inserted) == ("xlsx", 1)


def test_other_files_are_refused_before_anything_is_loaded(client, lab):
    client.force_login(lab)
    response = upload(client, "results", SimpleUploadedFile("results.pdf", b"%PDF-1.4"))
    assert response.status_code == 200
    assert "只接受 .csv 或 .xlsx 文件" in response.content.decode()
    assert not Batch.objects.filter(source="web").exists()


def test_a_file_without_the_required_columns_shows_why_it_failed(tubes, client, lab):
    client.force_login(lab)
    response = upload(client, "results", csv_file(["tube,lab", "T-1,吉林金域"]))
    assert response.status_code == 422
    html = response.content.decode()
    assert "缺少必需的列" in html and "result" in html
    assert web_batch().failure
    batch_page = client.get(reverse("ingest:batch", args=[web_batch().pk])).content.decode()
    assert "缺少必需的列" in batch_page


def test_the_errors_download_as_csv_that_excel_reads_as_utf8(city, client, make_staff):
    reviewer = make_staff("district_reviewer", ["220102"])
    client.force_login(reviewer)
    upload(
        client,
        "designations",
        csv_file(
            [
                "id_number,kind,start_at,designated_by",
                f"{city.chaoyang[0]},密接,{AT},南关区流调组",
                f'{city.nanguan[0]},朋友,{AT},=HYPERLINK("x")',
            ],
            name="designations.csv",
        ),
    )
    batch = web_batch()
    response = client.get(reverse("ingest:batch_errors", args=[batch.pk]))
    body = b"".join(response.streaming_content)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert text.splitlines()[0] == "行号,字段,值,原因"
    assert mask(city.chaoyang[0]) in text and city.chaoyang[0] not in text
    assert "该人员不在您负责的区县" in text


def test_the_batch_page_masks_id_numbers_in_the_error_table(city, client, make_staff):
    reviewer = make_staff("district_reviewer", ["220102"])
    client.force_login(reviewer)
    upload(
        client,
        "designations",
        csv_file(
            [
                "id_number,kind,start_at,designated_by",
                f"{city.chaoyang[0]},密接,{AT},南关区流调组",
            ]
        ),
    )
    html = client.get(reverse("ingest:batch", args=[web_batch().pk])).content.decode()
    assert mask(city.chaoyang[0]) in html and city.chaoyang[0] not in html


def test_a_batch_is_seen_by_its_uploader_and_city_wide_roles_only(tubes, client, lab, make_staff):
    client.force_login(lab)
    upload(
        client,
        "results",
        csv_file(["tube,result,lab,reported_at", f"T-1,negative,吉林金域,{REPORTED}"]),
    )
    url = reverse("ingest:batch", args=[web_batch().pk])
    assert client.get(url).status_code == 200
    assert "#" + str(web_batch().pk) in client.get(reverse("ingest:batches")).content.decode()
    other_lab = Client()
    other_lab.force_login(make_staff("lab"))
    assert other_lab.get(url).status_code == 404
    assert other_lab.get(url + "errors.csv").status_code == 404
    centre = Client()
    centre.force_login(make_staff("command_centre"))
    assert centre.get(url).status_code == 200


def test_the_error_table_is_paginated(city, client, make_staff):
    client.force_login(make_staff("command_centre"))
    rows = ["tube,result,lab,reported_at"] + [f"X-{i},阴性,吉林金域,{REPORTED}" for i in range(60)]
    upload(client, "results", csv_file(rows))
    url = reverse("ingest:batch", args=[web_batch().pk])
    first = client.get(url).content.decode()
    second = client.get(url + "?page=2").content.decode()
    assert "X-0<" in first and "X-59<" not in first
    assert "X-59<" in second and "第 2 / 2 页" in second


# -- flags ----------------------------------------------------------------------------------


@pytest.fixture
def conflicting_result(tubes):
    """T-1 is negative; a second file says positive without a correction reason: a flag of the
    district where the tube was filled (南关区)."""
    do_ingest(
        "results",
        rows=[{"tube": "T-1", "result": "阴性", "lab": "吉林金域", "reported_at": REPORTED}],
    )
    report = do_ingest(
        "results",
        rows=[{"tube": "T-1", "result": "阳性", "lab": "吉林金域", "reported_at": REPORTED}],
    )
    assert report.flagged == 1
    return Flag.objects.get()


def test_a_reviewer_resolves_a_flag_by_accepting_the_new_value(
    conflicting_result, client, make_staff
):
    reviewer = make_staff("district_reviewer", ["220102"])
    client.force_login(reviewer)
    url = reverse("ingest:flag", args=[conflicting_result.pk])
    html = client.get(url).content.decode()
    assert "阴性" in html and "阳性" in html and "不同" in html
    response = client.post(url, {"decision": "accept", "note": "实验室电话确认为阳性"})
    assert response.status_code == 302
    conflicting_result.refresh_from_db()
    assert (conflicting_result.status, conflicting_result.resolved_by) == ("accepted", reviewer)
    standing = LabResult.objects.filter(superseded_by__isnull=True).get(tube__barcode="T-1")
    assert standing.result == "positive" and standing.correction_reason == "实验室电话确认为阳性"
    assert AuditEntry.objects.filter(action="flag.resolve", target_id=str(conflicting_result.pk))
    assert "已采纳新值" in client.get(url).content.decode()


def test_a_reviewer_keeps_the_existing_value(conflicting_result, client, make_staff):
    client.force_login(make_staff("district_reviewer", ["220102"]))
    url = reverse("ingest:flag", args=[conflicting_result.pk])
    client.post(url, {"decision": "keep", "note": "原结果经复核无误"})
    conflicting_result.refresh_from_db()
    assert conflicting_result.status == "rejected"
    assert LabResult.objects.get().result == "negative"


def test_a_flag_needs_a_reason(conflicting_result, client, make_staff):
    client.force_login(make_staff("district_reviewer", ["220102"]))
    url = reverse("ingest:flag", args=[conflicting_result.pk])
    response = client.post(url, {"decision": "accept", "note": "  "})
    assert response.status_code == 200
    conflicting_result.refresh_from_db()
    assert conflicting_result.status == "open"


def test_resolving_a_flag_twice_shows_why_it_cannot_be_done(conflicting_result, client, make_staff):
    client.force_login(make_staff("district_reviewer", ["220102"]))
    url = reverse("ingest:flag", args=[conflicting_result.pk])
    client.post(url, {"decision": "keep", "note": "原结果无误"})
    response = client.post(url, {"decision": "accept", "note": "改主意了"})
    assert "该记录已处理" in response.content.decode()
    conflicting_result.refresh_from_db()
    assert conflicting_result.status == "rejected"


def test_flags_of_another_district_are_neither_listed_nor_opened(
    conflicting_result, client, make_staff
):
    client.force_login(make_staff("district_reviewer", ["220104"]))
    html = client.get(reverse("ingest:flags")).content.decode()
    assert f"#{conflicting_result.pk}<" not in html
    url = reverse("ingest:flag", args=[conflicting_result.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"decision": "accept", "note": "x"}).status_code == 404


def test_flags_of_no_district_are_for_city_wide_roles_only(conflicting_result, make_staff):
    Flag.objects.update(county_code="")
    url = reverse("ingest:flag", args=[conflicting_result.pk])
    reviewer, centre = Client(), Client()
    reviewer.force_login(make_staff("district_reviewer", ["220102"]))
    centre.force_login(make_staff("command_centre"))
    assert reviewer.get(url).status_code == 404
    assert centre.get(url).status_code == 200
    assert f"#{conflicting_result.pk}<" in centre.get(reverse("ingest:flags")).content.decode()


def test_a_lab_cannot_resolve_flags(conflicting_result, client, lab):
    client.force_login(lab)
    assert client.get(reverse("ingest:flags")).status_code == 403
    url = reverse("ingest:flag", args=[conflicting_result.pk])
    assert client.post(url, {"decision": "accept", "note": "x"}).status_code == 403


def test_the_batch_page_lists_the_flags_it_created(conflicting_result, client, make_staff):
    client.force_login(make_staff("command_centre"))
    html = client.get(reverse("ingest:batch", args=[conflicting_result.batch_id])).content.decode()
    assert "与已有记录不一致" in html
    assert reverse("ingest:flag", args=[conflicting_result.pk]) in html


def test_a_residents_flag_shows_a_masked_id_and_both_phone_numbers(city, client, make_staff):
    row = {
        "id_number": city.nanguan[0],
        "name": "居民1",
        "phone": "13700000000",
        "community_code": community("220102").code,
    }
    assert do_ingest("residents", rows=[row]).flagged == 1
    client.force_login(make_staff("district_reviewer", ["220102"]))
    flag = Flag.objects.get()
    html = client.get(reverse("ingest:flag", args=[flag.pk])).content.decode()
    assert mask(city.nanguan[0]) in html and city.nanguan[0] not in html
    assert "13900000001" in html and "13700000000" in html
    assert AuditEntry.objects.filter(action="flag.view", target_id=str(flag.pk)).exists()


def test_uploads_leave_no_temporary_files_even_when_loading_fails(
    tubes, client, lab, upload_dir, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("fangkong.ingest.views.do_ingest", broken)
    client.force_login(lab)
    client.raise_request_exception = False
    response = upload(client, "results", csv_file(["tube,result,lab,reported_at"]))
    assert response.status_code == 500
    assert os.listdir(upload_dir) == []
