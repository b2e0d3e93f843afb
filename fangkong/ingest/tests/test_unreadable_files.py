"""Files that used to raise (a traceback, a 500) or to be read wrong are reported: the file as a
whole with the reason, or the row, the field and the reason; nothing of a refused file loads."""

import json
from datetime import date

import pytest
from django.urls import reverse

from fangkong.engine.id_numbers import make_id_number
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.models import Batch, RowError
from fangkong.ingest.tests.support import community, resident_rows, write_csv
from fangkong.people.models import Person
from fangkong.testing.models import Sampling

pytestmark = pytest.mark.django_db
RESIDENTS = ["id_number", "name", "phone", "community_code"]
SAMPLINGS = ["id_number", "tube", "pool_size", "site_code", "sampled_at"]


def residents(count=2, start=700):
    return [[r[h] for h in RESIDENTS] for r in resident_rows("220102", "220102", count, start)]


def refused(report, words: str) -> None:
    """The file failed as a whole, saying `words`, and nothing of it was loaded."""
    assert words in report.failure, report.failure
    assert (report.rows, report.inserted) == (0, 0)
    batch = Batch.objects.get(pk=report.batch_id)
    assert batch.failure == report.failure and batch.finished_at is not None


def test_a_header_naming_a_column_twice_fails_the_file(db, tmp_path):
    path = write_csv(tmp_path / "twice.csv", ["id_number", *RESIDENTS], [])
    refused(do_ingest("residents", path=path), "列名“id_number”出现了两次(第1列和第2列)")


def test_two_spellings_of_one_column_fail_the_file(db, tmp_path):
    rows = [[r[0], *r] for r in residents()]
    path = write_csv(tmp_path / "alias.csv", ["身份证号", *RESIDENTS], rows)
    refused(do_ingest("residents", path=path), "列“身份证号”和“id_number”都是id_number列")
    assert not Person.objects.filter(name__startswith="居民7").exists()


def test_a_utf8_file_read_as_gb18030_is_refused_not_garbled(db, tmp_path):
    path = write_csv(tmp_path / "u.csv", RESIDENTS, [[*r[:1], "张", *r[2:]] for r in residents()])
    refused(do_ingest("residents", path=path, encoding="gb18030"), "文件是UTF-8编码,不是GB18030")


def test_a_utf8_file_with_one_stray_byte_names_its_line(db, tmp_path):
    lines = [",".join(RESIDENTS)] + [",".join(r) for r in residents(5)]
    data = "\n".join(lines).encode().replace("居民703".encode(), "居民".encode() + b"\xe9")
    (tmp_path / "stray.csv").write_bytes(data + b"\n")
    refused(do_ingest("residents", path=tmp_path / "stray.csv"), "第5行有不是UTF-8的字节")


def test_a_big5_file_is_refused_rather_than_read_as_gb18030(db, tmp_path):
    rows = [[r[0], name, *r[2:]] for r, name in zip(residents(), ["陳大文", "黃曉明"], strict=True)]
    path = write_csv(tmp_path / "big5.csv", RESIDENTS, rows, encoding="big5")
    refused(do_ingest("residents", path=path), "Big5")
    refused(do_ingest("residents", path=path, encoding="gb18030"), "Big5")


def test_a_gb18030_file_with_rare_characters_in_names_still_loads(db, tmp_path):
    rows = [[r[0], name, *r[2:]] for r, name in zip(residents(), ["王喆", "李堃"], strict=True)]
    path = write_csv(tmp_path / "gb.csv", RESIDENTS, rows, encoding="gb18030")
    report = do_ingest("residents", path=path)
    assert (report.failure, report.inserted) == ("", 2)
    assert Person.objects.filter(name="李堃").exists()


def test_a_nul_in_a_cell_rejects_that_row_and_the_rest_load(db, tmp_path):
    rows = residents(3)
    rows[1][1] = "张\x00三"
    report = do_ingest("residents", path=write_csv(tmp_path / "nul.csv", RESIDENTS, rows))
    assert (report.failure, report.inserted, report.rejected) == ("", 2, 1)
    error = RowError.objects.get(batch_id=report.batch_id)
    assert (error.row, error.field, error.value) == (3, "name", "张\ufffd三")
    assert "控制字符" in error.reason
    assert all("\x00" not in name for name in Person.objects.values_list("name", flat=True))


def test_a_nul_in_a_column_name_fails_the_file(db, tmp_path):
    path = write_csv(tmp_path / "h.csv", [*RESIDENTS, "备\x00注"], [])
    refused(do_ingest("residents", path=path), "第1行第5列的列名含有控制字符")


