"""Requests made from processes of their own, each on its own database connection, started
together: what two phones (or two app nodes) posting at the same moment really do.

A child is `python -m MODULE READY GO ARGS...`: it prepares (signs in, opens a page), touches
READY, waits for GO, does what it was started for and prints its answer as JSON on its last line
(`run_child` does the waiting and the printing). The test's database is theirs: PostgreSQL — the
test database itself (the test must use `transactional_db`); SQLite — a file copy of the
in-memory one, copied back when they are done.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path


def until(condition, limit: float = 60.0, what: str = "the children never got ready") -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


class Processes:
    def __init__(self, folder: Path, **settings: str):
        from django.db import connection

        self.folder, self.file = folder, folder / "fangkong.sqlite3"
        self.env = {
            **os.environ,
            "FANGKONG_DATA_DIR": str(folder),
            "FANGKONG_EVIDENCE_DIR": str(folder / "evidence"),
            **settings,
        }
        self.pg = connection.vendor == "postgresql"
        if self.pg:
            base = os.environ["FANGKONG_DATABASE_URL"].rsplit("/", 1)[0]
            self.env["FANGKONG_DATABASE_URL"] = f"{base}/{connection.settings_dict['NAME']}"
        else:
            self.env.pop("FANGKONG_DATABASE_URL", None)
            connection.ensure_connection()
            target = sqlite3.connect(self.file)
            connection.connection.backup(target)
            target.execute("PRAGMA journal_mode=WAL")  # as the app runs it: readers never wait
            target.close()
        self.started, self.marks = [], []

    def start(self, module: str, *argv) -> None:
        ready = self.folder / f"ready-{len(self.started)}"
        self.started.append(
            subprocess.Popen(  # noqa: S603 — our own interpreter and module
                [
                    sys.executable,
                    "-m",
                    module,
                    str(ready),
                    str(self.folder / "go"),
                    *map(str, argv),
                ],
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        self.marks.append(ready)

    def ready(self) -> None:
        until(lambda: all(path.exists() for path in self.marks) or self._failed())

    def go(self) -> None:
        (self.folder / "go").touch()

    def answers(self) -> list[dict]:
        from django.db import connection

        answers = []
        for process in self.started:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err[-4000:]
            answers.append(json.loads(out.strip().splitlines()[-1]))
        if not self.pg:
            source = sqlite3.connect(self.file)
            source.backup(connection.connection)
            source.close()
        return answers

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait()

    def _failed(self) -> bool:
        for process in self.started:
            if process.poll() not in (None, 0):
                raise AssertionError(process.stderr.read()[-4000:])
        return False


def run_child(prepare, act) -> None:
    """The child's side: Django set up, `prepare()` done, READY touched, GO awaited, then
    `act(prepared)` printed as JSON."""
    ready, go = sys.argv[1:3]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()
    prepared = prepare(*sys.argv[3:])
    Path(ready).touch()
    until(Path(go).exists, what=f"{go} never appeared")
    print(json.dumps(act(prepared), ensure_ascii=False))
