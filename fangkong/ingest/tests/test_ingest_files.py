"""Files go in and nothing is lost or doubled: bad rows are named, good rows kept, conflicts
flagged for a person, the same file twice changes nothing."""

import pytest
from openpyxl import Workbook

from fangkong.ingest.actions import do_ingest
from fangkong.ingest.models import Batch, Flag, RowError
from fangkong.ingest.tests.support import write_csv
from fangkong.testing.models import LabResult, Sampling, Tube

pytestmark = pytest.mark.django_db
SAMPLING_HEADER = ["id_number", "tube", "pool_size", "site_code", "sampled_at"]
AT = "2022-04-20T08:00:00+08:00"


def sampling_rows(ids, tube="T0001", pool="10", site="S-NG-1", at=AT):
    return [[i, tube, pool, site, at] for i in ids]


def fact_counts():
    return (
        Sampling.objects.count(),
        Tube.objects.count(),
        LabResult.objects.count(),
        Flag.objects.count(),
    )


def test_a_file_with_bad_rows_keeps_the_good_ones_and_names_each_bad_row(city, tmp_path):
    ids = city.nanguan[:4]
    bad_check = ids[3][:-1] + ("0" if ids[3][-1] != "0" else "1")
    rows = sampling_rows(ids[:3]) + [
        [bad_check, "T0001", "10", "S-NG-1", AT],
        ["220102199001011234", "T0001", "10", "S-NG-1", AT],
        [ids[3], "T0001", "10", "S-NG-1", "2022-04-20T08:00:00"],
        [ids[3], "T0001", "10", "NO-SUCH-SITE", AT],
        [ids[3], "T0001", "7", "S-NG-1", AT],
    ]
    report = do_ingest("samplings", path=write_csv(tmp_path / "s.csv", SAMPLING_HEADER, rows))
    assert (report.rows, report.inserted, report.rejected) == (8, 3, 5)
    reasons = {(e["row"], e["field"]): e["reason"] for e in report.errors}
    assert "校验位错误" in reasons[(5, "id_number")]
    assert "未知人员" in reasons[(6, "id_number")] or "校验位" in reasons[(6, "id_number")]
    assert "UTC偏移" in reasons[(7, "sampled_at")]
    assert "未知采样点" in reasons[(8, "site_code")]
    assert "1、10或20" in reasons[(9, "pool_size")]
    assert RowError.objects.filter(batch_id=report.batch_id).count() == 5


def test_an_unknown_person_with_a_valid_id_number_is_rejected_as_unknown(city):
    from datetime import date

    from fangkong.engine.id_numbers import make_id_number

    stranger = make_id_number("220102", date(1990, 1, 1), 999)
    report = do_ingest(
        "samplings",
        rows=[dict(zip(SAMPLING_HEADER, r, strict=True)) for r in sampling_rows([stranger])],
    )
    assert report.rejected == 1
    assert report.errors[0]["reason"].startswith("未知人员")


def test_the_same_file_twice_changes_nothing(city, tmp_path):
    path = write_csv(tmp_path / "s.csv", SAMPLING_HEADER, sampling_rows(city.nanguan[:10]))
    first = do_ingest("samplings", path=path)
    before = fact_counts()
    second = do_ingest("samplings", path=path)
    assert (first.inserted, second.inserted, second.duplicates) == (10, 0, 10)
    assert fact_counts() == before
    assert (
        Batch.objects.get(pk=second.batch_id).sha256 == Batch.objects.get(pk=first.batch_id).sha256
    )


def test_the_same_row_in_two_files_is_one_fact(city, tmp_path):
    a = write_csv(tmp_path / "a.csv", SAMPLING_HEADER, sampling_rows(city.nanguan[:3]))
    b = write_csv(tmp_path / "b.csv", SAMPLING_HEADER, sampling_rows(city.nanguan[2:5]))
    do_ingest("samplings", path=a)
    report = do_ingest("samplings", path=b)
    assert (report.inserted, report.duplicates) == (2, 1)
    assert Sampling.objects.count() == 5


