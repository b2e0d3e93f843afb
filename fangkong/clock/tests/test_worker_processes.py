"""The clock in real processes (fangkong.clock.tests.child) on the test's database: two sweeps at
once apply each instant once, and a worker killed by SIGKILL — before an instant, or inside the
transaction applying it — and started again applies it exactly once."""

import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from fangkong.audit.models import AuditEntry
from fangkong.clock.actions import do_sweep
from fangkong.codes.models import CodeChange
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.tests.processes import Processes, wait_for
from fangkong.ingest.tests.support import BJ, build_city, policy_source
from fangkong.people.models import Person
from fangkong.places.loading import load_divisions
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db(transaction=True)


class ClockProcesses(Processes):
    def start(self, *argv) -> subprocess.Popen:
        process = subprocess.Popen(  # noqa: S603 — our own interpreter and module
            [sys.executable, "-m", "fangkong.clock.tests.child", *map(str, argv)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.started.append(process)
        return process

    def count(self, sql: str, params=()) -> int:
        """A count from the database the children use (SQLite: the file handed over)."""
        if self.pg:
            with connection.cursor() as cursor:
                cursor.execute(sql.replace("?", "%s"), params)
                return cursor.fetchone()[0]
        with sqlite3.connect(self.file, timeout=30) as db:
            return db.execute(sql, params).fetchone()[0]

    def kill(self, process: subprocess.Popen) -> None:
        process.kill()
        self.killed(process)


@pytest.fixture
def processes(tmp_path):
    started = ClockProcesses(tmp_path)
    yield started
    started.stop_all()


def designate(id_number: str, start: datetime, end: datetime, now: datetime) -> None:
    row = {
        "id_number": id_number,
        "kind": "密接",
        "start_at": start.isoformat(),
        "end_at": end.isoformat(),
        "designated_by": "南关区疾病预防控制中心",
    }
    assert do_ingest("designations", rows=[row], now=now).inserted == 1


GREEN_AGAIN = "SELECT COUNT(*) FROM codes_codechange WHERE new_colour = 'green' AND cause = 'time'"


def until_green_again(processes: ClockProcesses, limit: float = 90.0) -> None:
    deadline = time.monotonic() + limit
    while not processes.count(GREEN_AGAIN):
        assert time.monotonic() < deadline, "the worker never applied the designation's end"
        time.sleep(0.2)


@pytest.fixture
def city(transactional_db):
    load_divisions()  # a transactional test starts from an empty database
    return build_city()


@pytest.fixture
def contact_released_soon(city):
    """A close contact whose designation ends a few seconds from now (real time: the worker
    runs on the wall clock); the clock has swept up to now."""
    now = timezone.now()
    do_publish(policy_source("std-close-contact-red"), user=None, now=now - timedelta(hours=1))
    end = now + timedelta(seconds=6)
    designate(city.nanguan[0], now - timedelta(hours=1), end, now=now - timedelta(minutes=1))
    do_sweep(now)
    person = Person.objects.get(id_number=city.nanguan[0])
    assert person.code.colour == "red"
    return person, end


def assert_released_once(person, end) -> None:
    back = CodeChange.objects.filter(person=person, new_colour="green")
    assert [(c.at, c.cause) for c in back] == [(end, CodeChange.Cause.TIME)]
    entries = AuditEntry.objects.filter(action="clock.sweep", target_id=end.isoformat())
    assert entries.count() == 1


def test_a_worker_killed_before_the_instant_applies_it_once_when_started_again(
    processes, contact_released_soon
):
    person, end = contact_released_soon
    processes.hand_over()
    started = processes.mark("started")
    first = processes.start("worker", "--started", started)
    wait_for(started)
    processes.kill(first)
    assert timezone.now() < end, "the first worker was to die before the instant"
    assert not processes.count(GREEN_AGAIN)
    second = processes.start("worker")
    until_green_again(processes)
    processes.kill(second)
    processes.take_back()
    assert_released_once(person, end)


def test_a_worker_killed_while_applying_the_instant_applies_it_once_when_started_again(
    processes, contact_released_soon
):
    person, end = contact_released_soon
    processes.hand_over()
    paused = processes.mark("paused")
    first = processes.start("worker", "--paused", paused)
    wait_for(paused, limit=90)  # the codes are written, not committed
    processes.kill(first)
    assert not processes.count(GREEN_AGAIN)
    second = processes.start("worker")
    until_green_again(processes)
    processes.kill(second)
    processes.take_back()
    assert_released_once(person, end)


def test_two_sweeps_at_once_apply_each_instant_once(processes, city):
    published = datetime(2022, 4, 21, 20, tzinfo=BJ)
    do_publish(policy_source("std-close-contact-red"), user=None, now=published)
    ends = [datetime(2022, 4, 22, 8 + i, tzinfo=BJ) for i in range(3)]
    for i, end in enumerate(ends):
        designate(city.nanguan[i], published - timedelta(hours=2), end, now=published)
    do_sweep(published)
    processes.hand_over()
    paused, resume = processes.mark("paused"), processes.mark("resume")
    at = "2022-04-22T12:00:00+08:00"
    first = processes.start("sweep", "--at", at, "--paused", paused, "--resume", resume)
    wait_for(paused)  # inside the first instant, holding the codes lock
    second = processes.start("sweep", "--at", at)
    time.sleep(1.0)  # the second is waiting for the lock by now
    resume.write_text("go")
    applied = processes.report(first)["applied"] + processes.report(second)["applied"]
    processes.take_back()
    assert sorted(datetime.fromisoformat(a["at"]) for a in applied) == ends
    greens = CodeChange.objects.filter(new_colour="green").order_by("at")
    assert [c.at for c in greens] == ends
    assert AuditEntry.objects.filter(action="clock.sweep").count() == 3
