"""The batched gate log (gatelog.py): scans answered from the spool are committed exactly once
each, however often they are sent, and a spool left by a process that died is replayed."""

import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import datetime

import pytest
import time_machine
from django.utils import timezone

from fangkong.checkpoints import gatelog
from fangkong.checkpoints.actions import do_create_checkpoint, do_verify
from fangkong.checkpoints.models import GateScan
from fangkong.checkpoints.tests.support import drain, token_for
from fangkong.ingest.tests.processes import Processes, wait_for
from fangkong.ingest.tests.support import BJ, build_city
from fangkong.places.loading import load_divisions

NOON = datetime(2022, 4, 24, 12, tzinfo=BJ)


@pytest.fixture(autouse=True)
def _spool_of_this_test(settings, tmp_path):
    settings.GATE_LOG_SPOOL_DIR = tmp_path / "gatelog"
    settings.GATE_LOG_FLUSHER = False  # only flush() commits: the test reads in between
    yield
    gatelog.close()


@pytest.fixture
def gate(city):
    checkpoint, _ = do_create_checkpoint(
        None, name="超市入口", type_code="public_place", county_code="220102", now=NOON
    )
    with time_machine.travel(NOON, tick=False):
        token = token_for(city.nanguan[0], NOON)
    return checkpoint, token


def scan(checkpoint, token, scan_id):
    with time_machine.travel(NOON, tick=False):
        return do_verify(checkpoint, token, timezone.now(), scan_id=scan_id, batched=True)


@pytest.mark.django_db
def test_many_scans_are_committed_once_each_and_a_resent_scan_adds_nothing(gate):
    checkpoint, token = gate
    ids = [str(uuid.uuid4()) for _ in range(300)]
    first = [scan(checkpoint, token, i) for i in ids]
    resent_before = [scan(checkpoint, token, i) for i in ids[:20]]
    assert not GateScan.objects.exists()  # answered at once, committed by the flusher
    gatelog.flush()
    resent_after = [scan(checkpoint, token, i) for i in ids[-20:]]
    gatelog.flush()
    logged = GateScan.objects.filter(checkpoint=checkpoint)
    assert sorted(str(s) for s in logged.values_list("scan_id", flat=True)) == sorted(ids)
    assert all(v.recorded and v.outcome == "pass" for v in first)
    assert not any(v.recorded for v in resent_before + resent_after)
    assert {v.outcome for v in resent_before + resent_after} == {"pass"}


@pytest.mark.django_db
def test_a_spool_file_is_replaced_once_large_and_deleted_once_committed(gate, monkeypatch):
    checkpoint, token = gate
    monkeypatch.setattr(gatelog, "ROTATE_BYTES", 2000)
    for _ in range(40):
        scan(checkpoint, token, str(uuid.uuid4()))
    spool = gatelog.spool_dir()
    assert len(list(spool.glob("*.log"))) > 3  # rotated, the old ones not yet committed
    gatelog.flush()
    assert len(list(spool.glob("*.log"))) == 1
    assert GateScan.objects.count() == 40


@pytest.fixture
def handed_over(transactional_db, tmp_path, settings):
    load_divisions()  # a transactional test starts from an empty database
    from fangkong.checkpoints.loading import load_checkpoint_types

    load_checkpoint_types()
    city = build_city()
    checkpoint, _ = do_create_checkpoint(
        None, name="超市入口", type_code="public_place", county_code="220102", now=timezone.now()
    )
    token = token_for(city.nanguan[0], timezone.now())
    processes = Processes(tmp_path)
    processes.env["FANGKONG_KEY_DIR"] = str(settings.KEY_DIR)
    processes.hand_over()
    yield processes, checkpoint, token
    processes.stop_all()


def test_a_spool_left_by_a_killed_process_is_replayed_by_gatelog_drain(handed_over, tmp_path):
    processes, checkpoint, token = handed_over
    ready = processes.mark("ready")
    argv = [ready, checkpoint.pk, token, 50]
    spooler = subprocess.Popen(  # noqa: S603 — our own interpreter and module
        [sys.executable, "-m", "fangkong.checkpoints.tests.spooler", *map(str, argv)],
        env=processes.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    processes.started.append(spooler)
    wait_for(ready)
    answered = json.loads(spooler.stdout.readline())
    os.kill(spooler.pid, signal.SIGKILL)
    spooler.wait()
    spool = tmp_path / "data" / "gatelog"
    assert len(list(spool.glob("*.log"))) == 1
    drained = drain(processes)
    again = drain(processes)  # finds nothing left
    processes.take_back()
    assert drained == {"replayed": 50, "held": []}
    assert again == {"replayed": 0, "held": []}
    assert not list(spool.glob("*"))
    logged = {str(s.scan_id): s.outcome for s in GateScan.objects.filter(checkpoint=checkpoint)}
    assert logged == {a["scan_id"]: a["outcome"] for a in answered}
    assert set(logged.values()) == {"pass"}