def test_a_gb18030_file_with_chinese_headers_loads(city, tmp_path):
    header = ["身份证号", "试管条码", "混采人数", "采样点编码", "采样时间"]
    path = write_csv(
        tmp_path / "gb.csv", header, sampling_rows(city.nanguan[:2]), encoding="gb18030"
    )
    report = do_ingest("samplings", path=path)
    assert report.inserted == 2, report.errors
    assert Batch.objects.get(pk=report.batch_id).encoding == "gb18030"


def test_a_utf8_file_with_a_byte_order_mark_loads(city, tmp_path):
    path = tmp_path / "bom.csv"
    write_csv(path, SAMPLING_HEADER, sampling_rows(city.nanguan[:2]), encoding="utf-8-sig")
    assert do_ingest("samplings", path=path).inserted == 2


def test_an_excel_file_loads_and_its_zoneless_dates_need_the_uploaders_word(city, tmp_path):
    from datetime import datetime

    book = Workbook()
    sheet = book.active
    sheet.append(["tube", "result", "lab", "reported_at"])
    do_ingest(
        "samplings",
        rows=[dict(zip(SAMPLING_HEADER, r, strict=True)) for r in sampling_rows(city.nanguan[:2])],
    )
    sheet.append(["T0001", "阴性", "长春金域医学检验所", datetime(2022, 4, 21, 9, 30)])
    path = tmp_path / "results.xlsx"
    book.save(path)
    refused = do_ingest("results", path=path)
    assert refused.rejected == 1 and "UTC偏移" in refused.errors[0]["reason"]
    accepted = do_ingest("results", path=path, assume_offset="+08:00")
    assert accepted.inserted == 1
    result = LabResult.objects.get()
    assert result.result == "negative"
    assert result.reported_at.isoformat() == "2022-04-21T01:30:00+00:00"


def test_a_tube_reported_twice_with_different_results_is_flagged_not_overwritten(city):
    do_ingest(
        "samplings",
        rows=[dict(zip(SAMPLING_HEADER, r, strict=True)) for r in sampling_rows(city.nanguan[:3])],
    )
    first = {"tube": "T0001", "result": "negative", "lab": "L1", "reported_at": AT}
    do_ingest("results", rows=[first])
    second = {**first, "result": "positive", "reported_at": "2022-04-20T10:00:00+08:00"}
    report = do_ingest("results", rows=[second])
    again = do_ingest("results", rows=[second])
    assert (report.flagged, report.inserted, again.flagged) == (1, 0, 1)
    assert LabResult.objects.get().result == "negative"
    flag = Flag.objects.get()
    assert flag.key == "T0001" and flag.incoming["result"] == "positive"
    assert flag.county_code == "220102"


def test_a_correction_supersedes_the_old_result_and_keeps_it(city):
    do_ingest(
        "samplings",
        rows=[dict(zip(SAMPLING_HEADER, r, strict=True)) for r in sampling_rows(city.nanguan[:3])],
    )
    do_ingest(
        "results", rows=[{"tube": "T0001", "result": "positive", "lab": "L1", "reported_at": AT}]
    )
    correction = {
        "tube": "T0001",
        "result": "negative",
        "lab": "L1",
        "reported_at": "2022-04-21T08:00:00+08:00",
        "correction_reason": "复核:原结果录入错误",
    }
    report = do_ingest("results", rows=[correction])
    assert report.inserted == 1
    old, new = LabResult.objects.order_by("id")
    assert new.supersedes_id == old.id and new.correction_reason.startswith("复核")
    assert old.result == "positive"  # kept, never edited
    assert do_ingest("results", rows=[correction]).duplicates == 1


