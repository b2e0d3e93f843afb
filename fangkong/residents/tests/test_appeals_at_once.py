"""Two appeals posted at the same moment, from two processes on their own connections, count
against the daily limit one after the other: the second is refused, not let through because
the first had not committed yet (issue 11, item 10).

Both posts are made to wait at the same point: PostgreSQL — the test holds the resident's row
(the old count ran before any lock and then waited on it, inserting its appeal); SQLite — the
test holds the database's write lock (the old count ran before its transaction began). The
test lets go once both are waiting."""

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from django.db import connection, transaction

from fangkong.clearances.models import Channel, Clearance
from fangkong.ingest.tests.support import BJ, build_city, policy_source
from fangkong.people.models import Person
from fangkong.places.loading import load_divisions
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db(transaction=True)
POLICY = "cc-2022-0420-untested"
ANOTHER = "cc-2022-0420-untested-again"


@pytest.fixture
def resident(transactional_db):
    """A resident yellow for two reasons, so that two appeals can be open at once."""
    load_divisions()  # a transactional test starts from an empty database
    city = build_city()
    published = datetime(2022, 4, 23, tzinfo=BJ)
    source = policy_source(POLICY)
    do_publish(source, user=None, now=published)
    do_publish(source.replace(f'id = "{POLICY}"', f'id = "{ANOTHER}"'), user=None, now=published)
    return Person.objects.get(id_number=city.nanguan[0])


class Children:
    """Processes of our own on the test's database (PostgreSQL: the test database itself;
    SQLite: a file copy of the in-memory one, copied back when they are done)."""

    def __init__(self, folder: Path):
        self.folder, self.file = folder, folder / "fangkong.sqlite3"
        self.env = {
            **os.environ,
            "FANGKONG_DATA_DIR": str(folder),
            "FANGKONG_EVIDENCE_DIR": str(folder / "evidence"),
            "FANGKONG_APPEALS_PER_DAY": "1",
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
        self.started, self.ready = [], []

    def post_appeal(self, person: Person, policy_id: str) -> None:
        """Start a process that signs in as `person`, then posts when `go` is called."""
        ready = self.folder / f"ready-{len(self.started)}"
        self.started.append(
            subprocess.Popen(  # noqa: S603 — our own interpreter and module
                [sys.executable, "-m", "fangkong.residents.tests.appeal_process"]
                + [str(person.pk), policy_id, str(ready), str(self.folder / "go")],
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        self.ready.append(ready)

    def signed_in(self) -> None:
        until(lambda: all(path.exists() for path in self.ready) or self.failed())

    def go(self) -> None:
        (self.folder / "go").touch()

    def failed(self) -> bool:
        for process in self.started:
            if process.poll() not in (None, 0):
                raise AssertionError(process.stderr.read()[-4000:])
        return False

    def answers(self) -> list[dict]:
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


@pytest.fixture
def children(tmp_path):
    started = Children(tmp_path)
    yield started
    started.stop()


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def until(condition, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "the two posts never got to wait"
        time.sleep(0.02)


def test_two_appeals_posted_at_once_do_not_pass_the_daily_limit(resident, children):
    for policy_id in (POLICY, ANOTHER):
        children.post_appeal(resident, policy_id)
    children.signed_in()
    if children.pg:
        with transaction.atomic():
            Person.objects.select_for_update().get(pk=resident.pk)
            children.go()
            until(lambda: waiting_on_locks() >= 2)
    else:
        holder = sqlite3.connect(children.file, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        children.go()
        time.sleep(1.5)  # both posts get to their writes: SQLite cannot tell who waits
        holder.execute("ROLLBACK")
        holder.close()
    answers = children.answers()
    assert sorted(a["status"] for a in answers) == [200, 302]
    refused = next(a for a in answers if a["status"] == 200)
    assert "24小时内最多提交 1 次申诉" in " ".join(refused["messages"])
    assert Clearance.objects.filter(person=resident, channel=Channel.APPEAL).count() == 1


def test_the_appeals_of_different_residents_do_not_wait_for_each_other(resident, children):
    other = Person.objects.exclude(pk=resident.pk).first()
    for person in (resident, other):
        children.post_appeal(person, POLICY)
    children.signed_in()
    children.go()
    answers = children.answers()
    assert [a["status"] for a in answers] == [302, 302]
    assert Clearance.objects.filter(channel=Channel.APPEAL).count() == 2
