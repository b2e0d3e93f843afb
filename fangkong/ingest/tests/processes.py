"""Loads and recomputes in real processes of their own (fangkong.ingest.tests.child), on the
test's database, with separate connections: what two uploads at once, or a load killed midway,
really do.

PostgreSQL: the children connect to the test database itself (the test must use
`transactional_db`, so that what it wrote is committed). SQLite: the test database lives in
the test's memory, so `hand_over` copies it to a file the children open, and `take_back`
copies that file back once they are done.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection


class Processes:
    def __init__(self, folder: Path):
        self.folder = folder
        data = folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        self.file = data / "fangkong.sqlite3"
        self.env = {**os.environ, "FANGKONG_DATA_DIR": str(data), "PYTHONUNBUFFERED": "1"}
        self.pg = connection.vendor == "postgresql"
        if self.pg:
            base = os.environ["FANGKONG_DATABASE_URL"].rsplit("/", 1)[0]
            self.env["FANGKONG_DATABASE_URL"] = f"{base}/{connection.settings_dict['NAME']}"
        else:
            self.env.pop("FANGKONG_DATABASE_URL", None)
        self.started: list[subprocess.Popen] = []
        self.marks = iter(range(1, 1000))

    # -- the database, shared ---------------------------------------------------------------
    def hand_over(self) -> None:
        if self.pg:
            return
        connection.ensure_connection()
        self.file.unlink(missing_ok=True)
        target = sqlite3.connect(self.file)
        connection.connection.backup(target)
        target.close()

    def take_back(self) -> None:
        if self.pg:
            return
        source = sqlite3.connect(self.file)
        source.backup(connection.connection)
        source.close()

    # -- the children -----------------------------------------------------------------------
    def mark(self, name: str) -> Path:
        """A file path for a child to write or wait for."""
        return self.folder / f"{name}-{next(self.marks)}"

    def start(self, *argv) -> subprocess.Popen:
        process = subprocess.Popen(  # noqa: S603 — our own interpreter and module
            [sys.executable, "-m", "fangkong.ingest.tests.child", *map(str, argv)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.started.append(process)
        return process

    def report(self, process: subprocess.Popen, timeout: float = 120) -> dict:
        out, err = process.communicate(timeout=timeout)
        assert process.returncode == 0, err[-4000:]
        return json.loads(out.strip().splitlines()[-1])

    def killed(self, process: subprocess.Popen, timeout: float = 120) -> None:
        _, err = process.communicate(timeout=timeout)
        assert process.returncode == -9, (process.returncode, err[-4000:])
        if self.pg:  # the server ends the dead process's session (and its locks) promptly
            self._until_no_loader_holds_a_batch()

    def _until_no_loader_holds_a_batch(self, limit: float = 30.0) -> None:
        from fangkong.codes.locks import BATCH

        deadline = time.monotonic() + limit
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s",
                    [BATCH],
                )
                if not cursor.fetchone()[0]:
                    return
            assert time.monotonic() < deadline, "the killed loader's session outlived it"
            time.sleep(0.05)

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait()


def wait_for(path: Path, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.01)


@pytest.fixture(name="processes")
def processes_fixture(tmp_path):
    """`processes`, for a test module that imports this; children left running are killed."""
    started = Processes(tmp_path)
    yield started
    started.stop_all()


def colours(id_numbers: list[str]) -> list[str]:
    """The stored code of each person (green without a row)."""
    from fangkong.codes.models import PersonCode

    stored = dict(
        PersonCode.objects.filter(person__id_number__in=id_numbers).values_list(
            "person__id_number", "colour"
        )
    )
    return [stored.get(i, "green") for i in id_numbers]