def test_a_row_with_the_wrong_number_of_fields_is_named_and_the_rest_load(city, tmp_path):
    path = tmp_path / "ragged.csv"
    good = sampling_rows(city.nanguan[:3])
    lines = [
        ",".join(SAMPLING_HEADER),
        ",".join(good[0]),
        "only,three,fields",
        ",".join(good[1]),
        "",
        ",".join(good[2]),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = do_ingest("samplings", path=path)
    assert (report.inserted, report.rejected) == (3, 1)
    assert report.errors[0]["row"] == 3 and "列" in report.errors[0]["reason"]


def test_a_file_without_a_required_column_loads_nothing_and_says_which(city, tmp_path):
    path = write_csv(tmp_path / "s.csv", ["id_number", "tube"], [[city.nanguan[0], "T1"]])
    report = do_ingest("samplings", path=path)
    assert "pool_size" in report.failure and "sampled_at" in report.failure
    assert Sampling.objects.count() == 0


def test_a_tube_holds_no_more_people_than_its_pool_size(city):
    rows = sampling_rows(city.nanguan[:12], pool="10")
    report = do_ingest("samplings", rows=[dict(zip(SAMPLING_HEADER, r, strict=True)) for r in rows])
    assert (report.inserted, report.rejected) == (10, 2)
    assert all("试管已满" in e["reason"] for e in report.errors)


def test_the_same_person_in_the_same_tube_at_a_different_time_is_flagged(city):
    first = sampling_rows(city.nanguan[:1])
    later = sampling_rows(city.nanguan[:1], at="2022-04-20T09:00:00+08:00")
    do_ingest("samplings", rows=[dict(zip(SAMPLING_HEADER, r, strict=True)) for r in first])
    report = do_ingest(
        "samplings", rows=[dict(zip(SAMPLING_HEADER, r, strict=True)) for r in later]
    )
    assert report.flagged == 1 and Sampling.objects.count() == 1


def test_a_resident_whose_details_change_is_flagged_unless_corrected(city):
    from fangkong.people.models import Person, PersonRevision

    person = Person.objects.get(id_number=city.nanguan[0])
    row = {
        "id_number": person.id_number,
        "name": "改名",
        "phone": person.phone,
        "community_code": person.community_id,
    }
    assert do_ingest("residents", rows=[row]).flagged == 1
    report = do_ingest("residents", rows=[{**row, "correction_reason": "户籍信息更正"}])
    assert report.inserted == 1
    person.refresh_from_db()
    assert person.name == "改名"
    assert PersonRevision.objects.get(person=person).name == "居民1"


def test_rows_with_every_kind_of_timestamp_error_are_explained(city):
    rows = [
        {
            "tube": "T1",
            "result": "negative",
            "lab": "L",
            "reported_at": "2022-02-31T08:00:00+08:00",
        },
        {"tube": "T1", "result": "negative", "lab": "L", "reported_at": "yesterday"},
        {"tube": "T1", "result": "negative", "lab": "L", "reported_at": "2099-01-01T00:00:00Z"},
        {"tube": "T1", "result": "maybe", "lab": "L", "reported_at": AT},
    ]
    reasons = [e["reason"] for e in do_ingest("results", rows=rows).errors]
    assert "不是有效的日期时间" in reasons[0]
    assert "时间格式无效" in reasons[1]
    assert "时间不合理" in reasons[2]
    assert "negative" in reasons[3]


def test_every_column_of_every_kind_is_documented():
    from pathlib import Path

    from fangkong.ingest.schemas import SCHEMAS

    docs = Path(__file__).resolve().parents[3] / "docs"
    # The enterprise kinds have their own page (fangkong.enterprises).
    doc = (docs / "ingest.md").read_text() + (docs / "enterprises-import.md").read_text()
    for kind, columns in SCHEMAS.items():
        section = doc.split(f"### {kind}")[1].split("###")[0]
        for column in columns:
            assert f"| {column.name}" in section, (kind, column.name)
            for alias in column.aliases:
                assert alias in section, (kind, alias)


def test_a_designation_may_end_in_the_future_but_may_not_start_there(city):
    from datetime import datetime, timedelta, timezone

    now = datetime(2022, 4, 21, 12, tzinfo=timezone(timedelta(hours=8)))
    row = {
        "id_number": city.nanguan[0],
        "kind": "密接",
        "start_at": "2022-04-21T10:00:00+08:00",
        "end_at": "2022-05-05T10:00:00+08:00",
        "designated_by": "南关区疾病预防控制中心",
    }
    assert do_ingest("designations", rows=[row], now=now).inserted == 1
    later = {**row, "start_at": "2022-05-01T10:00:00+08:00"}
    report = do_ingest("designations", rows=[later], now=now)
    assert report.rejected == 1 and report.errors[0]["field"] == "start_at"
