"""`fangkong ingest` on files that used to raise, and what it prints of rejected rows."""

import json

import pytest

from fangkong.cli import build_parser
from fangkong.engine.id_numbers import mask
from fangkong.ingest.tests.support import community, resident_rows, write_csv

pytestmark = pytest.mark.django_db
HEADER = ["id_number", "name", "phone", "community_code"]


def run(*argv) -> int:
    args = build_parser().parse_args([str(a) for a in argv])
    return args.func(args)


@pytest.fixture
def bad_rows(db, tmp_path):
    """A row with a wrong check character and a row with a bad phone number."""
    good = resident_rows("220102", "220102", 2, 800)
    wrong = good[0]["id_number"][:-1] + ("1" if good[0]["id_number"][-1] != "1" else "2")
    home = community("220102").code
    rows = [[wrong, "甲", "13900000000", home], [good[1]["id_number"], "乙", "1390000123", home]]
    return write_csv(tmp_path / "bad.csv", HEADER, rows), wrong


def test_rejected_rows_show_masked_id_and_phone_numbers(bad_rows, capsys):
    path, wrong = bad_rows
    assert run("ingest", "residents", path) == 0
    err = capsys.readouterr().err
    assert "第2行 id_number" in err and mask(wrong) in err and wrong not in err
    assert "139***0123" in err and "1390000123" not in err
    run("ingest", "residents", path, "--json")
    report = json.loads(capsys.readouterr().out)
    assert [e["value"] for e in report["errors"]] == [mask(wrong), "139***0123"]


def test_show_pii_prints_them_whole(bad_rows, capsys):
    path, wrong = bad_rows
    run("ingest", "residents", path, "--show-pii")
    err = capsys.readouterr().err
    assert wrong in err and "1390000123" in err


def test_a_file_that_cannot_be_read_still_gets_its_json_report(db, tmp_path, capsys):
    path = write_csv(tmp_path / "twice.csv", ["id_number", *HEADER], [])
    assert run("ingest", "residents", path, "--json") == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert "出现了两次" in report["failure"] and report["rows"] == 0
    assert "Traceback" not in captured.err and "出现了两次" in captured.err


def test_a_utf8_file_named_gb18030_gets_a_json_report_not_a_traceback(db, tmp_path, capsys):
    rows = [[r[h] for h in HEADER] for r in resident_rows("220102", "220102", 1, 810)]
    path = write_csv(tmp_path / "u.csv", HEADER, [[rows[0][0], "张", *rows[0][2:]]])
    assert run("ingest", "residents", path, "--encoding", "gb18030", "--json") == 1
    assert "不是GB18030" in json.loads(capsys.readouterr().out)["failure"]
