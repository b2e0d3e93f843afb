"""Employer batch applications: each row of an employer's list is checked against what the city
knows, the good rows go to the district reviewers, the bad ones come back with their reasons,
and a reviewer decides the batch (or some rows of it) at once."""

import io
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from fangkong.accounts.models import Role
from fangkong.audit.models import AuditEntry
from fangkong.clearances.actions import do_submit
from fangkong.clearances.batches import BatchError, do_decide_batch, do_submit_batch
from fangkong.clearances.evidence import EvidenceError
from fangkong.clearances.models import Clearance, EmployerBatch, EmployerBatchRow, Evidence
from fangkong.clock.tests.worker import run_due_tasks
from fangkong.codes.models import PersonCode
from fangkong.ingest.tests.support import BJ, policy_source, report_result, sample
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db
POLICY = "cc-2022-0420-untested"
EMPLOYER = "长春市第一汽车配件厂"
UPLOADED = datetime(2022, 4, 24, 10, tzinfo=BJ)
DECIDED = UPLOADED + timedelta(hours=2)
HEADER = ["身份证号", "姓名", "采样点", "采样时间", "试管条码"]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def works(city, make_staff):
    """The sites scanned other people on 21 April; everyone else turned yellow on the 23rd.
    Eight 南关区 residents, one who was scanned, and one 朝阳区 resident work at the factory."""
    sample([city.nanguan[20]], "T-NG-1", 1, datetime(2022, 4, 21, 9, tzinfo=BJ))
    report_result("T-NG-1", "negative", datetime(2022, 4, 21, 18, tzinfo=BJ))
    sample([city.nanguan[21]], "T-NG-2", 1, datetime(2022, 4, 21, 9, tzinfo=BJ))  # no result
    sample([city.chaoyang[4]], "T-CY-1", 1, datetime(2022, 4, 21, 11, tzinfo=BJ), site="S-CY-1")
    do_publish(policy_source(POLICY), user=None, now=datetime(2022, 4, 23, 9, tzinfo=BJ))
    staff = [*city.nanguan[:8], city.nanguan[20], city.chaoyang[0]]
    Person.objects.filter(id_number__in=staff).update(employer=EMPLOYER)
    liaison = make_staff(Role.EMPLOYER)
    liaison.staff.organisation = EMPLOYER
    liaison.staff.save()
    return city, liaison


def csv_file(rows, name="名单.csv", encoding="utf-8"):
    text = "\n".join(",".join(r) for r in [HEADER, *rows]) + "\n"
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def pdf():
    return SimpleUploadedFile("单位证明.pdf", PDF, content_type="application/pdf")


def good_rows(city):
    return [
        [city.nanguan[0], "居民1", "S-NG-1", "2022-04-21 09:30", "T-NG-1"],
        [city.nanguan[1], "居民2", "南关区第1采样点", "2022/4/21 10:00", ""],
        [city.chaoyang[0], "居民100", "S-CY-1", "2022-04-21 11:30", ""],
    ]


def colour(id_number):
    code = PersonCode.objects.filter(person__id_number=id_number).first()
    return code.colour if code else "green"


@pytest.fixture
def batch(works):
    city, liaison = works
    return do_submit_batch(csv_file(good_rows(city)), pdf(), POLICY, liaison, UPLOADED)


