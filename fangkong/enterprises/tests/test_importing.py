"""The enterprise registry, its staff and its daily reports load through the one ingestion path
(`fangkong ingest enterprises|employees|daily_reports`, the upload page, the API): checked row
by row, scoped to the uploader's districts or enterprise, and idempotent."""

import io
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook
from stdnum.cn import uscc as gb32100

from fangkong.accounts.models import StaffProfile
from fangkong.audit.models import AuditEntry
from fangkong.cli import build_parser
from fangkong.codes.models import PendingEvaluation
from fangkong.enterprises.models import DailyReport, Employee, Enterprise, SupplyLink
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.flags import do_resolve_flag
from fangkong.ingest.models import Batch, Flag
from fangkong.ingest.tests.support import community, write_csv

pytestmark = pytest.mark.django_db
BJ = timezone(timedelta(hours=8))
NOW = datetime(2022, 4, 20, 20, 0, tzinfo=BJ)
NEW_DISTRICT = "220173"  # 长春新区, a development zone
FAW_NAME = "一汽解放汽车有限公司"
SUPPLIER_NAME = "长春富维东阳汽车塑料零部件有限公司"


def code(n: int, region: str = "220101") -> str:
    """A unified social credit code with its GB 32100 check character."""
    body = f"91{region}MA{n:07d}"
    return body + gb32100.calc_check_digit(body)


FAW, SUPPLIER, PHARMA, CHAOYANG = code(1), code(2), code(3), code(4)
CHINESE = [
    "统一社会信用代码",
    "企业名称",
    "所属区县代码",
    "行业",
    "规上",
    "正常用工人数",
    "包保联络员",
    "联络员电话",
    "配套企业统一社会信用代码",
]


def registry_rows() -> list[list[str]]:
    """A vehicle maker and its supplier in 长春新区 (the supplier listed first), a drug maker in
    南关区 that is not above scale, and one in 朝阳区."""
    return [
        [
            SUPPLIER,
            SUPPLIER_NAME,
            NEW_DISTRICT,
            "汽车及零部件",
            "是",
            "800",
            "王强",
            "13900000001",
            FAW,
        ],
        [FAW, FAW_NAME, NEW_DISTRICT, "automotive", "true", "5000", "李明", "13900000002", ""],
        [PHARMA, "长春南关制药有限公司", "220102", "医药健康", "否", "120", "", "", ""],
        [CHAOYANG, "长春朝阳食品有限公司", "220104", "食品", "1", "60", "", "", ""],
    ]


def enterprises_file(tmp_path, rows=None, header=CHINESE, name="enterprises.csv") -> str:
    return write_csv(tmp_path / name, header, registry_rows() if rows is None else rows)


def register(tmp_path, user=None):
    report = do_ingest("enterprises", path=enterprises_file(tmp_path), now=NOW, user=user)
    assert (report.inserted, report.rejected) == (4, 0), report.errors
    return report


def report_row(uscc=FAW, day="2022-04-20", staff="4200", returning="1300", capacity="78.5"):
    return {
        "uscc": uscc,
        "day": day,
        "staff_on_duty": staff,
        "returning_staff": returning,
        "capacity_percent": capacity,
        "closed_loop": "是",
        "problems": "",
    }


def reasons(report) -> dict[int, tuple[str, str]]:
    return {e["row"]: (e["field"], e["reason"]) for e in report.errors}


def run(*argv) -> int:
    args = build_parser().parse_args([str(a) for a in argv])
    return args.func(args)


# -- enterprises --------------------------------------------------------------------------------


