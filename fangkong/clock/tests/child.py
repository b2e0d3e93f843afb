"""A sweep or the worker in a process of its own, for the tests of sweeps at once and of a
worker killed (fangkong.clock.tests.test_worker_processes starts it).

    python -m fangkong.clock.tests.child sweep --at T [--go FILE] [--paused FILE --resume FILE]
    python -m fangkong.clock.tests.child worker [--started FILE] [--paused FILE --resume FILE]

The options only change *when* things happen: start once a file exists (`--go`), or stop inside
the transaction of the first instant applied, its codes written but not committed, until a file
exists (`--paused`, `--resume`: a resume file that never comes makes a process to kill there).
A sweep prints what it applied as JSON on its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import datetime
from pathlib import Path


def _wait_for(path: str | None, limit: float = 120.0) -> None:
    if not path:
        return
    deadline = time.monotonic() + limit
    while not Path(path).exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{path} never appeared")
        time.sleep(0.005)


def _pause_inside_the_first_instant(paused: str, resume: str | None) -> None:
    from fangkong.clock import actions

    apply = actions._apply

    def apply_then_wait(*args, **kwargs):
        applied = apply(*args, **kwargs)
        if not Path(paused).exists():
            Path(paused).write_text(str(os.getpid()))
            if resume is None:  # to be killed here
                time.sleep(600.0)
            _wait_for(resume, limit=600.0)
        return applied

    actions._apply = apply_then_wait


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["sweep", "worker"])
    parser.add_argument("--at")
    parser.add_argument("--go")
    parser.add_argument("--paused")
    parser.add_argument("--resume")
    parser.add_argument("--started", help="worker: written just before it starts")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()
    if args.paused:
        _pause_inside_the_first_instant(args.paused, args.resume)
    _wait_for(args.go)
    if args.command == "worker":
        from fangkong.cli import build_parser

        if args.started:
            Path(args.started).write_text(str(os.getpid()))
        parsed = build_parser().parse_args(["worker", "--interval", "0.2", "--verbosity", "0"])
        return parsed.func(parsed)
    from fangkong.clock.actions import do_sweep

    sweep = do_sweep(datetime.fromisoformat(args.at))
    print(json.dumps({"applied": [a.as_dict() for a in sweep.applied]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
