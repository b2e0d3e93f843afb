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

The parts: `verify_offline` (1), `verify_http` (2) with `verify_server` (gunicorn, wrk, CPU
meters), `verify_profile` (3); `common` holds what every benchmark shares.

Needs wrk (`apt-get install -y wrk`) and gunicorn (requirements.txt) for part 2.
Figures and their analysis: bench/README.md (section bench/verify.py).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import verify_http
import verify_offline
import verify_profile
from common import add_pg_url, child_main, load_average, machine, parse, write_json

TARGETS = {"offline_verify_per_core": verify_offline.TARGET_PER_CORE, **verify_http.TARGETS}
# The candidates tried when --configs is not given: deploy/gunicorn.conf.py as it is ("conf":
# gthread, 2×cores+1 processes of 2 threads), sync workers at the classic 2×cores+1, and fewer
# processes with more threads.
DEFAULT_CONFIGS = "conf,sync:5,gthread:2x8,gthread:4x4"
CHILDREN = {
    "offline": verify_offline.child_offline,
    "setup": verify_http.child_setup,
    "profile": verify_profile.child_profile,
}


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
    add_pg_url(parser)
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
    args = parse(parser, __file__)
    if args.child:
        child_main(CHILDREN, args)
        return
    args.connections = [int(c) for c in args.connections.split(",") if c]
    args.configs = [c for c in args.configs.split(",") if c]
    args.secret_key = secrets.token_urlsafe(48)

    out: dict = {
        "started": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "load_start": load_average(),
        "targets": TARGETS,
        "options": {
            k: v
            for k, v in vars(args).items()
            if k not in ("secret_key", "child", "data", "script", "argv")
        },
    }
    print(f"{out['started']} on {out['machine']}; load average {out['load_start']}")
    args.data = Path(tempfile.mkdtemp(prefix="fangkong-bench-verify-"))
    try:
        if not args.skip_offline:
            verify_offline.part_offline(args, out)
        if not args.skip_http:
            verify_http.part_http(args, out)
    finally:
        if args.keep:
            print(f"kept: {args.data} and database {verify_http.BENCH_DB}")
        else:
            shutil.rmtree(args.data, ignore_errors=True)
    out["load_end"] = load_average()
    print(f"\nload average at the end: {out['load_end']}")
    write_json(args.json, out)


if __name__ == "__main__":
    main()