def test_a_district_uploads_its_registry_and_supply_links_are_made_within_the_file(
    db, make_staff, client
):
    client.force_login(make_staff("district_reviewer", [NEW_DISTRICT]))
    rows = registry_rows()[:2]
    lines = [",".join(CHINESE), *(",".join(r) for r in rows)]
    upload = SimpleUploadedFile("企业名录.csv", ("\n".join(lines) + "\n").encode(), "text/csv")
    response = client.post(reverse("ingest:upload", args=["enterprises"]), {"file": upload})
    assert response.status_code == 302
    assert Batch.objects.get(source="web").inserted == 2
    faw = Enterprise.objects.get(uscc=FAW)
    supplier = Enterprise.objects.get(uscc=SUPPLIER)
    assert (supplier.name, supplier.county_code, supplier.industry) == (
        SUPPLIER_NAME,
        NEW_DISTRICT,
        "automotive",
    )
    assert (supplier.above_scale, supplier.normal_staff, supplier.liaison_name) == (
        True,
        800,
        "王强",
    )
    # An empty cadence is the closed-loop default: PCR every 3 days, antigen every day.
    assert (faw.pcr_every_days, faw.antigen_every_days) == (3, 1)
    assert list(SupplyLink.objects.values_list("supplier", "customer")) == [(supplier.pk, faw.pk)]


def test_a_wrong_check_character_an_unknown_district_and_a_taken_name_are_refused_alone(
    db, tmp_path
):
    register(tmp_path)
    wrong_check = FAW[:-1] + ("0" if FAW[-1] != "0" else "1")
    rows = [
        [wrong_check, "校验位错误公司", NEW_DISTRICT, "其他", "否", "10", "", "", ""],
        [code(10), "区县未知公司", "220199", "其他", "否", "10", "", "", ""],
        [code(11), FAW_NAME, NEW_DISTRICT, "其他", "否", "10", "", "", ""],
        [code(12), "配套未知公司", NEW_DISTRICT, "其他", "否", "10", "", "", code(99)],
        [code(13), "行业未知公司", NEW_DISTRICT, "纺织", "否", "10", "", "", ""],
        [code(14), "新登记公司", NEW_DISTRICT, "其他", "否", "10", "", "", ""],
        [code(15), "新登记公司", NEW_DISTRICT, "其他", "否", "10", "", "", ""],
    ]
    report = do_ingest("enterprises", path=enterprises_file(tmp_path, rows), now=NOW)
    assert (report.rows, report.inserted, report.rejected) == (7, 1, 6)
    why = reasons(report)
    assert why[2][0] == "uscc" and "校验位不符" in why[2][1]
    assert why[3][0] == "county_code" and "未知区县代码" in why[3][1]
    assert why[4][0] == "name" and FAW in why[4][1] and FAW_NAME in why[4][1]
    assert why[5][0] == "supplies_to" and "配套企业尚未登记" in why[5][1]
    assert why[6][0] == "industry"
    assert why[8] == ("name", f"企业名称与同一文件第7行的企业(统一社会信用代码 {code(14)})相同")
    assert set(Enterprise.objects.values_list("uscc", flat=True)) == {
        FAW,
        SUPPLIER,
        PHARMA,
        CHAOYANG,
        code(14),
    }


def test_the_same_registry_again_changes_nothing(db, tmp_path):
    register(tmp_path)
    again = do_ingest("enterprises", path=enterprises_file(tmp_path), now=NOW + timedelta(hours=1))
    assert (again.inserted, again.duplicates, again.flagged, again.rejected) == (0, 4, 0, 0)
    assert Enterprise.objects.count() == 4 and SupplyLink.objects.count() == 1


def test_a_changed_enterprise_is_flagged_and_accepting_the_flag_applies_it(
    db, tmp_path, make_staff, client
):
    register(tmp_path)
    changed = registry_rows()[1]
    changed[5] = "5200"  # normal staff
    report = do_ingest("enterprises", path=enterprises_file(tmp_path, [changed]), now=NOW)
    assert (report.inserted, report.flagged) == (0, 1)
    flag = Flag.objects.get()
    assert (flag.kind, flag.key, flag.county_code) == ("enterprises", FAW, NEW_DISTRICT)
    assert (flag.existing["正常用工人数"], flag.incoming["normal_staff"]) == (5000, "5200")
    assert Enterprise.objects.get(uscc=FAW).normal_staff == 5000
    reviewer = make_staff("district_reviewer", [NEW_DISTRICT])
    client.force_login(reviewer)
    page = client.get(reverse("ingest:flag", args=[flag.pk])).content.decode()
    assert "正常用工人数" in page and "5000" in page and "5200" in page
    do_resolve_flag(flag, reviewer, accept=True, note="企业核实:用工人数已更新")
    assert Enterprise.objects.get(uscc=FAW).normal_staff == 5200
    entry = AuditEntry.objects.get(action="enterprise.correct")
    assert (entry.detail["before"]["normal_staff"], entry.detail["after"]["normal_staff"]) == (
        5000,
        5200,
    )


