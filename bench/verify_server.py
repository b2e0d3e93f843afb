"""The HTTP side of the verification benchmark: gunicorn serving the project with a deployment's
settings, wrk driving it (the Lua script counts 2xx responses itself), and the CPU time of the
server, PostgreSQL and wrk read from /proc around each run.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from common import ROOT

GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
# Tokens stay valid for a day, so none expires during a run (a real QR lives 3 minutes, but
# the page that issues them is benchmarked separately).
TOKEN_TTL = 86_400
WRK_THREADS = 2


# The wrk script. Each wrk thread has its own Lua state: `tid` comes from setup(), the counters
# live in the thread and done() (main state) collects them through thread:get().
WRK_LUA = r"""
local threads = {}
local items, mode, path, key, prefix, headers
local i, counter = 0, 0
ok, bad = 0, 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  mode, path, key, prefix = args[1], args[3], args[4], args[5]
  items = {}
  for line in io.lines(args[2]) do
    if #line > 0 then items[#items + 1] = line end
  end
  -- the threads start at different places in the list
  i = (tid * math.floor(#items / 2 + 1)) % #items
  headers = {["Host"] = wrk.host .. ":" .. wrk.port}
  if mode == "verify" then
    headers["Content-Type"] = "application/json"
    headers["Authorization"] = "Bearer " .. key
  end
end

function request()
  i = i % #items + 1
  if mode == "verify" then
    -- a new scan id every request (uuid-shaped, unique per run through the prefix), as the
    -- verifier page sends one per scan
    counter = counter + 1
    local scan = string.format("%s-%04x-4000-8000-%012x", prefix, tid, counter)
    local body = '{"token":"' .. items[i] .. '","scan_id":"' .. scan .. '"}'
    return wrk.format("POST", path, headers, body)
  end
  headers["Cookie"] = "sessionid=" .. items[i]
  return wrk.format("GET", path, headers)
end

function response(status, hdrs, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local good, wrong = 0, 0
  for _, thread in ipairs(threads) do
    good = good + thread:get("ok")
    wrong = wrong + thread:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"ok":%d,"bad_status":%d,"connect":%d,' ..
    '"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"mean_us":%.1f}\n',
    summary.requests, summary.duration, good, wrong, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ticks(pid: int) -> int:
    """utime + stime of a process, in clock ticks (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                found.append(child)
                todo.append(child)
    return found


def _postgres_pids(db_url: str) -> list[int]:
    """The backends of the bench database and PostgreSQL's own background processes (WAL
    writer, checkpointer, …) — not the backends of other databases: the machine may be shared,
    and another project's tests must not be billed to our requests."""
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() OR backend_type <> 'client backend'"
        ).fetchall()
    return [pid for (pid,) in rows]


class CpuMeter:
    """CPU seconds taken during a run by the server's processes, PostgreSQL's and wrk."""

    HZ = os.sysconf("SC_CLK_TCK")

    def __init__(self, server_pid: int, db_url: str):
        self.server_pid = server_pid
        self.db_url = db_url

    def _read(self) -> dict:
        server = [self.server_pid, *_descendants(self.server_pid)]
        children = os.times()
        return {
            "server": {pid: _ticks(pid) for pid in server},
            "postgres": {pid: _ticks(pid) for pid in _postgres_pids(self.db_url)},
            "wrk": children.children_user + children.children_system,
            "busy": self._busy(),
        }

    @staticmethod
    def _busy() -> tuple[int, int]:
        values = list(map(int, Path("/proc/stat").read_text().split("\n")[0].split()[1:]))
        idle = values[3] + values[4]
        return sum(values) - idle, sum(values)

    def start(self) -> None:
        self.before = self._read()

    def stop(self) -> dict:
        after = self._read()

        def delta(group: str) -> float:
            a, b = after[group], self.before[group]
            return sum(t - b.get(pid, 0) for pid, t in a.items()) / self.HZ

        busy = after["busy"][0] - self.before["busy"][0]
        total = after["busy"][1] - self.before["busy"][1]
        return {
            "server_cpu_s": delta("server"),
            "postgres_cpu_s": delta("postgres"),
            "wrk_cpu_s": after["wrk"] - self.before["wrk"],
            "machine_busy": busy / total if total else 0.0,
        }


def wait_idle(server_pid: int, timeout: float = 60) -> None:
    """Until the server's processes have used (almost) no CPU for half a second: when wrk
    stops, requests it cut off are still queued in the workers, and the next run must not pay
    for them."""
    deadline = time.monotonic() + timeout

    def ticks() -> int:
        return sum(_ticks(pid) for pid in [server_pid, *_descendants(server_pid)])

    before = ticks()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = ticks()
        if now - before <= 1:
            return
        before = now


def wrk(args, url_path: str, mode: str, data: Path, key: str, port: int, seconds: int, conns):
    script = Path(args.data) / "bench.lua"
    if not script.exists():
        script.write_text(WRK_LUA)
    prefix = secrets.token_hex(4)  # fresh scan ids for every run
    command = [
        "wrk",
        f"-t{min(WRK_THREADS, conns)}",
        f"-c{conns}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}{url_path}",
        "--",
        mode,
        str(data),
        url_path,
        key,
        prefix,
    ]
    process = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((x for x in process.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if process.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({process.returncode}):\n{process.stdout}\n{process.stderr}")
    figures = json.loads(line.removeprefix("WRKJSON "))
    seconds_run = figures["duration_us"] / 1e6
    socket_errors = sum(figures[k] for k in ("connect", "read", "write", "timeout"))
    figures.update(
        seconds=seconds_run,
        rps=figures["ok"] / seconds_run,
        errors=figures["bad_status"] + socket_errors,
        p50_ms=figures["p50_us"] / 1000,
        p90_ms=figures["p90_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        connections=conns,
        text=process.stdout,
    )
    return figures


def config_args(spec: str) -> list[str]:
    """'sync:5' or 'gthread:4x4' → gunicorn flags overriding deploy/gunicorn.conf.py; 'conf'
    → none: the file as it is."""
    if spec == "conf":
        return []
    kind, _, size = spec.partition(":")
    workers, _, threads = size.partition("x")
    flags = ["--worker-class", kind]
    if workers:
        flags += ["--workers", workers]
    if threads:
        flags += ["--threads", threads]
    return flags


def server_env(args, db_url: str) -> dict:
    """The environment of a deployment: DEBUG off, a secret key of its own, no dev outbox."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FANGKONG_")}
    env.update(
        FANGKONG_DATABASE_URL=db_url,
        FANGKONG_DATA_DIR=str(args.data),
        FANGKONG_CODE_TTL_SECONDS=str(TOKEN_TTL),
        FANGKONG_DEBUG="0",
        FANGKONG_DEV_OUTBOX="0",
        FANGKONG_SECRET_KEY=args.secret_key,
        FANGKONG_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="fangkong.settings",
    )
    return env


class Server:
    """gunicorn with deploy/gunicorn.conf.py, on a free port of 127.0.0.1."""

    def __init__(self, args, spec: str, env: dict):
        self.port = _free_port()
        self.log = Path(args.data) / f"gunicorn-{spec.replace(':', '-')}.log"
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            str(GUNICORN_CONF),
            "--bind",
            f"127.0.0.1:{self.port}",
            *config_args(spec),
            "--error-logfile",
            str(self.log),
            "fangkong.wsgi:application",
        ]
        self.process = subprocess.Popen(command, env=env, cwd=ROOT)
        deadline = time.monotonic() + 60
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"gunicorn did not start:\n{self.log.read_text()[-5000:]}")
            time.sleep(0.2)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/keys", timeout=5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # gunicorn's graceful shutdown
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def cpu_per_request(cpu: dict, ok: int, seconds: float) -> dict:
    """CPU milliseconds a successful request, and the rate the cores would allow if nothing
    else ran (the machine may be shared: `others_share` is the busy time not ours)."""
    ok = max(ok, 1)
    ours = cpu["server_cpu_s"] + cpu["postgres_cpu_s"] + cpu["wrk_cpu_s"]
    busy_s = cpu["machine_busy"] * seconds * (os.cpu_count() or 1)
    return {
        **cpu,
        "app_ms": 1000 * cpu["server_cpu_s"] / ok,
        "postgres_ms": 1000 * cpu["postgres_cpu_s"] / ok,
        "wrk_ms": 1000 * cpu["wrk_cpu_s"] / ok,
        "others_share": max(0.0, 1 - ours / busy_s) if busy_s else 0.0,
        "ceiling_rps": (os.cpu_count() or 1) * ok / ours if ours else float("nan"),
    }
