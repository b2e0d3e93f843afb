"""The command line: summaries on stdout, errors on stderr, a non-zero exit on failure."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from fangkong.cli import build_parser
from fangkong.ingest.tests.support import resident_rows, write_csv

pytestmark = pytest.mark.django_db
HEADER = ["id_number", "name", "phone", "community_code"]


def run(*argv) -> int:
    args = build_parser().parse_args([str(a) for a in argv])
    return args.func(args)


def residents_file(tmp_path, count=3, start=1):
    rows = resident_rows("220102", "220102", count, start)
    return write_csv(tmp_path / "residents.csv", HEADER, [[r[h] for h in HEADER] for r in rows])


def test_ingest_prints_a_summary_and_exits_zero(db, tmp_path, capsys):
    assert run("ingest", "residents", residents_file(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "共3行" in out and "新增3" in out


def test_ingest_json_is_machine_readable(db, tmp_path, capsys):
    run("ingest", "residents", residents_file(tmp_path), "--json")
    report = json.loads(capsys.readouterr().out)
    assert (report["rows"], report["inserted"], report["rejected"]) == (3, 3, 0)


def test_bad_rows_go_to_stderr_and_strict_mode_fails(db, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("id_number,name,phone,community_code\n123,张三,139,220102\n")
    assert run("ingest", "residents", path) == 0
    assert run("ingest", "residents", path, "--strict") == 1
    err = capsys.readouterr().err
    assert "第2行 id_number" in err and "应为18位" in err


def test_a_missing_file_or_missing_columns_exit_non_zero(db, tmp_path, capsys):
    assert run("ingest", "residents", tmp_path / "nope.csv") == 2
    path = tmp_path / "cols.csv"
    path.write_text("id_number\n220102198001010012\n")
    assert run("ingest", "residents", path) == 1
    assert "缺少必需的列" in capsys.readouterr().err


@pytest.fixture
def fresh_database(tmp_path):
    """Settings for a CLI process of its own: a temporary SQLite file, or a new PostgreSQL
    database on the server the test run uses."""
    env = {**os.environ, "FANGKONG_DATA_DIR": str(tmp_path / "data")}
    url = os.environ.get("FANGKONG_DATABASE_URL")
    if not url:
        env.pop("FANGKONG_DATABASE_URL", None)
        yield env
        return
    import psycopg

    name = f"fangkong_cli_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(url, autocommit=True)
    admin.execute(f"CREATE DATABASE {name}")
    env["FANGKONG_DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    try:
        yield env
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def test_the_console_script_loads_a_file_into_its_own_database(tmp_path, fresh_database):
    script = Path(sys.executable).with_name("fangkong")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "fangkong"]
    path = residents_file(tmp_path)

    def ingest():
        done = subprocess.run(
            [*command, "ingest", "residents", path, "--json"],
            env=fresh_database,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert ingest()["inserted"] == 3
    again = ingest()
    assert (again["inserted"], again["duplicates"]) == (0, 3)
