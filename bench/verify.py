"""Benchmarks of code verification: offline in-process, and the online endpoints over HTTP.

    .venv/bin/python bench/verify.py                        # everything (≈ 20 min)
    .venv/bin/python bench/verify.py --skip-http            # in-process only (≈ 1 min)
    .venv/bin/python bench/verify.py --residents 5000 --duration 10 --connections 16,64 \
        --configs conf,sync:5 --json /tmp/verify.json

1. In-process (offline verifier): `--tokens` distinct health-code tokens signed with a fresh
   Ed25519 key (`fangkong.engine.tokens.sign`), then `tokens.verify` alone and followed by
   `gate_rules.check_code` (a public place's requirements), in one process and then in one
   process per core in parallel; the same for signing. The raw Ed25519 verify/sign of
   `cryptography` over the same inputs is timed too: it is the ceiling of this CPU.
2. HTTP (online verifier, resident phone): a PostgreSQL database `fangkong_bench_verify` is
   created on the server of `--pg-url` (through the `postgres` maintenance database) and
   dropped at the end. A child migrates it and builds the demo city as `fangkong demo` does
   (`fangkong.demo.story.run_story`, i.e. `build_demo` and the published rules), re-evaluates
   everyone as of now (what the periodic sweep does), creates a public-place checkpoint with
   `do_create_checkpoint` (its device key), issues `--tokens-http` code tokens through the
   resident page's own path (`fangkong.residents.page.qr_token`) and `--sessions` signed-in
   resident sessions (Django's session store, `SESSION_KEY` = person number).
   Then, for each `--configs` entry, gunicorn serves `fangkong.wsgi:application` with
   deploy/gunicorn.conf.py (worker class/count/threads overridden on the command line) on
   127.0.0.1, with the settings of a deployment (DEBUG off, a real secret key, no dev outbox),
   is warmed up, and wrk drives, for each `--connections`, `--duration` seconds of
       POST /api/checkpoints/{id}/verify   {"token": …, "scan_id": …}   Bearer <device key>
       GET  /r/                            Cookie: sessionid=…
   cycling through the tokens (each request a new scan id, as the verifier page sends) and the
   sessions. p50/p99 come from wrk's latency histogram; requests/s counts 2xx responses only,
   and anything else (non-2xx status, socket error, timeout) is an error. CPU seconds of the
   gunicorn workers, PostgreSQL and wrk are read from /proc around each run, so the cost of a
   request and who took the two cores are known.
   Gate log: after the wrk runs, the rows added must lie between the 2xx verify responses and
   that plus the requests in flight when wrk stopped (≤ connections a run); then an exact
   check: `--exact` scans over keep-alive connections from 16 threads, each scan id looked up
   in the table, every one exactly once, and the same scans sent again must add nothing.
3. Where the time goes: a child replays 2 000 verify requests and 2 000 code pages through
   django.test.Client on the same database — once timed (wall, SQL statements and SQL time per
   request through `execute_wrapper`), once under cProfile (top functions by own time, and
   the cumulative time of the parts that matter).

Needs wrk (`apt-get install -y wrk`) and gunicorn (requirements.txt) for part 2.
Figures and their analysis: bench/README.md (section bench/verify.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
BENCH_DB = "fangkong_bench_verify"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
TARGETS = {
    "offline_verify_per_core": 10_000,  # tokens/s in one process
    "verify_rps": 2_000,
    "verify_p99_ms": 50,
    "page_rps": 1_000,
}
# Tokens stay valid for a day, so none expires during a run (a real QR lives 3 minutes, but
# the page that issues them is benchmarked separately).
TOKEN_TTL = 86_400
WARMUP_SECONDS = 3
WRK_THREADS = 2
# The candidates tried when --configs is not given: deploy/gunicorn.conf.py as it is ("conf":
# gthread, 2×cores+1 processes of 2 threads), sync workers at the classic 2×cores+1, and fewer
# processes with more threads.
DEFAULT_CONFIGS = "conf,sync:5,gthread:2x8,gthread:4x4"


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()


# -- part 1: in-process ------------------------------------------------------------------------


def _claims(count: int, at: int, seed: int) -> list[dict]:
    """Health-code claims shaped like fangkong.codes.tokens.issue_code_token's: a 22-character
    person reference, masked name and ID number, test-recency claims."""
    import datetime as dt

    from fangkong.engine import pseudonyms
    from fangkong.engine.id_numbers import make_id_number, mask, mask_name

    rng = random.Random(seed)
    secret = rng.randbytes(32)
    surnames, given = "王李张刘陈杨赵黄周吴", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
    colours = ("green",) * 18 + ("yellow", "red")
    out = []
    for i in range(count):
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(25_000))
        sampled = at - rng.randrange(3600, 72 * 3600)
        out.append(
            {
                "v": 1,
                "sub": pseudonyms.person_ref(secret, i + 1),
                "iat": at,
                "exp": at + 180,
                "col": rng.choice(colours),
                "nm": mask_name(rng.choice(surnames) + "".join(rng.sample(given, 2))),
                "idm": mask(make_id_number("220102", birth, i % 999 + 1)),
                "smp": sampled,
                "pcr": sampled if rng.random() < 0.9 else None,
                "tst": "none",
                "ag": None,
            }
        )
    return out


def _best_of(function, repeat: int) -> tuple[float, list[float]]:
    """Seconds of the fastest of `repeat` runs (the least disturbed by the rest of the machine)
    and all of them."""
    times = []
    for _ in range(repeat):
        tick = time.perf_counter()
        function()
        times.append(time.perf_counter() - tick)
    return min(times), times


def _offline_work(what: str, claims: list[dict], signed: list[str], private, now: datetime):
    """The function timed for `what`; everything it needs is prepared before the clock starts."""
    from fangkong.engine import tokens
    from fangkong.engine.gate_rules import Requirements, check_code

    keys = {"bench": tokens.PublicKey("bench", private.public_key())}
    requirements = Requirements(colours=("green",))  # public_place (checkpoint_types.toml)
    public = private.public_key()
    raw = []
    for token in signed:
        head, _, signature = token.rpartition(".")
        raw.append((tokens.b64decode(signature), head.encode("ascii")))

    def sign():
        for c in claims:
            tokens.sign(tokens.CODE, c, "bench", private)

    def verify():
        for t in signed:
            tokens.verify(t, keys, now)

    def verify_check():
        for t in signed:
            check_code(requirements, tokens.verify(t, keys, now).claims, now)

    def raw_verify():
        for signature, data in raw:
            public.verify(signature, data)

    def raw_sign():
        for _, data in raw:
            private.sign(data)

    return {
        "sign": sign,
        "verify": verify,
        "verify+check_code": verify_check,
        "raw Ed25519 verify": raw_verify,
        "raw Ed25519 sign": raw_sign,
    }[what]


def _parallel_worker(what, claims, signed, private_bytes, now, barrier, queue) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    work = _offline_work(
        what, claims, signed, Ed25519PrivateKey.from_private_bytes(private_bytes), now
    )
    barrier.wait()
    tick = time.perf_counter()
    work()
    queue.put(time.perf_counter() - tick)


def child_offline(args) -> dict:
    import multiprocessing

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from fangkong.engine import tokens

    now = datetime.now(UTC)
    claims = _claims(args.tokens, int(now.timestamp()), args.seed)
    private = Ed25519PrivateKey.generate()
    signed = [tokens.sign(tokens.CODE, c, "bench", private) for c in claims]
    assert len(set(signed)) == len(signed)
    out: dict = {
        "tokens": len(signed),
        "token_chars_median": _median([len(t) for t in signed]),
        "single": {},
        "parallel": {},
    }
    for what in ("sign", "verify", "verify+check_code", "raw Ed25519 verify", "raw Ed25519 sign"):
        seconds, runs = _best_of(_offline_work(what, claims, signed, private, now), args.repeat)
        out["single"][what] = {"per_s": len(signed) / seconds, "runs_s": runs}

    # One process per core, each doing the whole list, started together behind a barrier; the
    # total rate is all the work over the wall time from the barrier to the last to finish.
    processes = args.processes
    private_bytes = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    context = multiprocessing.get_context("fork")
    for what in ("sign", "verify+check_code"):
        best = None
        for _ in range(args.repeat):
            barrier, queue = context.Barrier(processes + 1), context.Queue()
            workers = [
                context.Process(
                    target=_parallel_worker,
                    args=(what, claims, signed, private_bytes, now, barrier, queue),
                )
                for _ in range(processes)
            ]
            for w in workers:
                w.start()
            barrier.wait()
            tick = time.perf_counter()
            each = [queue.get() for _ in workers]
            wall = time.perf_counter() - tick
            for w in workers:
                w.join()
            run = {
                "processes": processes,
                "per_process_per_s": [len(signed) / s for s in each],
                "total_per_s": processes * len(signed) / wall,
            }
            if best is None or run["total_per_s"] > best["total_per_s"]:
                best = run
        out["parallel"][what] = best
    return out


def part_offline(args, out: dict) -> None:
    print(f"\n== 1. in-process, {args.tokens:,} distinct tokens (load {_load()})")
    result = _run_child("offline", args)
    out["offline"] = result
    print(f"token length {result['token_chars_median']:.0f} characters (median)")
    for what, figures in result["single"].items():
        print(f"  one process   {what:<20} {figures['per_s']:>9,.0f} /s")
    for what, figures in result["parallel"].items():
        per = ", ".join(f"{r:,.0f}" for r in figures["per_process_per_s"])
        print(
            f"  {figures['processes']} processes   {what:<20} {figures['total_per_s']:>9,.0f} /s "
            f"in all ({per} /s each)"
        )
    rate = result["single"]["verify+check_code"]["per_s"]
    ceiling = result["single"]["raw Ed25519 verify"]["per_s"]
    target = TARGETS["offline_verify_per_core"]
    print(
        f"offline verification per core: {rate:,.0f} /s — target ≥ {target:,} /s: "
        f"{_met(rate >= target)} (raw Ed25519 verify alone, this CPU's ceiling: {ceiling:,.0f} /s)"
    )


# -- part 2: HTTP ----------------------------------------------------------------------------


def child_setup(args) -> dict:
    """The bench database: demo city, codes as of now, a checkpoint, tokens and sessions."""
    _django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from fangkong.checkpoints.actions import do_create_checkpoint
    from fangkong.codes.actions import do_recompute
    from fangkong.demo.story import run_story
    from fangkong.people.models import Person
    from fangkong.residents.page import qr_token
    from fangkong.residents.session import SESSION_KEY

    assert settings.CODE_TOKEN_TTL_SECONDS == TOKEN_TTL
    folder = Path(args.data)
    out: dict = {}
    tick = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)  # as a deployment does
    out["migrate_s"] = time.perf_counter() - tick
    tick = time.perf_counter()
    story = run_story(residents=args.residents, seed=args.seed)
    out["demo_s"] = time.perf_counter() - tick
    out["demo_text"] = story["text"]
    # The stored codes as of now, as the periodic sweep leaves them: otherwise the first page
    # view of each resident would store a time-driven change and the run would measure that.
    tick = time.perf_counter()
    recompute = do_recompute(timezone.now())
    out["recompute"] = {"s": time.perf_counter() - tick, "changed": recompute.changed}
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum does after a load, done now

    now = timezone.now()
    checkpoint, device_key = do_create_checkpoint(
        None, name="压测卡口(公共场所)", type_code="public_place", county_code="220102", now=now
    )
    ids = list(Person.objects.values_list("pk", flat=True))
    rng = random.Random(args.seed)
    people = Person.objects.in_bulk(rng.sample(ids, min(args.tokens_http, len(ids))))
    tick = time.perf_counter()
    # The resident page's own path: evaluation of the person's facts, then issue_code_token.
    tokens = [qr_token(person, now).token for person in people.values()]
    out["issue_s"] = time.perf_counter() - tick
    (folder / "tokens.txt").write_text("\n".join(tokens) + "\n")

    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = []
    tick = time.perf_counter()
    for pk in rng.sample(ids, min(args.sessions, len(ids))):
        session = store()
        session[SESSION_KEY] = pk
        session.save()  # no key yet: creates one
        sessions.append(session.session_key)
    out["sessions_s"] = time.perf_counter() - tick
    (folder / "sessions.txt").write_text("\n".join(sessions) + "\n")
    out.update(
        people=len(ids),
        checkpoint=checkpoint.pk,
        device_key=device_key,
        tokens=len(tokens),
        sessions=len(sessions),
    )
    connection.close()
    return out


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


def _wait_idle(server_pid: int, timeout: float = 60) -> None:
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


def _wrk(args, url_path: str, mode: str, data: Path, key: str, port: int, seconds: int, conns):
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


def _pg_admin(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _pg_url(base: str, database: str) -> str:
    return f"{base.rpartition('/')[0]}/{database}"


def _gate_rows(url: str, scan_ids: list[str] | None = None) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        if scan_ids is None:
            return conn.execute("SELECT count(*) FROM checkpoints_gatescan").fetchone()[0]
        return conn.execute(
            "SELECT count(*) FROM checkpoints_gatescan WHERE scan_id = ANY(%s)",
            [[uuid.UUID(s) for s in scan_ids]],
        ).fetchone()[0]


def _config_args(spec: str) -> list[str]:
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


def _server_env(args, db_url: str) -> dict:
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
            *_config_args(spec),
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


def _exact_gate_check(port: int, checkpoint: int, key: str, tokens: list[str], db_url: str, n):
    """`n` scans from 16 threads over keep-alive connections, then each scan id looked up."""
    import http.client

    scan_ids = [str(uuid.uuid4()) for _ in range(n)]
    statuses: list[int] = []
    recorded: list[bool] = []
    lock = threading.Lock()
    path = f"/api/checkpoints/{checkpoint}/verify"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}

    def send(chunk: list[int], results: list, flags: list) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, flagged = [], []
        for i in chunk:
            body = json.dumps({"token": tokens[i % len(tokens)], "scan_id": scan_ids[i]})
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            payload = response.read()
            mine.append(response.status)
            if response.status == 200:
                flagged.append(json.loads(payload)["recorded"])
        conn.close()
        with lock:
            results.extend(mine)
            flags.extend(flagged)

    def burst(indices: list[int], results: list, flags: list) -> None:
        threads = [
            threading.Thread(target=send, args=(indices[t::16], results, flags)) for t in range(16)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    before = _gate_rows(db_url)
    burst(list(range(n)), statuses, recorded)
    after = _gate_rows(db_url)
    found = _gate_rows(db_url, scan_ids)
    ok = sum(1 for s in statuses if s == 200)
    # The same scans again (a device retrying after a timeout): answered, nothing recorded.
    again_statuses: list[int] = []
    again_recorded: list[bool] = []
    repeat = list(range(min(n, 500)))
    burst(repeat, again_statuses, again_recorded)
    after_again = _gate_rows(db_url)
    return {
        "sent": n,
        "ok": ok,
        "recorded_true": sum(recorded),
        "rows_added": after - before,
        "scan_ids_found": found,
        "exact": ok == n and after - before == n and found == n and all(recorded),
        "resent": len(repeat),
        "resent_ok": sum(1 for s in again_statuses if s == 200),
        "resent_recorded": sum(again_recorded),
        "rows_added_by_resend": after_again - after,
        "idempotent": after_again == after and not any(again_recorded),
    }


def _print_run(label: str, r: dict) -> None:
    cpu = r["cpu"]
    print(
        f"    {label:<7} c={r['connections']:<3} {r['rps']:>7,.0f} req/s  p50 {r['p50_ms']:6.1f} ms"
        f"  p99 {r['p99_ms']:6.1f} ms  max {r['max_ms']:6.0f} ms  errors {r['errors']}"
        f" (non-2xx {r['bad_status']}, timeouts {r['timeout']})"
    )
    print(
        f"{'':12}CPU ms a request: app {cpu['app_ms']:.2f}, "
        f"postgres {cpu['postgres_ms']:.2f}, "
        f"wrk {cpu['wrk_ms']:.2f}; machine {100 * cpu['machine_busy']:.0f}% busy, "
        f"{100 * cpu['others_share']:.0f}% of it by other processes; if the "
        f"{os.cpu_count()} cores did only this: ≈ {cpu['ceiling_rps']:,.0f} req/s"
    )


def _cpu_per_request(cpu: dict, ok: int, seconds: float) -> dict:
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


def _serve_and_drive(args, spec: str, setup: dict, db_url: str, env: dict) -> dict:
    data = Path(args.data)
    tokens_file, sessions_file = data / "tokens.txt", data / "sessions.txt"
    verify_path = f"/api/checkpoints/{setup['checkpoint']}/verify"
    key = setup["device_key"]
    server = Server(args, spec, env)
    result: dict = {"config": spec, "runs": []}
    try:
        rows_before = _gate_rows(db_url)
        verify_ok, in_flight = 0, 0
        # Warm-up: every worker imports lazily, opens its database connection and fills the
        # checkpoint and key caches; none of it is what a gate in service sees.
        for mode, path, file in (
            ("verify", verify_path, tokens_file),
            ("page", "/r/", sessions_file),
        ):
            warm = _wrk(args, path, mode, file, key, server.port, WARMUP_SECONDS, 16)
            _wait_idle(server.process.pid)
            if mode == "verify":
                verify_ok += warm["ok"]
                in_flight += 16
        for conns in args.connections:
            for mode, path, file in (
                ("verify", verify_path, tokens_file),
                ("page", "/r/", sessions_file),
            ):
                meter = CpuMeter(server.process.pid, db_url)
                meter.start()
                run = _wrk(args, path, mode, file, key, server.port, args.duration, conns)
                run["cpu"] = _cpu_per_request(meter.stop(), run["ok"], run["seconds"])
                run["endpoint"] = mode
                text = run.pop("text")
                if args.verbose:
                    print(text)
                result["runs"].append(run)
                _print_run(mode, run)
                if mode == "verify":
                    verify_ok += run["ok"]
                    in_flight += conns
                _wait_idle(server.process.pid)  # requests wrk cut off finish on the server
        rows = _gate_rows(db_url) - rows_before
        result["gate_log"] = {
            "verify_2xx": verify_ok,
            "rows_added": rows,
            "in_flight_bound": in_flight,
            "consistent": verify_ok <= rows <= verify_ok + in_flight,
        }
        g = result["gate_log"]
        print(
            f"    gate log: {g['rows_added']:,} rows for {g['verify_2xx']:,} 2xx verify responses"
            f" (+ at most {g['in_flight_bound']} in flight when wrk stopped): "
            f"{'consistent' if g['consistent'] else 'INCONSISTENT'}"
        )
        if args.exact:
            tokens = tokens_file.read_text().split()
            exact = _exact_gate_check(
                server.port, setup["checkpoint"], key, tokens, db_url, args.exact
            )
            result["exact_check"] = exact
            print(
                f"    exact: {exact['sent']:,} scans, {exact['ok']:,} × 200, "
                f"{exact['rows_added']:,} rows added, {exact['scan_ids_found']:,} scan ids found "
                f"— {'exact' if exact['exact'] else 'NOT exact'}; resent {exact['resent']}: "
                f"{exact['rows_added_by_resend']} rows, {exact['resent_recorded']} recorded — "
                f"{'idempotent' if exact['idempotent'] else 'NOT idempotent'}"
            )
    finally:
        server.stop()
    return result


def _best_config(configs: list[dict]) -> dict:
    """The configuration serving the verify endpoint (the one with a latency target) without
    errors and with the most requests/s over all connection counts."""

    def score(config: dict) -> tuple:
        runs = [r for r in config["runs"] if r["endpoint"] == "verify"]
        return (sum(r["errors"] for r in runs) == 0, sum(r["rps"] for r in runs))

    return max(configs, key=score)


def part_http(args, out: dict) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is not installed: `apt-get install -y wrk` (Debian), or run with --skip-http"
        )
    if not (Path(sys.executable).parent / "gunicorn").exists():
        raise SystemExit("gunicorn is not installed: `.venv/bin/pip install -r requirements.txt`")
    print(f"\n== 2. HTTP on 127.0.0.1, PostgreSQL, {args.residents:,} residents (load {_load()})")
    db_url = _pg_url(args.pg_url, BENCH_DB)
    _pg_admin(args.pg_url, f"DROP DATABASE IF EXISTS {BENCH_DB}", f"CREATE DATABASE {BENCH_DB}")
    env = _server_env(args, db_url)
    http: dict = {"configs": []}
    out["http"] = http
    try:
        setup = _run_child("setup", args, env)
        http["setup"] = {k: v for k, v in setup.items() if k != "device_key"}
        args.device_key = setup["device_key"]
        print(
            f"setup: migrate {setup['migrate_s']:.0f} s, demo city {setup['demo_s']:.0f} s "
            f"({setup['people']:,} people), recompute {setup['recompute']['s']:.1f} s, "
            f"{setup['tokens']:,} tokens issued in {setup['issue_s']:.1f} s "
            f"({setup['tokens'] / setup['issue_s']:,.0f} /s through qr_token), "
            f"{setup['sessions']:,} sessions"
        )
        for spec in args.configs:
            flags = " ".join(_config_args(spec)) or "(deploy/gunicorn.conf.py as it is)"
            print(f"  gunicorn {flags} (load {_load()})")
            http["configs"].append(_serve_and_drive(args, spec, setup, db_url, env))
        best = _best_config(http["configs"])
        http["best"] = best["config"]
        print(f"\nbest configuration: {best['config']}")
        shared = max(r["cpu"]["others_share"] for c in http["configs"] for r in c["runs"])
        if shared > 0.1:
            print(
                f"  NOTE: other processes took up to {100 * shared:.0f}% of the busy CPU during the"
                " runs: requests/s and latencies are lower bounds; the CPU a request and the"
                " ceiling derived from it are not affected"
            )
        for endpoint, rps_target, p99_target in (
            ("verify", TARGETS["verify_rps"], TARGETS["verify_p99_ms"]),
            ("page", TARGETS["page_rps"], None),
        ):
            for r in (r for r in best["runs"] if r["endpoint"] == endpoint):
                checks = [f"≥ {rps_target:,} req/s: {_met(r['rps'] >= rps_target)}"]
                if p99_target:
                    checks.append(f"p99 ≤ {p99_target} ms: {_met(r['p99_ms'] <= p99_target)}")
                checks.append(f"no errors: {_met(r['errors'] == 0)}")
                checks.append(f"CPU ceiling ≈ {r['cpu']['ceiling_rps']:,.0f} req/s")
                print(
                    f"  {endpoint:<6} c={r['connections']:<3} {r['rps']:>7,.0f} req/s, "
                    f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, errors {r['errors']} — "
                    + "; ".join(checks)
                )
        if not args.skip_profile:
            print(
                f"\n== 3. where the time goes, in-process: {args.profile:,} verify requests, "
                f"{args.profile_page:,} code pages"
            )
            profile = _run_child("profile", args, env)
            http["profile"] = profile
            _print_profile(profile)
    finally:
        if not args.keep:
            _pg_admin(args.pg_url, f"DROP DATABASE IF EXISTS {BENCH_DB}")


# -- part 3: profile ---------------------------------------------------------------------------

# Cumulative time of these functions (callees included; they nest, so they do not add up), as
# (label, end of the file name, start of the function name[, only when called by this
# function]); "~" is where cProfile files builtins, the OpenSSL calls among them.
COMMON_PARTS = (
    ("Django handler, whole request", "django/core/handlers/base.py", "get_response"),
    ("  session load (SELECT)", "sessions/backends/db.py", "load"),
)
VERIFY_PARTS = (
    *COMMON_PARTS,
    ("  Ninja operation: auth, parse, view, response", "ninja/operation.py", "run"),
    ("    device key auth (cached)", "checkpoints/api.py", "authenticate"),
    ("    request body → VerifyIn", "ninja/operation.py", "_get_values"),
    ("    verdict → VerdictOut → JSON", "ninja/operation.py", "_result_to_response"),
    ("    do_verify", "checkpoints/actions.py", "do_verify"),
    ("      scan_id already recorded? (SELECT)", "django/db/models/query.py", "first", "do_verify"),
    ("      _judge", "checkpoints/actions.py", "_judge"),
    ("        keys.verify: parse + Ed25519", "signing/keys.py", "verify"),
    ("          Ed25519 verify (OpenSSL)", "~", "<method 'verify' of"),
    ("        person_from_ref (AES)", "signing/keys.py", "person_from_ref"),
    ("        live_colour (SELECT)", "codes/tokens.py", "live_colour"),
    ("        check_code", "engine/gate_rules.py", "check_code"),
    ("      GateScan.save (INSERT)", "django/db/models/base.py", "save", "do_verify"),
    ("      transaction.atomic exit (COMMIT)", "django/db/transaction.py", "__exit__", "do_verify"),
    ("SQL: Django cursor.execute, all", "django/db/backends/utils.py", "execute"),
    ("SQL: psycopg waiting for the server, all", "psycopg/connection.py", "wait"),
)
PAGE_PARTS = (
    *COMMON_PARTS,
    ("  resident_required: Person (SELECT)", "residents/session.py", "current_person"),
    ("  home view", "residents/views.py", "home"),
    ("    code_page", "residents/page.py", "code_page"),
    ("      person_facts (SELECTs)", "codes/queries.py", "person_facts"),
    ("      published_policies (SELECT + parse)", "policies/queries.py", "published_policies"),
    ("      evaluate", "engine/evaluate.py", "evaluate"),
    ("      _sync_stored_code (SELECT)", "residents/page.py", "_sync_stored_code"),
    ("      issue_code_token", "codes/tokens.py", "issue_code_token"),
    ("        latest_negative_antigen (SELECT)", "codes/tokens.py", "latest_negative_antigen"),
    ("        keys.active_key (SELECT)", "signing/keys.py", "active_key"),
    ("        Ed25519 sign (OpenSSL)", "~", "<method 'sign' of"),
    ("    QR as SVG (segno), all", "residents/qr.py", "qr_svg"),
    ("      segno.make (encode, choose the mask)", "segno/__init__.py", "make"),
    ("        choosing the mask (8 tried)", "segno/encoder.py", "find_and_apply_best_mask"),
    ("      SVG writing", "segno/__init__.py", "svg_inline"),
    ("    latest antigen test (SELECT)", "django/db/models/query.py", "first", "home"),
    ("    render (template)", "django/shortcuts.py", "render"),
    ("SQL: Django cursor.execute, all", "django/db/backends/utils.py", "execute"),
    ("SQL: psycopg waiting for the server, all", "psycopg/connection.py", "wait"),
)


def _profile_requests(client, requests: list) -> dict:
    """Wall time per request, SQL statements and SQL time per request (execute_wrapper)."""
    from django.db import connection

    sql = {"n": 0, "s": 0.0}

    def wrapper(execute, statement, params, many, context):
        tick = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            sql["n"] += 1
            sql["s"] += time.perf_counter() - tick

    walls = []
    statuses: dict[int, int] = {}
    with connection.execute_wrapper(wrapper):
        for call in requests:
            tick = time.perf_counter()
            response = call(client)
            walls.append(time.perf_counter() - tick)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    walls.sort()
    n = len(walls)
    return {
        "requests": n,
        "statuses": statuses,
        "mean_ms": 1000 * sum(walls) / n,
        "p50_ms": 1000 * walls[n // 2],
        "p99_ms": 1000 * walls[min(n - 1, int(n * 0.99))],
        "sql_per_request": sql["n"] / n,
        "sql_ms_per_request": 1000 * sql["s"] / n,
        "per_s_one_thread": n / sum(walls),
    }


def _profile_of(client, requests: list, parts) -> dict:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for call in requests:
        call(client)
    profiler.disable()
    stats = pstats.Stats(profiler)
    n = len(requests)
    total = sum(v[2] for v in stats.stats.values())  # own time of everything
    top = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:25]

    def where(key) -> str:
        file, line, name = key
        short = file.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
        return f"{short}:{line} {name}" if file != "~" else name

    measured = {}
    for label, file, name, *caller in parts:
        found = []
        for k, v in stats.stats.items():
            if (k[0] == file if file == "~" else k[0].endswith(file)) and k[2].startswith(name):
                if caller:  # only the calls made by this function (v[4]: callers)
                    found.append(sum(c[3] for ck, c in v[4].items() if ck[2] == caller[0]))
                else:
                    found.append(v[3])
        if found:  # the outermost match is the largest
            measured[label] = 1000 * max(found) / n
    return {
        "profiled_ms_per_request": 1000 * total / n,
        "top_own_time": [
            {
                "function": where(k),
                "calls_per_request": v[1] / n,
                "own_ms_per_request": 1000 * v[2] / n,
                "cumulative_ms_per_request": 1000 * v[3] / n,
            }
            for k, v in top
        ],
        "parts_ms_per_request": measured,
    }


def child_profile(args) -> dict:
    _django()
    from django.test import Client

    from fangkong.checkpoints.models import Checkpoint

    data = Path(args.data)
    tokens = data.joinpath("tokens.txt").read_text().split()
    sessions = data.joinpath("sessions.txt").read_text().split()
    checkpoint = Checkpoint.objects.order_by("-pk").first()
    # The device key is not stored; a staff-free bearer is what the gate sends, so the key
    # comes from the parent through the environment.
    key = os.environ["BENCH_DEVICE_KEY"]
    path = f"/api/checkpoints/{checkpoint.pk}/verify"

    def verify_call(i: int):
        body = json.dumps({"token": tokens[i % len(tokens)], "scan_id": str(uuid.uuid4())})
        return lambda c: c.post(
            path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
        )

    def page_call(i: int):
        session = sessions[i % len(sessions)]

        def call(c):
            c.cookies["sessionid"] = session
            return c.get("/r/")

        return call

    client = Client(HTTP_HOST="127.0.0.1")
    out = {}
    for name, make, n, parts in (
        ("verify", verify_call, args.profile, VERIFY_PARTS),
        ("page", page_call, args.profile_page, PAGE_PARTS),
    ):
        for i in range(100):  # warm: imports, caches, connection
            make(i)(client)
        timed = _profile_requests(client, [make(i) for i in range(n)])
        profiled = _profile_of(client, [make(n + i) for i in range(n)], parts)
        out[name] = {**timed, **profiled}
    return out


def _print_profile(profile: dict) -> None:
    for name, label in (("verify", "POST verify"), ("page", "GET /r/")):
        p = profile[name]
        print(
            f"\n{label}: {p['mean_ms']:.2f} ms a request on one thread (p50 {p['p50_ms']:.2f}, "
            f"p99 {p['p99_ms']:.2f}) = {p['per_s_one_thread']:,.0f} /s; "
            f"{p['sql_per_request']:.1f} SQL statements, {p['sql_ms_per_request']:.2f} ms in SQL; "
            f"statuses {p['statuses']}"
        )
        print(f"  under cProfile {p['profiled_ms_per_request']:.2f} ms a request; cumulative:")
        for part, ms in p["parts_ms_per_request"].items():
            print(f"    {part:<48} {ms:7.3f} ms")
        print("  top functions by own time (ms a request, calls a request):")
        for row in p["top_own_time"][:15]:
            print(
                f"    {row['own_ms_per_request']:7.3f}  ×{row['calls_per_request']:<6.1f} "
                f"{row['function']}"
            )


# -- parent -------------------------------------------------------------------------------------

CHILDREN = {"offline": child_offline, "setup": child_setup, "profile": child_profile}


def _run_child(phase: str, args, env: dict | None = None) -> dict:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        phase,
        "--residents",
        str(args.residents),
        "--tokens",
        str(args.tokens),
        "--tokens-http",
        str(args.tokens_http),
        "--sessions",
        str(args.sessions),
        "--seed",
        str(args.seed),
        "--repeat",
        str(args.repeat),
        "--processes",
        str(args.processes),
        "--profile",
        str(args.profile),
        "--profile-page",
        str(args.profile_page),
        "--data",
        str(args.data or ""),
    ]
    environment = dict(env) if env else {k: v for k, v in os.environ.items()}
    if phase == "profile":
        environment["BENCH_DEVICE_KEY"] = args.device_key
    process = subprocess.run(command, env=environment, capture_output=True, text=True, cwd=ROOT)
    if process.returncode != 0:
        sys.stderr.write(process.stdout[-5000:] + process.stderr[-20000:])
        raise SystemExit(f"child {phase} failed ({process.returncode})")
    return json.loads(process.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=20_000, help="demo city size")
    parser.add_argument("--duration", type=int, default=15, help="seconds of each wrk run")
    parser.add_argument(
        "--connections", default="16,64", help="wrk connection counts, comma-separated"
    )
    parser.add_argument(
        "--configs",
        default=DEFAULT_CONFIGS,
        help="gunicorn configurations, comma-separated: conf (deploy/gunicorn.conf.py as it "
        "is) or class:workers[xthreads], e.g. sync:5, gthread:4x4",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("FANGKONG_BENCH_PG_URL", PG_URL),
        help="a database on the server to use; the benchmark creates and drops its own",
    )
    parser.add_argument("--skip-http", action="store_true", help="in-process part only")
    parser.add_argument("--skip-offline", action="store_true", help="HTTP part only")
    parser.add_argument("--tokens", type=int, default=20_000, help="tokens for part 1")
    parser.add_argument("--tokens-http", type=int, default=2_000, help="tokens for the server")
    parser.add_argument("--sessions", type=int, default=5_000, help="resident sessions")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each in-process timing")
    parser.add_argument("--exact", type=int, default=2_000, help="scans of the exact check")
    parser.add_argument("--profile", type=int, default=2_000, help="verify requests profiled")
    parser.add_argument(
        "--profile-page", type=int, default=500, help="code pages profiled (≈ 0.1 s each)"
    )
    parser.add_argument("--skip-profile", action="store_true", help="no part 3")
    parser.add_argument("--seed", type=int, default=20220421)
    parser.add_argument("--keep", action="store_true", help="keep the database and the files")
    parser.add_argument("--verbose", action="store_true", help="print wrk's own output")
    parser.add_argument("--json", help="write every figure here")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = CHILDREN[args.child](args)
        print(json.dumps(result, ensure_ascii=False, default=str))
        return
    args.connections = [int(c) for c in args.connections.split(",") if c]
    args.configs = [c for c in args.configs.split(",") if c]
    args.secret_key = secrets.token_urlsafe(48)

    out: dict = {
        "started": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}",
        "load_start": _load(),
        "targets": TARGETS,
        "options": {
            k: v for k, v in vars(args).items() if k not in ("secret_key", "child", "data")
        },
    }
    print(f"{out['started']} on {out['machine']}; load average {out['load_start']}")
    args.data = Path(tempfile.mkdtemp(prefix="fangkong-bench-verify-"))
    try:
        if not args.skip_offline:
            part_offline(args, out)
        if not args.skip_http:
            part_http(args, out)
    finally:
        if args.keep:
            print(f"kept: {args.data} and database {BENCH_DB}")
        else:
            shutil.rmtree(args.data, ignore_errors=True)
    out["load_end"] = _load()
    print(f"\nload average at the end: {out['load_end']}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=1, default=str))


if __name__ == "__main__":
    main()
