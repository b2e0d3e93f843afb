"""An app node killed mid-load loses no scan it answered: gunicorn (deploy/gunicorn.conf.py, two
workers, preloaded) serves verifies from a few threads, its whole process group is killed with
SIGKILL, and once a node runs again every scan that got a 2xx is in the gate log exactly once,
with the answer it got, and nothing that was never sent is."""

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from fangkong.checkpoints.actions import do_create_checkpoint
from fangkong.checkpoints.loading import load_checkpoint_types
from fangkong.checkpoints.tests.support import drain, token_for
from fangkong.ingest.tests.processes import Processes
from fangkong.ingest.tests.support import build_city
from fangkong.places.loading import load_divisions

pytestmark = pytest.mark.django_db(transaction=True)
PROJECT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """gunicorn as deployed, in a process group of its own (so all of it can be killed)."""

    def __init__(self, processes: Processes):
        self.port = free_port()
        env = {**processes.env, "FANGKONG_BIND": f"127.0.0.1:{self.port}"}
        env.update(FANGKONG_WORKERS="2", FANGKONG_THREADS="2")
        self.process = subprocess.Popen(  # noqa: S603 — our own interpreter and gunicorn
            [sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py"]
            + ["fangkong.wsgi:application"],
            cwd=PROJECT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(self.process.stderr.read()[-4000:]) from None
                time.sleep(0.05)

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def drive(port, path, key, tokens, stop, sent, answered):
    """One device scanning until told to stop or the node dies; every third scan is a retry."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    n, scan_id = 0, None
    while not stop.is_set():
        n += 1
        if n % 3 or scan_id is None:
            scan_id = str(uuid.uuid4())
        sent.add(scan_id)
        body = json.dumps({"token": tokens[n % len(tokens)], "scan_id": scan_id})
        try:
            client.request("POST", path, body, headers)
            response = client.getresponse()
            status, payload = response.status, response.read()
        except (OSError, http.client.HTTPException):
            return
        if 200 <= status < 300:
            answered.setdefault(scan_id, json.loads(payload)["outcome"])


def logged_scans(processes: Processes) -> dict[str, str]:
    """scan id → outcome, from the database the node uses (SQLite: the file handed over)."""
    if processes.pg:
        with connection.cursor() as cursor:
            cursor.execute("SELECT scan_id, outcome FROM checkpoints_gatescan")
            return {str(s): o for s, o in cursor.fetchall()}
    with sqlite3.connect(processes.file, timeout=30) as db:
        rows = db.execute("SELECT scan_id, outcome FROM checkpoints_gatescan").fetchall()
    return {str(uuid.UUID(s)): o for s, o in rows}


@pytest.fixture
def scene(transactional_db, tmp_path, settings):
    load_divisions()  # a transactional test starts from an empty database
    load_checkpoint_types()
    city = build_city()
    now = timezone.now()
    checkpoint, key = do_create_checkpoint(
        None, name="火车站出口", type_code="public_place", county_code="220102", now=now
    )
    tokens = [token_for(i, now) for i in city.nanguan[:5]]
    processes = Processes(tmp_path)
    processes.env["FANGKONG_KEY_DIR"] = str(settings.KEY_DIR)
    processes.env["FANGKONG_CHECKPOINT_SCANS_PER_SECOND"] = "100000"
    processes.hand_over()
    yield processes, f"/api/checkpoints/{checkpoint.pk}/verify", key, tokens
    processes.stop_all()


def test_a_node_killed_mid_load_loses_no_answered_scan(scene, tmp_path):
    processes, path, key, tokens = scene
    node = Node(processes)
    stop, sent, answered = threading.Event(), set(), {}
    devices = [
        threading.Thread(target=drive, args=(node.port, path, key, tokens, stop, sent, answered))
        for _ in range(4)
    ]
    for device in devices:
        device.start()
    time.sleep(1.5)
    node.kill()  # mid-load: the devices are still sending
    stop.set()
    for device in devices:
        device.join()
    assert len(answered) > 50, node.process.stderr.read()[-4000:]
    assert list((tmp_path / "data" / "gatelog").glob("*.log")), "the dead node left its spools"

    again = Node(processes)  # a live node's flusher claims the dead one's spools
    stop.clear()
    before = dict(answered)
    one_more = threading.Thread(
        target=drive, args=(again.port, path, key, tokens, stop, sent, answered)
    )
    one_more.start()
    deadline = time.monotonic() + 10
    while not set(before) <= set(logged_scans(processes)) and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    one_more.join()
    again.kill()
    assert set(before) <= set(logged_scans(processes)), "the live node never claimed the spools"
    drained = drain(processes)  # the second node's spools, as an operator would
    logged = logged_scans(processes)
    processes.take_back()

    assert drained["held"] == []
    assert {s: logged[s] for s in answered} == answered  # every answered scan, its answer
    assert set(logged) <= sent  # and nothing else