def test_good_rows_go_to_review_and_bad_rows_come_back_with_their_reasons(works, client):
    city, liaison = works
    n = city.nanguan
    bad_number = n[7][:17] + ("0" if n[7][17] != "0" else "1")
    do_submit(Person.objects.get(id_number=n[6]), POLICY, "appeal", UPLOADED - timedelta(hours=1))
    rows = [
        *good_rows(city)[:2],  # rows 2, 3
        [n[10], "居民11", "S-NG-1", "2022-04-21 09:30", ""],  # 4: works elsewhere
        [n[20], "居民21", "S-NG-1", "2022-04-21 09:30", ""],  # 5: was scanned, green
        [n[2], "居民3", "S-NG-1", "2022-04-22 20:00", ""],  # 6: nobody sampled then
        [n[3], "居民4", "S-NG-1", "2022-04-21 09:30", "T-NOPE"],  # 7
        [n[4], "居民5", "S-NG-1", "2022-04-21 09:30", "T-NG-2"],  # 8: no result yet
        [bad_number, "居民8", "S-NG-1", "2022-04-21 09:30", ""],  # 9
        [n[5], "张三", "S-NG-1", "2022-04-21 09:30", ""],  # 10
        [n[0], "居民1", "S-NG-1", "2022-04-21 09:30", ""],  # 11: row 2 again
        [n[6], "居民7", "S-NG-1", "2022-04-21 09:30", ""],  # 12: appealed already
        good_rows(city)[2],  # 13
    ]
    client.force_login(liaison)
    with time_machine.travel(UPLOADED, tick=False):
        waiting = client.post(
            "/clearances/batches/new/",
            {"policy": POLICY, "rows": csv_file(rows), "document": pdf(), "note": "食堂统一采样"},
            follow=True,
        )
        assert "正在处理" in waiting.content.decode() and not EmployerBatch.objects.exists()
        assert run_due_tasks("fangkong.clearances.batch_tasks.check_employer_list") == 1
        reply = client.get(waiting.redirect_chain[-1][0], follow=True)
    page = reply.content.decode()
    batch = EmployerBatch.objects.get()
    assert (batch.rows_total, batch.rows_accepted, batch.rows_rejected) == (12, 3, 9)
    assert "3 行已提交审核" in page and "居民1" not in page and "*1" in page
    reasons = {r.row_number: " ".join(r.errors) for r in batch.rows.all()}
    expected = {
        4: "登记的员工不符",
        5: "当前没有因",
        6: "没有任何采样记录",
        7: "“T-NOPE”无法核实",
        8: "“T-NG-2”无法核实",
        9: "身份证号无效",
        10: "登记的员工不符",
        11: "与第2行重复",
        12: "已有进行中的申请",
    }
    for number, reason in expected.items():
        assert reason in reasons[number] and reason in page, (number, reasons[number])
    assert not any(reasons[i] for i in (2, 3, 13))
    opened = Clearance.objects.filter(batch=batch)
    assert {c.person.id_number for c in opened} == {n[0], n[1], city.chaoyang[0]}
    assert {(c.channel, c.status) for c in opened} == {("employer", "submitted")}
    assert "食堂统一采样" in opened.first().description
    assert AuditEntry.objects.filter(action="clearance.batch_submit").count() == 1


def test_the_same_list_uploaded_again_changes_nothing(works):
    city, liaison = works
    first = do_submit_batch(
        csv_file(good_rows(city), encoding="gbk"), pdf(), POLICY, liaison, UPLOADED
    )
    counts = [m.objects.count() for m in (EmployerBatchRow, Clearance, Evidence)]
    again = do_submit_batch(
        csv_file(good_rows(city), encoding="gbk"), pdf(), POLICY, liaison, UPLOADED
    )
    assert first.rows_accepted == 3 and not first.repeated
    assert again.pk == first.pk and again.repeated
    assert [m.objects.count() for m in (EmployerBatchRow, Clearance, Evidence)] == counts
    assert AuditEntry.objects.filter(action="clearance.batch_submit").count() == 1


def test_an_excel_list_is_read_with_its_date_cells_as_beijing_time(works):
    from openpyxl import Workbook

    city, liaison = works
    book = Workbook()
    book.active.append(["姓名", "身份证号码", "采样点编码", "采样时间"])
    book.active.append(["居民1", city.nanguan[0], "S-NG-1", datetime(2022, 4, 21, 9, 30)])
    data = io.BytesIO()
    book.save(data)
    upload = SimpleUploadedFile("名单.xlsx", data.getvalue())
    batch = do_submit_batch(upload, pdf(), POLICY, liaison, UPLOADED)
    row = batch.rows.get()
    assert batch.rows_accepted == 1 and row.errors == []
    assert row.sampled_at == datetime(2022, 4, 21, 9, 30, tzinfo=BJ)


def test_a_list_without_a_required_column_is_refused_naming_it(works):
    _, liaison = works
    upload = SimpleUploadedFile("名单.csv", "身份证号,姓名,采样点\n1,2,3\n".encode())
    with pytest.raises(BatchError, match="采样时间"):
        do_submit_batch(upload, pdf(), POLICY, liaison, UPLOADED)


def test_a_text_file_named_pdf_is_refused_and_nothing_is_saved(works, client):
    city, liaison = works
    fake = SimpleUploadedFile("单位证明.pdf", b"just some text", content_type="application/pdf")
    with pytest.raises(EvidenceError, match="不是"):
        do_submit_batch(csv_file(good_rows(city)), fake, POLICY, liaison, UPLOADED)
    client.force_login(liaison)
    fake.seek(0)
    with time_machine.travel(UPLOADED, tick=False):
        page = client.post(
            "/clearances/batches/new/",
            {"policy": POLICY, "rows": csv_file(good_rows(city)), "document": fake},
        ).content.decode()
    assert "按文件内容判断" in page
    for model in (EmployerBatch, EmployerBatchRow, Clearance, Evidence):
        assert not model.objects.exists()