def test_a_correction_of_an_enterprise_applies_and_keeps_the_old_values_in_its_audit_entry(
    db, tmp_path
):
    register(tmp_path)
    header = [*CHINESE, "更正原因"]
    moved = registry_rows()[2]
    moved[2], moved[4] = "220104", "是"
    rows = [[*moved, "区县划转并升规"]]
    report = do_ingest("enterprises", path=enterprises_file(tmp_path, rows, header), now=NOW)
    assert (report.inserted, report.flagged, report.rejected) == (1, 0, 0), report.errors
    pharma = Enterprise.objects.get(uscc=PHARMA)
    assert (pharma.county_code, pharma.above_scale) == ("220104", True)
    detail = AuditEntry.objects.get(action="enterprise.correct").detail
    assert detail["before"]["county_code"] == "220102"
    assert detail["after"]["county_code"] == "220104"
    assert detail["reason"] == "区县划转并升规"


def test_a_district_reviewer_registers_only_in_their_districts(db, tmp_path, make_staff):
    reviewer = make_staff("district_reviewer", ["220102"])
    report = do_ingest("enterprises", path=enterprises_file(tmp_path), now=NOW, user=reviewer)
    assert (report.inserted, report.rejected) == (1, 3)
    assert {e["reason"] for e in report.errors} == {"该企业不在您负责的区县"}
    assert list(Enterprise.objects.values_list("uscc", flat=True)) == [PHARMA]
    # Nor may they move one of theirs elsewhere, or one of elsewhere into theirs.
    register_rest = do_ingest("enterprises", path=enterprises_file(tmp_path), now=NOW)
    assert register_rest.inserted == 3
    header = [*CHINESE, "更正原因"]
    out, into = registry_rows()[2], registry_rows()[3]
    out[2], into[2] = "220104", "220102"
    rows = [[*out, "迁出"], [*into, "迁入"]]
    moved = do_ingest(
        "enterprises", path=enterprises_file(tmp_path, rows, header), now=NOW, user=reviewer
    )
    assert (moved.inserted, moved.rejected) == (0, 2)
    assert Enterprise.objects.get(uscc=PHARMA).county_code == "220102"


def test_residents_whose_employer_text_names_a_new_enterprise_become_its_staff(city, tmp_path):
    worker = city.nanguan[0]
    row = {
        "id_number": worker,
        "name": "张工",
        "phone": "13911112222",
        "community_code": community("220102").code,
        "employer": f" {FAW_NAME} ",
        "correction_reason": "登记工作单位",
    }
    assert do_ingest("residents", rows=[row], now=NOW).inserted == 1
    register(tmp_path)
    job = Employee.objects.get()
    assert (job.person.id_number, job.enterprise.uscc, job.role) == (worker, FAW, "resident")


# -- employees ----------------------------------------------------------------------------------


def test_a_staff_list_employs_registered_people_in_their_roles(city, tmp_path):
    register(tmp_path)
    a, b, c = city.nanguan[:3]
    rows = [
        [FAW, a, "闭环员工", "2022-04-15T08:00:00+08:00"],
        [FAW, b, "returning", ""],
        [SUPPLIER, c, "驻厂", ""],
        [FAW, "220102198001019999", "驻厂员工", ""],
        [code(50), a, "驻厂员工", ""],
    ]
    header = ["统一社会信用代码", "身份证号", "身份", "起始时间"]
    path = write_csv(tmp_path / "staff.csv", header, rows)
    report = do_ingest("employees", path=path, now=NOW)
    assert (report.inserted, report.rejected) == (3, 2)
    why = reasons(report)
    assert why[5][0] == "id_number"
    assert why[6] == ("uscc", "未知企业:该统一社会信用代码尚未登记在企业名录")
    jobs = {e.person.id_number: e for e in Employee.objects.select_related("person")}
    assert (jobs[a].role, jobs[a].since) == ("closed_loop", datetime(2022, 4, 15, 8, tzinfo=BJ))
    assert (jobs[b].role, jobs[b].since) == ("returning", NOW)  # no start: from the load
    again = do_ingest("employees", path=path, now=NOW + timedelta(days=1))
    assert (again.inserted, again.duplicates) == (0, 3)


