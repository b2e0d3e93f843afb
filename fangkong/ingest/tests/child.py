"""A load or a recompute in a process of its own, for the tests of concurrent and interrupted
writers (fangkong.ingest.tests.processes starts it). It prints its report as JSON on its last
line.

    python -m fangkong.ingest.tests.child ingest KIND PATH --now T [options]
    python -m fangkong.ingest.tests.child recompute --now T [options]

The options only change *when* things happen, never what: wait for a go-ahead file before
starting (`--ready`, `--go`), dwell inside the merge after it has read what is committed
(`--dwell`), pause a recompute between loading the facts and writing the codes (`--paused`),
merge in pieces of a few rows (`--merge-rows`), or die by SIGKILL right after a number of
chunks have committed (`--die-after`).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path


def _wait_for(path: str | None, limit: float = 60.0) -> None:
    if not path:
        return
    deadline = time.monotonic() + limit
    while not Path(path).exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{path} never appeared")
        time.sleep(0.005)


def _touch(path: str | None) -> None:
    if path:
        Path(path).write_text(str(os.getpid()))


def _dwell_in_the_merge(seconds: float) -> None:
    """Stay a while between reading the committed state and writing: the window in which a
    concurrent load could slip in."""
    from fangkong.ingest.merge import Merger

    check = Merger._check

    def slow_check(self, cur):
        time.sleep(seconds)
        return check(self, cur)

    Merger._check = slow_check


def _pause_between_loading_and_writing(paused: str, go: str) -> None:
    from fangkong.codes import actions

    evaluate = actions.evaluate_batch

    def evaluate_later(*args, **kwargs):
        _touch(paused)
        _wait_for(go)
        return evaluate(*args, **kwargs)

    actions.evaluate_batch = evaluate_later


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["ingest", "recompute"])
    parser.add_argument("kind", nargs="?")
    parser.add_argument("path", nargs="?")
    parser.add_argument("--now", required=True)
    parser.add_argument("--ready", help="written once set up, before waiting for --go")
    parser.add_argument("--go", help="start once this file exists")
    parser.add_argument("--dwell", type=float, default=0.0)
    parser.add_argument("--paused", help="recompute: written once the facts are loaded")
    parser.add_argument("--resume", help="recompute: write the codes once this file exists")
    parser.add_argument("--merge-rows", type=int)
    parser.add_argument("--die-after", type=int, help="SIGKILL after this many chunks")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()
    from django.conf import settings

    if args.merge_rows:
        settings.INGEST_MERGE_ROWS = args.merge_rows
    if args.dwell:
        _dwell_in_the_merge(args.dwell)
    if args.paused:
        _pause_between_loading_and_writing(args.paused, args.resume)
    now = datetime.fromisoformat(args.now)
    _touch(args.ready)
    _wait_for(args.go)

    if args.command == "recompute":
        from fangkong.codes.actions import do_recompute

        outcome = do_recompute(now)
        print(json.dumps({"evaluated": outcome.evaluated, "changed": outcome.changed}))
        return 0

    from fangkong.ingest.actions import do_ingest

    chunks = 0

    def progress(rows: int) -> None:
        nonlocal chunks
        chunks += 1
        if args.die_after and chunks >= args.die_after:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    report = do_ingest(args.kind, path=args.path, now=now, progress=progress)
    print(json.dumps(report.to_dict(), ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
