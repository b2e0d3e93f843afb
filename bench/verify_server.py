"""The HTTP side of the verification benchmark: gunicorn serving a tree of the project (the
current one, or a revision exported by verify_before) with a deployment's settings, wrk driving
it (the Lua script counts 2xx responses itself), and the CPU time of each tier — the servers,
PostgreSQL, nginx, wrk — read from /proc around each run.
"""

from __future__ import annotations

import http.client
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
CORES = os.cpu_count() or 1
# Tokens stay valid for a day, so none expires during a run (a real QR lives 3 minutes, but
# the page that issues them is benchmarked separately).
TOKEN_TTL = 86_400
WRK_THREADS = 2
# The per-checkpoint token bucket of the new code would refuse a benchmark's single checkpoint
# almost everything: lifted (the old code ignores it).
SCANS_PER_SECOND_ENV = "FANGKONG_CHECKPOINT_SCANS_PER_SECOND"
SCANS_PER_SECOND = "1000000"
# Where a server's processes spool the gate log before the flusher writes it (one per node).
SPOOL_DIR_ENV = "FANGKONG_GATE_LOG_SPOOL_DIR"


# The wrk script. Each wrk thread has its own Lua state: `tid` comes from setup(), the counters
# live in the thread and done() (main state) collects them through thread:get(). X-Scan-Id
# repeats the body's scan id so that nginx can log it: the overload check matches the access
# log against the gate log without parsing bodies.
WRK_LUA = r"""
local threads = {}
local items, mode, path, key, prefix, headers
local i, counter = 0, 0
ok, bad, refused, retry_after = 0, 0, 0, 0

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
  math.randomseed(tid * 7919 + os.time())
end

function request()
  i = i % #items + 1
  if mode == "verify" then
    -- a new scan id every request (uuid-shaped, unique per run through the prefix), as the
    -- verifier page sends one per scan
    counter = counter + 1
    local scan = string.format("%s-%04x-4000-8000-%012x", prefix, tid, counter)
    headers["X-Scan-Id"] = scan
    local body = '{"token":"' .. items[i] .. '","scan_id":"' .. scan .. '"}'
    return wrk.format("POST", path, headers, body)
  end
  headers["Cookie"] = "sessionid=" .. items[i]
  return wrk.format("GET", path, headers)
end

function response(status, hdrs, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
  if status == 503 then
    refused = refused + 1
    if hdrs["Retry-After"] or hdrs["retry-after"] then retry_after = retry_after + 1 end
  end
end

function done(summary, latency, requests)
  local good, wrong, r503, rra = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    good = good + thread:get("ok")
    wrong = wrong + thread:get("bad")
    r503 = r503 + thread:get("refused")
    rra = rra + thread:get("retry_after")
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"ok":%d,"bad_status":%d,"connect":%d,' ..
    '"read":%d,"write":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"mean_us":%.1f,"s503":%d,"s503_retry_after":%d}\n',
    summary.requests, summary.duration, good, wrong, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, r503, rra))
end
"""
# Open-loop-ish pacing for the overload run: each connection waits an exponential time of mean
# args[6] ms before each request, so the offered rate is set by connections ÷ mean wait rather
# than by how fast refusals come back (wrk alone would spend the cores sending refused requests).
WRK_LUA_PACED = r"""
function delay()
  local mean = tonumber(wrk_delay_mean or 0)
  return math.floor(-math.log(1 - math.random()) * mean)
end
local base_init = init
function init(args)
  base_init(args)
  wrk_delay_mean = args[6]
end
"""


def free_port() -> int:
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
    """CPU seconds taken during a run by each tier: `tiers` maps a name ("app", "nginx") to the
    root processes whose trees it bills; PostgreSQL and wrk (our waited-for children) always."""

    HZ = os.sysconf("SC_CLK_TCK")

    def __init__(self, tiers: dict[str, list[int]], db_url: str):
        self.tiers = tiers
        self.db_url = db_url

    def _read(self) -> dict:
        out = {
            name: {p: _ticks(p) for r in roots for p in [r, *_descendants(r)]}
            for name, roots in self.tiers.items()
        }
        out["postgres"] = {pid: _ticks(pid) for pid in _postgres_pids(self.db_url)}
        children = os.times()
        out["wrk"] = children.children_user + children.children_system
        out["busy"] = self._busy()
        return out

    @staticmethod
    def _busy() -> tuple[int, int]:
        values = list(map(int, Path("/proc/stat").read_text().split("\n")[0].split()[1:]))
        idle = values[3] + values[4]
        return sum(values) - idle, sum(values)

    def start(self) -> None:
        self.before = self._read()

    def stop(self) -> dict:
        after = self._read()
        seconds = {
            group: sum(t - self.before[group].get(pid, 0) for pid, t in after[group].items())
            / self.HZ
            for group in [*self.tiers, "postgres"]
        }
        seconds["wrk"] = after["wrk"] - self.before["wrk"]
        busy = after["busy"][0] - self.before["busy"][0]
        total = after["busy"][1] - self.before["busy"][1]
        return {"cpu_s": seconds, "machine_busy": busy / total if total else 0.0}