def test_an_unclosed_quote_names_the_lines_it_swallowed(db, tmp_path):
    rows = residents(4)
    rows[1][1] = '"张三'
    report = do_ingest("residents", path=write_csv(tmp_path / "q.csv", RESIDENTS, rows))
    assert (report.inserted, report.rejected) == (1, 1)
    error = report.errors[0]
    assert (error["row"], error["field"]) == (3, "*")
    assert "第3行有未闭合的引号" in error["reason"] and "第3至5行" in error["reason"]


def test_a_quoted_line_break_is_reported_by_the_fast_reader_too(db, tmp_path):
    rows = residents(3)
    rows[0][1] = '"张\n三"'
    report = do_ingest("residents", path=write_csv(tmp_path / "nl.csv", RESIDENTS, rows))
    assert (report.inserted, report.rejected) == (2, 1)
    assert report.errors[0]["row"] == 2 and "第2至3行" in report.errors[0]["reason"]
    # The rows after it keep their own line numbers.
    assert {p.name for p in Person.objects.filter(name__startswith="居民70")} == {
        "居民701",
        "居民702",
    }


def test_birth_dates_in_2030_or_1850_are_refused(db, tmp_path):
    born = {make_id_number("220102", date(2030, 1, 1), 1): "晚于今天"}
    born[make_id_number("220102", date(1850, 1, 1), 1)] = "早于1880年"
    home = community("220102").code
    rows = [[number, "甲", "13900000000", home] for number in born]
    report = do_ingest("residents", path=write_csv(tmp_path / "b.csv", RESIDENTS, rows))
    assert report.rejected == 2
    for error, reason in zip(report.errors, born.values(), strict=True):
        assert error["field"] == "id_number" and reason in error["reason"]
    api = do_ingest("residents", rows=[dict(zip(RESIDENTS, r, strict=True)) for r in rows])
    assert api.rejected == 2


@pytest.mark.parametrize(
    ("offset", "taken"),
    [
        ("+08:00", True),
        ("+0800", True),
        ("Z", True),
        ("+05:45", True),
        ("-09:30", True),
        ("+14:00", True),
        ("+08:60", False),
        ("+23:59", False),
        ("-23:59", False),
        ("+14:30", False),
        ("+08:15", False),
    ],
)
def test_only_utc_offsets_that_exist_are_taken(city, offset, taken):
    row = dict(
        zip(
            SAMPLINGS,
            [city.nanguan[0], "T-OFF", "1", "S-NG-1", f"2022-04-20T08:00{offset}"],
            strict=True,
        )
    )
    report = do_ingest("samplings", rows=[row])
    assert (report.inserted == 1) is taken, report.errors
    if not taken:
        assert "UTC偏移无效" in report.errors[0]["reason"]
        assert not Sampling.objects.exists()


def test_the_api_answers_422_with_the_reason_for_rows_naming_a_field_twice(
    city, client, make_staff
):
    client.force_login(make_staff("sampler", ["220102"]))
    values = [city.nanguan[0], "T1", "1", "S-NG-1", "2022-04-20T08:00+08:00"]
    row = dict(zip(SAMPLINGS, values, strict=True))
    answer = client.post(
        "/api/ingest/samplings",
        data=json.dumps({"rows": [{**row, "身份证号": city.nanguan[1]}]}),
        content_type="application/json",
    )
    assert answer.status_code == 422
    assert "都是id_number列" in answer.json()["detail"]
    assert not Sampling.objects.exists()


def test_the_api_reports_a_nul_as_a_row_error_not_a_500(db, client, make_staff):
    client.force_login(make_staff("command_centre"))
    rows = [dict(zip(RESIDENTS, r, strict=True)) for r in residents(2)]
    rows[0]["name"] = "张\u0000三"
    answer = client.post(
        "/api/ingest/residents", data=json.dumps({"rows": rows}), content_type="application/json"
    )
    assert answer.status_code == 200
    report = answer.json()
    assert (report["inserted"], report["rejected"]) == (1, 1)
    assert report["errors"][0]["field"] == "name"


def test_the_upload_page_answers_422_with_the_reason_and_the_batch(
    db, client, make_staff, tmp_path
):
    client.force_login(make_staff("command_centre"))
    path = write_csv(tmp_path / "twice.csv", ["id_number", *RESIDENTS], [])
    with open(path, "rb") as upload:
        response = client.post(reverse("ingest:upload", args=["residents"]), {"file": upload})
    assert response.status_code == 422
    html = response.content.decode()
    batch = Batch.objects.get(source="web")
    assert "文件未能导入" in html and "出现了两次" in html
    assert reverse("ingest:batch", args=[batch.pk]) in html
