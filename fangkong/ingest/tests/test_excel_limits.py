"""Excel files are read as a stream with ceilings: a cell of megabytes, a sheet that unpacks to
gigabytes or a tag without end is refused quickly, in little memory, and never half-loaded."""

import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from fangkong.ingest import xlsx
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.models import Batch
from fangkong.ingest.reading import RESTART, open_file
from fangkong.ingest.tests.support import community, resident_rows
from fangkong.ingest.tests.xlsx_files import Huge, write_xlsx
from fangkong.people.models import Person

pytestmark = pytest.mark.django_db
RESULTS = ["tube", "result", "lab", "reported_at"]
AT = "2022-04-20T20:00:00+08:00"
RESIDENTS = ["id_number", "name", "phone", "community_code"]


def texts(path) -> list[list[str]]:
    opened = open_file(path)
    rows = []
    for chunk in opened.chunks:
        assert chunk is not RESTART
        rows += [list(r.values()) for r in chunk.to_pylist()]
    return [opened.header, *rows]


def test_a_cell_of_many_megabytes_is_refused_quickly_without_being_held(tmp_path):
    # 64 million characters pack into well under a megabyte; a reader that keeps the cell
    # needs hundreds of megabytes for it.
    path = write_xlsx(
        tmp_path / "hostile.xlsx",
        [RESULTS, ["T-1", "阴性", Huge(64 << 20), AT], ["T-2", "阴性", "金域", AT]],
    )
    assert (tmp_path / "hostile.xlsx").stat().st_size < 1 << 20
    tracemalloc.start()
    started = time.monotonic()
    try:
        report = do_ingest("results", path=path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 30
    assert peak < 32 << 20, f"peak {peak >> 20} MB"
    assert (report.failure, report.rows, report.rejected) == ("", 2, 2)
    first = report.errors[0]
    assert first["row"] == 2 and first["field"] == "*"
    assert "C列(“lab”)的单元格有67108864个字符,超过4096个" in first["reason"]


def test_a_cell_over_the_limit_rejects_its_row_and_the_others_load(city, tmp_path):
    rows = resident_rows("220102", "220102", 2, 500)
    cells = [[r[h] for h in RESIDENTS] for r in rows]
    cells[1][1] = "名" * (xlsx.MAX_CELL_CHARS + 1)
    report = do_ingest("residents", path=write_xlsx(tmp_path / "r.xlsx", [RESIDENTS, *cells]))
    assert (report.inserted, report.rejected) == (1, 1)
    assert report.errors[0]["row"] == 3 and "B列(“name”)" in report.errors[0]["reason"]
    assert Person.objects.filter(id_number=rows[0]["id_number"]).exists()


def test_shared_rich_and_date_cells_read_as_excel_shows_them(tmp_path):
    rows = [
        ["name", "when", "count", "big"],
        [("rich", ["张", "三"]), ("date", "44671.5"), ("number", "3.5"), ("number", "2.2E+17")],
        ["李四", ("date", "0.25"), ("number", "12"), ("number", "1E+20")],
    ]
    assert texts(write_xlsx(tmp_path / "a.xlsx", rows)) == [
        ["name", "when", "count", "big"],
        ["张三", "2022-04-20T12:00:00", "3.5", "2.2e+17", 2],
        ["李四", "06:00:00", "12", "1e+20", 3],
    ]
    in_1904 = texts(write_xlsx(tmp_path / "b.xlsx", rows[:2], date1904=True))[1][1]
    assert in_1904 == (datetime(1904, 1, 1) + timedelta(days=44671.5)).isoformat()


def test_a_sheet_that_unpacks_past_its_ceiling_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_SHEET_BYTES", 1 << 20)
    path = write_xlsx(tmp_path / "bomb.xlsx", [RESULTS, ["T-1", "阴性", Huge(2 << 20), AT]])
    report = do_ingest("results", path=path)
    assert "解压后超过1 MB" in report.failure and report.rows == 0
    assert Batch.objects.get(pk=report.batch_id).failure == report.failure


def test_a_tag_without_end_is_refused_before_it_is_held(tmp_path):
    endless = f'<sheetPr codeName="{"A" * (3 << 20)}"/>'
    path = write_xlsx(tmp_path / "tag.xlsx", [RESULTS], sheet_head=endless)
    assert "异常长的标记" in do_ingest("results", path=path).failure


def test_a_workbook_declaring_entities_is_refused(tmp_path):
    prolog = '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">]>'
    path = write_xlsx(tmp_path / "dtd.xlsx", [RESULTS], prolog=prolog)
    assert "DTD" in do_ingest("results", path=path).failure


def test_more_rows_than_the_ceiling_are_refused_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 2)
    path = write_xlsx(tmp_path / "rows.xlsx", [RESULTS, ["T-1", "阴性", "金域", AT]] * 2)
    report = do_ingest("results", path=path)
    assert "超过2行" in report.failure and report.rows == 0


def test_a_header_of_only_blank_cells_or_not_in_row_one_is_refused(tmp_path):
    path = write_xlsx(tmp_path / "blank.xlsx", [["", " "], RESULTS])
    assert "第1行应为列名" in do_ingest("results", path=path).failure


def test_a_broken_zip_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "broken.xlsx"
    good = write_xlsx(tmp_path / "good.xlsx", [RESULTS, ["T-1", "阴性", "金域", AT]])
    data = Path(good).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    report = do_ingest("results", path=path)
    assert report.failure.startswith(("无法读取Excel文件", "Excel文件已损坏"))


def test_a_site_list_in_excel_still_loads(db, tmp_path):
    home = community("220102").code
    header = ["site_code", "name", "community_code", "kind"]
    path = write_xlsx(tmp_path / "s.xlsx", [header, ["S-9", "第9采样点", home, "固定"]])
    assert do_ingest("sites", path=path).inserted == 1