def test_another_role_for_the_same_employee_is_flagged_unless_it_is_a_correction(city, tmp_path):
    register(tmp_path)
    a = city.nanguan[0]
    assert do_ingest("employees", rows=[{"uscc": FAW, "id_number": a, "role": "返岗员工"}]).inserted
    other = {"uscc": FAW, "id_number": a, "role": "闭环员工"}
    flagged = do_ingest("employees", rows=[other], now=NOW)
    assert flagged.flagged == 1 and Employee.objects.get().role == "returning"
    assert Flag.objects.get().existing["身份"] == "返岗员工"
    corrected = do_ingest(
        "employees", rows=[{**other, "correction_reason": "转入闭环管理"}], now=NOW
    )
    assert corrected.inserted == 1 and Employee.objects.get().role == "closed_loop"
    detail = AuditEntry.objects.get(action="employee.correct").detail
    assert (detail["before"]["role"], detail["after"]["role"]) == ("returning", "closed_loop")


# -- daily reports ------------------------------------------------------------------------------


def daily_workbook(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["统一社会信用代码", "日期", "在岗人数", "返岗人数", "产能恢复(%)", "闭环生产"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_excel_file_of_daily_reports_loads_through_the_upload_page(
    db, tmp_path, make_staff, client
):
    register(tmp_path)
    client.force_login(make_staff("district_reviewer", [NEW_DISTRICT]))
    page = client.get(reverse("ingest:upload", args=["daily_reports"])).content.decode()
    assert "capacity_percent" in page and "百分数0–200,最多一位小数" in page
    content = daily_workbook(
        [
            [FAW, date(2022, 4, 20), 4200, 1300, 78.5, "是"],
            [SUPPLIER, date(2022, 4, 20), 240, 240, 30, "否"],
            [PHARMA, date(2022, 4, 20), 100, 10, 90, "否"],  # 南关区: not theirs
        ]
    )
    upload = SimpleUploadedFile("日报.xlsx", content)
    response = client.post(reverse("ingest:upload", args=["daily_reports"]), {"file": upload})
    assert response.status_code == 302
    batch = Batch.objects.get(source="web")
    assert (batch.inserted, batch.rejected) == (2, 1)
    faw = DailyReport.objects.get(enterprise__uscc=FAW)
    assert (faw.day, faw.staff_on_duty, faw.returning_staff) == (date(2022, 4, 20), 4200, 1300)
    assert (faw.capacity_percent, faw.closed_loop) == (Decimal("78.5"), True)
    assert DailyReport.objects.get(enterprise__uscc=SUPPLIER).capacity_percent == Decimal("30")


def test_more_returning_than_on_duty_a_future_day_and_bad_figures_are_refused(db, tmp_path):
    register(tmp_path)
    rows = [
        report_row(returning="4300"),
        report_row(uscc=SUPPLIER, day="2022-04-21"),
        report_row(uscc=PHARMA, capacity="201"),
        report_row(uscc=CHAOYANG, capacity="78.55"),
        report_row(uscc=CHAOYANG, day="2022-04-19", staff="-3"),
        report_row(uscc=SUPPLIER, day="2022/4/19"),
    ]
    report = do_ingest("daily_reports", rows=rows, now=NOW)
    assert (report.inserted, report.rejected) == (1, 5)
    why = reasons(report)  # rows sent as JSON are numbered from 1
    assert why[1] == ("returning_staff", "返岗人数不能大于在岗人数(4200)")
    assert why[2][0] == "day" and "晚于今天(2022-04-20)" in why[2][1]
    assert why[3] == ("capacity_percent", "应在0到200之间")
    assert why[4][0] == "capacity_percent"
    assert why[5][0] == "staff_on_duty"
    assert DailyReport.objects.get().day == date(2022, 4, 19)


def test_a_repeated_report_is_a_duplicate_a_different_one_flagged_a_correction_supersedes(
    db, tmp_path
):
    register(tmp_path)
    first = do_ingest("daily_reports", rows=[report_row()], now=NOW)
    assert first.inserted == 1
    same = do_ingest("daily_reports", rows=[report_row()], now=NOW)
    assert (same.inserted, same.duplicates) == (0, 1)
    other = do_ingest("daily_reports", rows=[report_row(staff="4300")], now=NOW)
    assert other.flagged == 1
    flag = Flag.objects.get()
    assert (flag.key, flag.county_code, flag.existing["在岗人数"]) == (FAW, NEW_DISTRICT, 4200)
    corrected = do_ingest(
        "daily_reports",
        rows=[{**report_row(staff="4300"), "correction_reason": "漏报一个车间"}],
        now=NOW,
    )
    assert corrected.inserted == 1
    old, new = DailyReport.objects.order_by("id")
    assert (new.supersedes_id, new.staff_on_duty, new.correction_reason) == (
        old.pk,
        4300,
        "漏报一个车间",
    )
    replaced = DailyReport.objects.filter(supersedes__isnull=False).values("supersedes")
    standing = DailyReport.objects.exclude(pk__in=replaced)
    assert list(standing.values_list("staff_on_duty", flat=True)) == [4300]


def test_an_enterprise_account_reports_only_for_its_own_enterprise(db, tmp_path, make_staff):
    register(tmp_path)
    liaison = make_staff("employer")
    StaffProfile.objects.filter(user=liaison).update(enterprise=Enterprise.objects.get(uscc=FAW))
    liaison.refresh_from_db()
    rows = [report_row(), report_row(uscc=SUPPLIER, staff="200", returning="0")]
    report = do_ingest("daily_reports", rows=rows, now=NOW, user=liaison)
    assert (report.inserted, report.rejected) == (1, 1)
    assert reasons(report)[2] == ("uscc", "不是本企业的数据")
    assert DailyReport.objects.get().enterprise.uscc == FAW
    unlinked = make_staff("employer")
    nothing = do_ingest("daily_reports", rows=[report_row(day="2022-04-19")], user=unlinked)
    assert (nothing.inserted, nothing.rejected) == (0, 1)


def test_a_district_reviewer_reports_only_for_enterprises_of_their_districts(
    db, tmp_path, make_staff
):
    register(tmp_path)
    reviewer = make_staff("district_reviewer", ["220102"])
    rows = [report_row(uscc=PHARMA, staff="100", returning="0"), report_row()]
    report = do_ingest("daily_reports", rows=rows, now=NOW, user=reviewer)
    assert (report.inserted, report.rejected) == (1, 1)
    assert reasons(report)[2] == ("uscc", "该企业不在您负责的区县")


@time_machine.travel(NOW, tick=False)
def test_the_api_and_the_command_line_take_the_new_kinds(city, tmp_path, make_staff, client):
    client.force_login(make_staff("command_centre"))
    names = ["uscc", "name", "county_code", "industry", "above_scale", "normal_staff"]
    rows = [dict(zip(names, row[:6], strict=True)) for row in registry_rows()]

    def post(kind, rows):
        return client.post(
            f"/api/ingest/{kind}", data=json.dumps({"rows": rows}), content_type="application/json"
        )

    answer = post("enterprises", rows)
    assert answer.status_code == 200 and answer.json()["inserted"] == 4
    staff = [{"uscc": FAW, "id_number": city.nanguan[0], "role": "returning"}]
    assert post("employees", staff).json()["inserted"] == 1
    reports = [report_row()]
    assert post("daily_reports", reports).json()["inserted"] == 1
    path = write_csv(
        tmp_path / "reports.csv",
        list(report_row()),
        [list(report_row(uscc=SUPPLIER, day="2022-04-19", staff="10", returning="1").values())],
    )
    assert run("ingest", "daily_reports", path) == 0
    assert DailyReport.objects.count() == 2
    # None of it is anyone's health code.
    loads = Batch.objects.filter(kind__in=["enterprises", "employees", "daily_reports"])
    assert loads.count() == 4
    assert not PendingEvaluation.objects.filter(batch_id__in=loads.values("pk")).exists()
