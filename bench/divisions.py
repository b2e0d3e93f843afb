"""Loading the shipped divisions of 长春市 (`fangkong.places.loading.load_divisions`).

    .venv/bin/python bench/divisions.py [--db sqlite|postgres|both] [--repeat 5]

For each database, in a child process of its own and on a fresh database (SQLite: a file in a
temporary FANGKONG_DATA_DIR; PostgreSQL: a database created for the run and dropped after it):
`migrate`, then `load_divisions()` into the empty table, then `--repeat` times again over the
loaded table — what `fangkong demo`, `fangkong divisions load` and every test database do.
Reading and parsing the shipped files alone (`division_objects`) is timed apart. Target: a load
takes at most 2 s, first or again.

See bench/README.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import (
    add_pg_url,
    child_main,
    create_database,
    drop_database,
    load_average,
    machine,
    met,
    parse,
    run_child,
    runs_text,
    setup_django,
    timed,
    write_json,
)

TARGET_S = 2.0
BENCH_DB = "fangkong_bench_divisions"


def child_load(args) -> dict:
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from fangkong.places.loading import division_objects, load_divisions
    from fangkong.places.models import Division

    tick = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_s = time.perf_counter() - tick
    parse_s, objects = timed(division_objects, args.repeat)
    tick = time.perf_counter()
    rows = load_divisions()
    first_s = time.perf_counter() - tick
    again_s, _ = timed(load_divisions, args.repeat)
    return {
        "vendor": connection.vendor,
        "rows": rows,
        "current": sum(1 for d in objects if d.is_current),
        "in_table": Division.objects.count(),
        "migrate_s": migrate_s,
        "parse_s": parse_s,
        "first_s": first_s,
        "again_s": again_s,
    }


CHILDREN = {"load": child_load}


def _report(name: str, load: dict) -> list[str]:
    ok = max(load["first_s"], *load["again_s"]) <= TARGET_S
    return [
        f"{name} (migrate {load['migrate_s']:.1f} s; {load['in_table']:,} rows in the table):",
        f"  read and parse the files: {runs_text(load['parse_s'])}",
        f"  first load (empty table): {load['first_s']:.3f} s",
        f"  load again (loaded table): {runs_text(load['again_s'])}",
        f"  target every load ≤ {TARGET_S:.0f} s: {met(ok)}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    add_pg_url(parser)
    parser.add_argument("--repeat", type=int, default=5, help="loads over the loaded table")
    parser.add_argument("--json", help="also write all figures to this JSON file")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    args = parse(parser, __file__, argv)
    if args.child:
        child_main(CHILDREN, args)
        return 0

    figures: dict = {"machine": machine(), "load_before": load_average(), "loads": {}}
    loads = figures["loads"]
    if args.db in ("sqlite", "both"):
        print("SQLite …", file=sys.stderr)
        data = Path(tempfile.mkdtemp(prefix="fangkong-bench-divisions-"))
        try:
            env = {"FANGKONG_DATA_DIR": str(data), "FANGKONG_DATABASE_URL": ""}
            loads["SQLite"] = run_child(args, "load", env=env)
        finally:
            shutil.rmtree(data, ignore_errors=True)
    if args.db in ("postgres", "both"):
        print("PostgreSQL …", file=sys.stderr)
        url = create_database(args.pg_url, BENCH_DB)
        try:
            loads["PostgreSQL"] = run_child(args, "load", env={"FANGKONG_DATABASE_URL": url})
        finally:
            drop_database(args.pg_url, BENCH_DB)
    figures["load_after"] = load_average()

    rows = next(iter(loads.values()))["rows"] if loads else 0
    current = next(iter(loads.values()))["current"] if loads else 0
    lines = [
        f"# Loading the divisions of 长春市: {rows:,} rows ({current:,} current divisions, "
        f"{rows - current:,} historic codes)",
        f"machine: {figures['machine']}; load average before/after: "
        f"{figures['load_before']} / {figures['load_after']}",
    ]
    for name, load in loads.items():
        lines += ["", *_report(name, load)]
    print("\n".join(lines))
    write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
