"""Benchmarks of code verification: offline in-process, and the online endpoints over HTTP —
the code before the change and the current code in the same run.

    .venv/bin/python bench/verify.py --residents 5000 --duration 10 --json /tmp/verify.json
    .venv/bin/python bench/verify.py --skip-http                  # in-process only (≈ 1 min)
    .venv/bin/python bench/verify.py --residents 1000 --duration 3 --connections 16 \
        --skip-before --nodes 1 --skip-profile                    # a quick look

1. In-process (offline verifier, verify_offline): tokens signed with a fresh Ed25519 key,
   `tokens.verify` alone and followed by `gate_rules.check_code`, against the raw Ed25519
   verify of `cryptography` over the same inputs (the primitive: target ≥ 70 % of its rate).
2. HTTP (verify_http): a database of the benchmark's own with the demo city (verify_setup).
   For each `--configs` entry, gunicorn serves first the revision `--before` (exported with
   `git archive`, verify_before) and then the current code, straight, with the same database,
   settings and deploy/gunicorn.conf.py; wrk drives `POST /api/checkpoints/{id}/verify`,
   `GET /r/` and `GET /r/code.json` (when the code has it) at each of `--connections`, with
   CPU a request per tier (app, PostgreSQL, wrk, nginx) and the gate log checked after it
   settles (verify_gatelog). Then the current code behind nginx (verify_proxy, verify_nginx) on
   `--nodes` nodes, and verify at `--overload-factor` × its capacity with the admission guard
   on: served rate, waits from nginx's access log, 503s with Retry-After, every 2xx scan in the
   gate log exactly once.
3. Where the time goes (verify_profile): requests replayed through django.test.Client, timed
   and under cProfile.

The report ends with the targets, met or not, and a Markdown summary (verify_report).
Needs wrk and nginx (`apt-get install -y wrk nginx`) and gunicorn (requirements.txt).
Figures and their analysis: bench/README.md (section bench/verify.py).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import verify_http
import verify_offline
import verify_profile
import verify_report
import verify_setup
from common import add_pg_url, child_main, load_average, machine, parse, write_json
from verify_before import DEFAULT_REVISION

TARGETS = {"offline_verify_per_core": verify_offline.TARGET_PER_CORE, **verify_report.TARGETS}
# deploy/gunicorn.conf.py as it is; others (sync:5, gthread:4x4, …) on request: each costs
# about three minutes with the code before.
DEFAULT_CONFIGS = "conf"
CHILDREN = {
    "offline": verify_offline.child_offline,
    "setup": verify_setup.child_setup,
    "profile": verify_profile.child_profile,
}


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=5_000, help="demo city size")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
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
    parser.add_argument(
        "--before", default=DEFAULT_REVISION, help="the revision to compare with (git archive)"
    )
    parser.add_argument("--skip-before", action="store_true", help="the current code only")
    parser.add_argument(
        "--nodes", default="1,2", help="gunicorn nodes behind nginx, comma-separated ('' = none)"
    )
    parser.add_argument(
        "--max-conns",
        type=int,
        help="nginx max_conns of the node in the 3× run (default: twice its threads, as "
        "deploy/render_nginx.py)",
    )
    parser.add_argument(
        "--max-queue-seconds",
        type=float,
        help="FANGKONG_ADMISSION_MAX_QUEUE_SECONDS for the nodes (default: the app's own)",
    )
    parser.add_argument("--skip-overload", action="store_true", help="no run at 3× capacity")
    parser.add_argument("--overload-factor", type=float, default=3.0)
    parser.add_argument(
        "--overload-connections", type=int, default=512, help="wrk connections of the 3× run"
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
    parser.add_argument(
        "--session-store",
        choices=("db", "redis"),
        default="db",
        help="FANGKONG_SESSION_STORE of the servers (redis: FANGKONG_REDIS_URL or the local one)",
    )
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
    args.connections = _ints(args.connections)
    args.nodes = _ints(args.nodes)
    args.overload = not args.skip_overload
    args.configs = [c for c in args.configs.split(",") if c]
    if any(c.startswith("granian") for c in args.configs) and not shutil.which(
        "granian", path=str(Path(sys.executable).parent)
    ):
        raise SystemExit("granian is not installed in this environment (pip install granian)")
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
            print(f"kept: {args.data} and database {verify_setup.BENCH_DB}")
        else:
            shutil.rmtree(args.data, ignore_errors=True)
    out["load_end"] = load_average()
    out["targets_met"] = verify_report.targets(out)
    out["summary_md"] = verify_report.summary(out)
    print(f"\nload average at the end: {out['load_end']}\n\n{out['summary_md']}")
    write_json(args.json, out)


if __name__ == "__main__":
    main()