def test_approving_the_whole_batch_turns_the_reviewers_districts_green(batch, client, make_staff):
    ids = list(batch.rows.order_by("row_number").values_list("id_number", flat=True))
    assert [colour(i) for i in ids] == ["yellow"] * 3
    client.force_login(make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    url = f"/clearances/batches/{batch.pk}/"
    with time_machine.travel(DECIDED, tick=False):
        page = client.get(url).content.decode()
        reply = client.post(
            url, {"scope": "all", "action": "approve", "reason": "单位采样登记表核实"}, follow=True
        )
    assert page.count('name="clearance"') == 2  # the 朝阳区 row is not theirs
    assert "已通过 2 行" in reply.content.decode()
    assert "1 行不在您负责的区县" in reply.content.decode()
    assert [colour(i) for i in ids] == ["green", "green", "yellow"]
    assert AuditEntry.objects.filter(action="employer_batch.view", target_id=str(batch.pk)).exists()


def test_approving_chosen_rows_clears_only_those(batch, client, make_staff):
    first, second = batch.clearances.filter(county_code="220102").order_by("pk")
    client.force_login(make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    url = f"/clearances/batches/{batch.pk}/"
    with time_machine.travel(DECIDED, tick=False):
        refused = client.post(url, {"scope": "selected", "action": "approve", "reason": "x"})
        client.post(
            url,
            {"scope": "selected", "clearance": [first.pk], "action": "approve", "reason": "核实"},
        )
    assert refused.status_code == 200  # nothing chosen: the page again, with the message
    second.refresh_from_db()
    assert colour(first.person.id_number) == "green"
    assert colour(second.person.id_number) == "yellow" and second.status == "submitted"


def test_a_reviewer_of_another_district_neither_sees_nor_decides_the_batch(
    batch, client, make_staff
):
    stranger = make_staff(Role.DISTRICT_REVIEWER, ["220103"])
    client.force_login(stranger)
    url = f"/clearances/batches/{batch.pk}/"
    with time_machine.travel(DECIDED, tick=False):
        listing = client.get("/clearances/batches/").content.decode()
        seen = client.get(url)
        posted = client.post(url, {"scope": "all", "action": "approve", "reason": "核实"})
    assert url not in listing and seen.status_code == 404 and posted.status_code == 404
    with pytest.raises(PermissionDenied):
        do_decide_batch(batch.pk, "approve", stranger, DECIDED, "核实")
    assert set(batch.clearances.values_list("status", flat=True)) == {"submitted"}


def test_only_an_employer_liaison_with_an_organisation_uploads(works, client, make_staff):
    city, liaison = works
    client.force_login(liaison)
    with time_machine.travel(UPLOADED, tick=False):
        form = client.get("/clearances/batches/new/").content.decode()
    template = client.get("/clearances/batches/template.csv").content.decode("utf-8-sig")
    assert f'value="{POLICY}"' in form and template.startswith(",".join(HEADER))
    reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220102"])
    client.force_login(reviewer)
    assert client.get("/clearances/batches/new/").status_code == 403
    with pytest.raises(PermissionDenied):
        do_submit_batch(csv_file(good_rows(city)), pdf(), POLICY, reviewer, UPLOADED)
    with pytest.raises(PermissionDenied, match="所属单位"):
        do_submit_batch(
            csv_file(good_rows(city)), pdf(), POLICY, make_staff(Role.EMPLOYER), UPLOADED
        )
    assert not EmployerBatch.objects.exists()


def test_another_employers_liaison_cannot_open_the_batch(batch, client, make_staff):
    other = make_staff(Role.EMPLOYER)
    other.staff.organisation = "长春市第二食品厂"
    other.staff.save()
    client.force_login(other)
    assert client.get(f"/clearances/batches/{batch.pk}/").status_code == 404


def test_a_blank_line_is_not_a_failed_row(works):
    city, liaison = works
    first, second, third = good_rows(city)
    # A blank line, a row of empty cells as Excel saves it, and blank lines at the end.
    text = "\n".join([",".join(HEADER), ",".join(first), "", ",".join(second), ",,,,"])
    text += "\n" + ",".join(third) + "\n\n\n"
    upload = SimpleUploadedFile("名单.csv", text.encode(), content_type="text/csv")
    batch = do_submit_batch(upload, pdf(), POLICY, liaison, UPLOADED)
    assert (batch.rows_total, batch.rows_accepted, batch.rows_rejected) == (3, 3, 0)
    # Rows keep the numbers the spreadsheet shows.
    assert list(batch.rows.values_list("row_number", flat=True)) == [2, 4, 6]


def test_a_row_outside_the_rules_window_shows_the_time_it_was_uploaded_with(works, client):
    city, liaison = works
    late = [city.nanguan[2], "居民3", "S-NG-1", "2022-04-23 08:15", ""]
    batch = do_submit_batch(csv_file([late]), pdf(), POLICY, liaison, UPLOADED)
    row = batch.rows.get()
    assert "不在政策要求的采样期间" in " ".join(row.errors) and row.clearance is None
    assert row.sampled_at == datetime(2022, 4, 23, 8, 15, tzinfo=BJ)
    client.force_login(liaison)
    with time_machine.travel(UPLOADED, tick=False):
        page = client.get(f"/clearances/batches/{batch.pk}/").content.decode()
    assert '<td class="nowrap">4月23日 08:15</td>' in page


def test_the_lists_name_the_policy_by_its_title_first(batch, client, make_staff):
    client.force_login(make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    policy = (
        "4月20日至22日未参加核酸检测人员赋黄码 "
        '<small class="muted policy-id"><span class="mono">cc-2022-0420-untested</span></small>'
    )
    with time_machine.travel(DECIDED, tick=False):
        listing = client.get("/clearances/batches/").content.decode()
        detail = client.get(f"/clearances/batches/{batch.pk}/").content.decode()
    assert policy in listing and policy in detail


def test_a_refused_bulk_decision_comes_back_as_the_reviewer_left_it(batch, client, make_staff):
    first, _ = batch.clearances.filter(county_code="220102").order_by("pk")
    client.force_login(make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    url = f"/clearances/batches/{batch.pk}/"
    why = "单位采样登记表核实," * 60  # longer than a decision's reason may be
    with time_machine.travel(DECIDED, tick=False):
        page = client.post(
            url, {"scope": "selected", "clearance": [first.pk], "action": "reject", "reason": why}
        ).content.decode()
    assert "理由最多 500 字" in page
    assert f">{why}</textarea>" in page
    assert f'value="{first.pk}" aria-label="选择第2行" checked' in page
    assert '<option value="reject" selected>' in page
    assert set(batch.clearances.values_list("status", flat=True)) == {"submitted"}


def test_a_nul_in_a_list_rejects_that_row_and_the_others_go_to_review(works):
    city, liaison = works
    first, second, third = good_rows(city)
    second[1] = "居民\x002"
    batch = do_submit_batch(csv_file([first, second, third]), pdf(), POLICY, liaison, UPLOADED)
    assert (batch.rows_total, batch.rows_accepted, batch.rows_rejected) == (3, 2, 1)
    refused = batch.rows.get(row_number=3)
    assert "“姓名”含有控制字符" in " ".join(refused.errors)
    assert all("\x00" not in row.name for row in batch.rows.all())


def test_birth_dates_in_2030_or_1850_are_refused_in_a_list(works):
    from datetime import date

    from fangkong.engine.id_numbers import make_id_number

    city, liaison = works
    rows = [
        [make_id_number("220102", date(year, 1, 1), 1), "某人", "S-NG-1", "2022-04-21 09:30", ""]
        for year in (2030, 1850)
    ]
    batch = do_submit_batch(csv_file(rows), pdf(), POLICY, liaison, UPLOADED)
    reasons = [" ".join(row.errors) for row in batch.rows.order_by("row_number")]
    assert "出生日期晚于今天" in reasons[0] and "出生日期早于1880年" in reasons[1]


def test_a_list_naming_a_column_twice_is_refused(works):
    city, liaison = works
    text = ",".join([*HEADER, "姓名"]) + "\n" + ",".join([*good_rows(city)[0], "某人"]) + "\n"
    upload = SimpleUploadedFile("名单.csv", text.encode(), content_type="text/csv")
    with pytest.raises(BatchError, match="列名“姓名”出现了两次"):
        do_submit_batch(upload, pdf(), POLICY, liaison, UPLOADED)
    assert not EmployerBatch.objects.exists()
