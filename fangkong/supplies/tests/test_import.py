"""The registry loaded by file (CSV or XLSX): errors named by row and field with the good rows
kept; the same file again changes nothing; a row that says something else about a known firm is
flagged for a person and not applied, until the person decides."""

import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied

from fangkong.audit.models import AuditEntry
from fangkong.supplies.actions import SupplyError, do_import, do_resolve_flag
from fangkong.supplies.models import ImportFlag, StatusChange, SupplyFirm
from fangkong.supplies.stats import figures
from fangkong.supplies.tests.support import NANGUAN, bj, enterprise

pytestmark = pytest.mark.django_db
HEADER = "登记编号,名称,级别,类型,区县代码,地址,统一社会信用代码,状态,生效时间,原因"


def csv_of(*rows: str) -> bytes:
    return "\n".join([HEADER, *rows]).encode("utf-8")


GOOD = [
    "BG001,南关农贸市场,区级,农贸市场,220102,南关区,,营业,2022-04-08 08:00,",
    "BG002,欧亚商都,市级,大型商超,220104,,,营业,2022-04-08,",
    "XC001,平价小超市,小超市,小超市,220102,,,营业,2022-04-09 09:00,恢复营业",
]


def test_errors_name_the_row_and_field_and_good_rows_are_kept():
    content = csv_of(
        *GOOD,
        "BG003,坏级别,省级,超市,220102,,,营业,2022-04-08,",  # row 5
        "BG004,坏区县,区级,超市,999999,,,营业,2022-04-08,",  # row 6
        "BG005,坏时间,区级,超市,220102,,,营业,四月八日,",  # row 7
        ",无编号,区级,超市,220102,,,营业,2022-04-08,",  # row 8
        "BG006,未来,区级,超市,220102,,,营业,2022-05-01,",  # row 9
        "BG007,坏代码,区级,超市,220102,,91220101MA0000000X,营业,2022-04-08,",  # row 10
    )
    upload = do_import(None, content, "名录.csv", now=bj(10))
    assert (upload.rows, upload.firms_created, upload.changes_created) == (9, 3, 3)
    errors = {e["row"]: (e["field"], e["reason"]) for e in upload.errors}
    assert errors[5] == ("级别", errors[5][1]) and "省级" in errors[5][1]
    assert errors[6][0] == "区县代码"
    assert errors[7][0] == "生效时间" and "不是有效的时间" in errors[7][1]
    assert errors[8] == ("登记编号", "登记编号:必填")
    assert errors[9] == ("生效时间", "生效时间:不能晚于导入时间")
    assert errors[10][0] == "统一社会信用代码" and "未在企业名录中登记" in errors[10][1]
    assert set(SupplyFirm.objects.values_list("code", flat=True)) == {"BG001", "BG002", "XC001"}
    shown = figures(bj(10))
    assert (shown["supply_firms"], shown["small_supermarkets"]) == (2, 1)
    assert AuditEntry.objects.filter(action="supplies.registry.import").count() == 1


def test_the_same_file_again_changes_nothing():
    content = csv_of(*GOOD)
    first = do_import(None, content, "名录.csv", now=bj(10))
    counts = (SupplyFirm.objects.count(), StatusChange.objects.count(), AuditEntry.objects.count())
    again = do_import(None, content, "名录-副本.csv", now=bj(11))
    assert again.pk == first.pk and again.repeated
    assert counts == (
        SupplyFirm.objects.count(),
        StatusChange.objects.count(),
        AuditEntry.objects.count(),
    )
    # The same rows in another file: nothing new either, every row already known.
    other = do_import(None, content + b"\n", "名录2.csv", now=bj(11))
    assert (other.firms_created, other.changes_created, other.unchanged) == (0, 0, 3)


def test_a_later_file_changes_a_status_and_a_conflicting_row_is_flagged():
    do_import(None, csv_of(*GOOD), "名录.csv", now=bj(10))
    later = csv_of(
        "BG001,南关农贸市场,区级,农贸市场,220102,,,暂停营业,2022-04-14 09:00,核酸异常",
        "BG002,欧亚商都(改名),市级,大型商超,220104,,,关闭,2022-04-14,",
    )
    upload = do_import(None, later, "变更.csv", now=bj(15))
    assert upload.changes_created == 1
    flag = ImportFlag.objects.get()
    assert (flag.row, flag.field, flag.stored, flag.offered) == (
        3,
        "名称",
        "欧亚商都",
        "欧亚商都(改名)",
    )
    assert figures(bj(15))["supply_firms"] == 1  # BG001 suspended; BG002's closing not applied
    # Flagged again in another file: not a second open flag.
    do_import(None, later + b"\n", "变更2.csv", now=bj(16))
    assert ImportFlag.objects.count() == 1
    do_resolve_flag(None, flag, accept=True, note="工商变更已核实", now=bj(16))
    assert SupplyFirm.objects.get(code="BG002").name == "欧亚商都(改名)"
    with pytest.raises(SupplyError, match="已处理过"):
        do_resolve_flag(None, flag, accept=False, note="再次", now=bj(16))


def test_an_xlsx_file_links_a_registered_enterprise():
    registered = enterprise()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(
        [
            "BG010",
            "一汽解放职工超市",
            "区级",
            "超市",
            "220102",
            "",
            registered.uscc,
            "营业",
            "2022-04-08 08:00",
            "",
        ]
    )
    out = io.BytesIO()
    book.save(out)
    upload = do_import(None, out.getvalue(), "名录.xlsx", now=bj(10))
    assert upload.firms_created == 1 and upload.errors == []
    assert SupplyFirm.objects.get(code="BG010").enterprise == registered


def test_unreadable_files_are_refused_whole():
    with pytest.raises(SupplyError, match="文件:只接受 CSV 或 XLSX"):
        do_import(None, b"x", "名录.txt", now=bj(10))
    with pytest.raises(SupplyError, match="文件:缺少列 状态、生效时间"):
        do_import(None, "登记编号,名称,级别,类型,区县代码\n".encode(), "名录.csv", now=bj(10))
    with pytest.raises(SupplyError, match="文件:"):
        do_import(None, b"not a zip", "名录.xlsx", now=bj(10))


def test_a_district_officer_loads_only_rows_of_their_district(make_staff):
    officer = make_staff("supply_officer", [NANGUAN])
    upload = do_import(officer, csv_of(*GOOD), "名录.csv", now=bj(10))
    assert upload.firms_created == 2
    assert [e["row"] for e in upload.errors] == [3]
    assert "不在您负责的区县内" in upload.errors[0]["reason"]
    with pytest.raises(PermissionDenied):
        do_import(
            make_staff("district_reviewer", [NANGUAN]),
            csv_of(GOOD[0]) + b"\n\n",
            "x.csv",
            now=bj(10),
        )
