"""One sweep waits in the queue at a time, at the earliest instant anyone asked for; publishing a
policy that starts later wakes the clock for its start; the worker runs the sweep when it is
due and schedules the next one; `fangkong clock --once` sweeps from the command line."""

import json
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from fangkong.cli import build_parser
from fangkong.clock.actions import do_sweep
from fangkong.clock.scheduling import SWEEP_TASK, schedule, waiting
from fangkong.clock.tests.worker import sweeps_done
from fangkong.codes.models import PersonCode
from fangkong.ingest.tests.support import BJ, build_city, policy_source
from fangkong.places.loading import load_divisions
from fangkong.policies.actions import do_publish

PUBLISHED = datetime(2022, 4, 21, 20, tzinfo=BJ)
RULE_STARTS = datetime(2022, 4, 23, tzinfo=BJ)


def waiting_sweeps() -> list[datetime]:
    rows = DBTaskResult.objects.filter(task_path=SWEEP_TASK, status=TaskResultStatus.READY)
    return list(rows.values_list("run_after", flat=True))


@pytest.mark.django_db
def test_asking_for_a_sweep_when_one_waits_earlier_changes_nothing():
    schedule(RULE_STARTS)
    schedule(RULE_STARTS + timedelta(hours=1))
    assert waiting_sweeps() == [RULE_STARTS]


@pytest.mark.django_db
def test_asking_for_an_earlier_sweep_brings_the_waiting_one_forward():
    schedule(RULE_STARTS)
    schedule(PUBLISHED)
    assert waiting_sweeps() == [PUBLISHED]


@pytest.mark.django_db
def test_publishing_a_policy_that_starts_later_wakes_the_clock_for_its_start(city):
    sweeps_done()
    do_publish(policy_source("cc-2022-0420-untested"), user=None, now=PUBLISHED)
    assert waiting().run_after == RULE_STARTS


@pytest.mark.django_db
def test_publishing_a_policy_already_in_force_asks_for_no_sweep(city):
    sweeps_done()
    do_publish(policy_source("std-close-contact-red"), user=None, now=PUBLISHED)
    assert waiting() is None


def run_worker_once() -> None:
    """The real worker (django-tasks-db's db_worker) until the queue has nothing due."""
    call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)


@pytest.fixture
def announced(transactional_db):
    load_divisions()  # a transactional test starts from an empty database
    build_city()
    do_publish(policy_source("cc-2022-0420-untested"), user=None, now=PUBLISHED)
    do_sweep(PUBLISHED)


def test_the_worker_leaves_codes_alone_before_the_instant(announced):
    with time_machine.travel(RULE_STARTS - timedelta(minutes=1), tick=False):
        run_worker_once()
    assert not PersonCode.objects.exists()
    assert waiting().run_after == RULE_STARTS


def test_the_worker_applies_the_policy_at_its_instant_and_schedules_the_next_sweep(announced):
    with time_machine.travel(RULE_STARTS + timedelta(seconds=2), tick=False):
        run_worker_once()
    assert PersonCode.objects.filter(colour="yellow").count() == 30
    # Nothing else is due: the next sweep comes within CLOCK_SWEEP_MINUTES, for pending work.
    assert waiting_sweeps() == [RULE_STARTS + timedelta(seconds=2, minutes=5)]


def run(capsys, *argv) -> str:
    args = build_parser().parse_args([str(a) for a in argv])
    assert args.func(args) == 0
    return capsys.readouterr().out


@pytest.mark.django_db
def test_clock_once_prints_what_it_applied(city, capsys):
    do_publish(policy_source("cc-2022-0420-untested"), user=None, now=PUBLISHED)
    do_sweep(PUBLISHED)
    out = json.loads(run(capsys, "clock", "--once", "--at", "2022-04-23T06:00", "--json"))
    assert out["swept_to"] == "2022-04-23T06:00:00+08:00"
    [applied] = out["applied"]
    assert applied["at"] == "2022-04-23T00:00:00+08:00"
    assert applied["by_transition"] == {"green->yellow": 30}
    text = run(capsys, "clock", "--once", "--at", "2022-04-23T07:00")
    assert "期间没有到期的变化" in text


@pytest.mark.django_db
def test_clock_once_in_words_names_the_policy_and_the_transition(city, capsys):
    do_publish(policy_source("cc-2022-0420-untested"), user=None, now=PUBLISHED)
    do_sweep(PUBLISHED)
    text = run(capsys, "clock", "--once", "--at", "2022-04-23T06:00")
    assert "2022-04-23 00:00 cc-2022-0420-untested 第1版生效" in text
    assert "绿码→黄码 30" in text