def cpu_per_request(cpu: dict, ok: int, seconds: float) -> dict:
    """CPU milliseconds a successful request per tier, and the rate the cores would allow if
    they did only that tier's work ("ceiling") or all of it (`ceiling_rps`); the machine may be
    shared: `others_share` is the busy time not ours."""
    ok = max(ok, 1)
    ours = sum(cpu["cpu_s"].values())
    busy_s = cpu["machine_busy"] * seconds * CORES
    ms = {tier: 1000 * s / ok for tier, s in cpu["cpu_s"].items()}
    return {
        **cpu,
        "ms": ms,
        "total_ms": 1000 * ours / ok,
        "tier_ceiling_rps": {t: CORES * 1000 / v if v else None for t, v in ms.items()},
        "others_share": max(0.0, 1 - ours / busy_s) if busy_s else 0.0,
        "ceiling_rps": CORES * ok / ours if ours else float("nan"),
    }


def cpu_text(cpu: dict) -> str:
    tiers = ", ".join(f"{t} {v:.2f}" for t, v in cpu["ms"].items())
    ceilings = ", ".join(
        f"{t} {v:,.0f}" for t, v in cpu["tier_ceiling_rps"].items() if v is not None
    )
    return (
        f"CPU ms a request: {tiers} (total {cpu['total_ms']:.2f}); ceiling req/s per tier: "
        f"{ceilings}; all tiers ≈ {cpu['ceiling_rps']:,.0f}; machine "
        f"{100 * cpu['machine_busy']:.0f}% busy, {100 * cpu['others_share']:.0f}% of it others'"
    )


def wait_idle(pids: list[int], timeout: float = 60) -> None:
    """Until the servers' processes have used (almost) no CPU for half a second: when wrk
    stops, requests it cut off are still queued in the workers, and the next run must not pay
    for them."""
    deadline = time.monotonic() + timeout

    def ticks() -> int:
        return sum(_ticks(p) for root in pids for p in [root, *_descendants(root)])

    before = ticks()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = ticks()
        if now - before <= 1:
            return
        before = now


def wrk(args, url_path, mode, data: Path, key, port, seconds, conns, delay_ms: float = 0):
    """One wrk run; `delay_ms` > 0 paces each connection (WRK_LUA_PACED)."""
    script = Path(args.data) / ("paced.lua" if delay_ms else "bench.lua")
    if not script.exists():
        script.write_text(WRK_LUA + (WRK_LUA_PACED if delay_ms else ""))
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
        f"{delay_ms:.1f}",
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
        attempted_rps=figures["requests"] / seconds_run,
        errors=figures["bad_status"] + socket_errors,
        p50_ms=figures["p50_us"] / 1000,
        p90_ms=figures["p90_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        max_ms=figures["max_us"] / 1000,
        connections=conns,
        scan_prefix=prefix,
        text=process.stdout,
    )
    return figures


def config_args(spec: str) -> list[str]:
    """'sync:5' or 'gthread:4x4' → gunicorn flags overriding deploy/gunicorn.conf.py; 'conf'
    → none: the file as it is; 'granian:5x2' → granian (Rust HTTP, WSGI interface) with 5
    worker processes of 2 blocking threads, the same shape as the conf's gthread workers."""
    if spec == "conf":
        return []
    if spec.startswith("granian"):
        workers, _, threads = spec.partition(":")[2].partition("x")
        return ["granian", workers or str(2 * CORES + 1), threads or "2"]
    kind, _, size = spec.partition(":")
    workers, _, threads = size.partition("x")
    flags = ["--worker-class", kind]
    if workers:
        flags += ["--workers", workers]
    if threads:
        flags += ["--threads", threads]
    return flags


def granian_command(flags: list[str], port: int) -> list[str]:
    workers, threads = flags
    return [
        str(Path(sys.executable).parent / "granian"),
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        workers,
        "--blocking-threads",
        threads,
        "--no-ws",
        "--log-level",
        "warning",
        "fangkong.wsgi:application",
    ]


def conf_workers(spec: str) -> int:
    """The worker processes of a configuration (the conf file's own default for 'conf')."""
    _, _, size = spec.partition(":")
    workers = size.partition("x")[0]
    return int(workers) if workers else int(os.environ.get("FANGKONG_WORKERS", 2 * CORES + 1))


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
        **{SCANS_PER_SECOND_ENV: SCANS_PER_SECOND},
    )
    store = getattr(args, "session_store", "db")
    env["FANGKONG_SESSION_STORE"] = store
    if store == "redis":
        env["FANGKONG_REDIS_URL"] = os.environ.get("FANGKONG_REDIS_URL", "redis://127.0.0.1:6379/0")
    return env


class Server:
    """gunicorn serving the project tree `root` with the gunicorn config `conf`, on a free port
    of 127.0.0.1; `flags` override the config (command-line flags win over the file)."""

    def __init__(self, args, name: str, flags: list[str], env: dict, root=ROOT, conf=None):
        self.port = free_port()
        self.name = name
        self.log = Path(args.data) / f"gunicorn-{name}.log"
        if flags and flags[0] == "granian":
            command = granian_command(flags[1:], self.port)
        else:
            command = [
                str(Path(sys.executable).parent / "gunicorn"),
                "--config",
                str(conf or GUNICORN_CONF),
                "--bind",
                f"127.0.0.1:{self.port}",
                *flags,
                "--error-logfile",
                str(self.log),
                "fangkong.wsgi:application",
            ]
        # The tree comes first on the path: an exported revision must not import the current one.
        env = {**env, "PYTHONPATH": str(root)}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, env=env, cwd=root, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"gunicorn {name} did not start:\n{self.log.read_text()[-5000:]}"
                )
            time.sleep(0.2)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/keys", timeout=5):
                return True
        except OSError:
            return False

    def status_of(self, path: str, cookie: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}"})
            return conn.getresponse().status
        finally:
            conn.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # gunicorn's graceful shutdown
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
