"""What the benchmarks share: each phase in a child process of its own, a PostgreSQL database of
their own, timing, the machine and its load, and printing figures.

A benchmark script parses its options with `parse`; `run_child(args, phase)` runs the same
script again with the same options and `--child phase` in a fresh process (settings load
cleanly, the peak memory is the phase's own) and returns the JSON the child printed last, which
`child_main` prints.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the project, whatever the working directory

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


# -- the parent and its children ----------------------------------------------------------------


def add_pg_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("FANGKONG_BENCH_PG_URL", PG_URL),
        help="a database on the server to use; the benchmark creates and drops its own",
    )


def parse(parser: argparse.ArgumentParser, script: str, argv: list[str] | None = None):
    """Parse the options; remember the script and its command line for `run_child`."""
    args = parser.parse_args(argv)
    args.script = Path(script).resolve()
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args


def run_child(args, phase: str, *extra: str, env: dict | None = None, inherit: bool = True):
    """The script again, with the parent's options, `--child phase` and `extra`; `env` is added
    to the parent's environment (or is the whole environment when `inherit` is false)."""
    command = [sys.executable, str(args.script), *args.argv, "--child", phase, *extra]
    environment = dict(os.environ) if inherit else {}
    environment.update(env or {})
    process = subprocess.run(command, env=environment, capture_output=True, text=True, cwd=ROOT)
    if process.returncode != 0:
        sys.stderr.write(process.stdout[-5000:] + process.stderr[-20000:])
        raise SystemExit(f"child {phase} failed ({process.returncode})")
    return json.loads(process.stdout.strip().splitlines()[-1])


def child_main(children: dict[str, Callable], args) -> None:
    print(json.dumps(children[args.child](args), ensure_ascii=False, default=str))


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()


# -- a PostgreSQL database of the benchmark's own -----------------------------------------------


def pg_url(base: str, database: str) -> str:
    """The URL of `database` on the server of `base`."""
    return f"{base.rpartition('/')[0]}/{database}"


def pg_admin(base: str, *statements: str) -> None:
    """Run statements through the server's `postgres` maintenance database (CREATE and DROP
    DATABASE cannot run inside the database they name, nor in a transaction)."""
    import psycopg

    with psycopg.connect(pg_url(base, "postgres"), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def create_database(base: str, name: str, template: str | None = None) -> str:
    """A fresh database `name` (dropped first if a run left it behind); returns its URL."""
    create = f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")
    pg_admin(base, f"DROP DATABASE IF EXISTS {name}", create)
    return pg_url(base, name)


def drop_database(base: str, name: str) -> None:
    pg_admin(base, f"DROP DATABASE IF EXISTS {name}")


# -- the machine --------------------------------------------------------------------------------


def machine() -> str:
    return (
        f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}"
    )


def load_average() -> str:
    """The 1, 5 and 15-minute load averages: wall-clock figures are worth what the load was."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def peak_mb() -> float:
    """This process's peak resident memory (ru_maxrss), in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_gb() -> float:
    return peak_mb() / 1024


def rss_gb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


# -- timing and printing ------------------------------------------------------------------------


def timed(function: Callable, repeat: int) -> tuple[list[float], object]:
    """Seconds of each of `repeat` runs, and what the last one returned."""
    times, out = [], None
    for _ in range(repeat):
        tick = time.perf_counter()
        out = function()
        times.append(time.perf_counter() - tick)
    return times, out


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def runs_text(times: list[float]) -> str:
    return f"{median(times):.3f} s (runs: {', '.join(f'{t:.3f}' for t in times)})"


def parts_text(seconds: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in seconds.items())


def write_json(path: str | None, figures: dict) -> None:
    """Every figure, for `--json PATH` (nothing without a path)."""
    if path:
        Path(path).write_text(json.dumps(figures, ensure_ascii=False, indent=1, default=str))


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"


class Profiler:
    """Wall time inside named functions (wrapped in place: the code itself is not changed) and
    inside SQL statements (Django's execute_wrapper), grouped by `sql_key`."""

    def __init__(self, sql_key: Callable[[str, bool], str]) -> None:
        self.sql_key = sql_key
        self.seconds: dict[str, float] = defaultdict(float)
        self.sql: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name, None)
        if original is None:  # gone from the code: the phase is simply not measured
            return

        def timed(*a, **k):
            tick = time.perf_counter()
            try:
                return original(*a, **k)
            finally:
                self.seconds[label] += time.perf_counter() - tick

        setattr(owner, name, timed)

    def statement(self, execute, sql, params, many, context):
        tick = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = self.sql_key(sql, many)
            self.sql[key] += time.perf_counter() - tick
            self.calls[key] += 1

    def take(self) -> dict:
        """What was measured since the last take."""
        out = {"phases": dict(self.seconds), "sql": dict(self.sql), "sql_calls": dict(self.calls)}
        self.seconds.clear()
        self.sql.clear()
        self.calls.clear()
        return out
