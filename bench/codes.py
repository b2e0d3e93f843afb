"""Benchmarks of the health-code engine.

    .venv/bin/python bench/codes.py [--people 10000000] [--db-people 1000000] [--skip-db]

Every part runs in its own child process (fresh settings, its own peak memory):

1. kernel: a synthetic 长春 of `--people` residents is built as numpy `Columns` (real level-5
   community codes, ~2.7 samplings a person in 10-in-1 / 20-in-1 / single tubes over 20–24 April
   2022, results per tube, pooled positives with single-tube retests, invalid tubes resampled,
   corrections, presence records, contacts, exemptions) and saved to .npy files. `evaluate_batch`
   runs on the seed rule alone and on the seed rule + the standard rules.
   DuckDB and Polars compute the seed rule's colours over the same arrays (zero-copy Arrow /
   DataFrames, both threads), each in two formulations — "plain" (every condition over everyone)
   and "restricted" (the clear looked for only among people the trigger holds for, as the kernel
   does) — and DuckDB's restricted one again on one thread; every result must be exactly the
   kernel's colours. Ratios are to the kernel's median (5 runs, `--kernel-repeat`).
2. preview: `fangkong.policies.actions.preview` over the in-memory columns (its database reads,
   `draft`, `published_policies` and `load_population`, are replaced by the in-memory objects),
   i.e. two `evaluate_batch` and the per-county comparison.
3. peak memory (ru_maxrss) of the kernel child, which holds the 10 M columns.
4. end to end on SQLite and PostgreSQL: a fresh database, the demo city
   (`fangkong.demo.build.build_demo`, loaded through `do_ingest` as of 2022-04-23 00:00+08:00),
   the standard rules published, then — on a copy of that database, `--repeat` times — the seed
   rule published with `do_publish` (Outcome.seconds: load / evaluate / write) and `do_recompute`
   with nothing changed.
5. incremental: after the publish, 200 negative single-tube results of yellow people, one
   `do_ingest(rows=[…])` each, timed from call to return, the code checked green; where the time
   goes (checks, merge, audit, re-evaluation: load / evaluate / write, SQL statements).

The parts: `codes_city` (the synthetic city), `codes_kernel` (1–3), `codes_engines` (DuckDB and
Polars), `codes_db` (4–5); `common` holds what every benchmark shares.

Figures and their analysis: the second part of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime

import codes_db
import codes_engines
import codes_kernel
from common import add_pg_url, child_main, load_average, machine, parse, write_json

CHILDREN = {
    "synth": codes_kernel.child_synth,
    "kernel": codes_kernel.child_kernel,
    "duckdb": codes_engines.child_duckdb,
    "polars": codes_engines.child_polars,
    "db-build": codes_db.child_db_build,
    "db-run": codes_db.child_db_run,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000_000)
    parser.add_argument("--db-people", type=int, default=1_000_000)
    parser.add_argument("--skip-db", action="store_true")
    parser.add_argument("--skip-kernel", action="store_true")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    add_pg_url(parser)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement")
    parser.add_argument("--kernel-repeat", type=int, default=5, help="runs of evaluate_batch")
    parser.add_argument("--recomputes", type=int, default=2, help="do_recompute per DB run")
    parser.add_argument("--incremental", type=int, default=200, help="results, one at a time")
    parser.add_argument("--skip-engines", default="", help="duckdb,polars: leave out")
    parser.add_argument("--seed", type=int, default=20220421)
    parser.add_argument("--workdir", default=None, help="for the temporary files")
    parser.add_argument("--keep", action="store_true", help="keep temporary data")
    parser.add_argument("--json", help="write every figure here")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parse(parser, __file__)
    if args.child:
        child_main(CHILDREN, args)
        return
    # The children use the databases the benchmark creates, never the caller's.
    os.environ.pop("FANGKONG_DATABASE_URL", None)

    out: dict = {
        "started": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "load_start": load_average(),
    }
    print(f"{out['started']} on {out['machine']}; load average {out['load_start']}")
    if not args.skip_kernel:
        codes_kernel.part_kernel(args, out)
    if not args.skip_db:
        vendors = (
            ("sqlite", "postgresql")
            if args.db == "both"
            else (args.db.replace("postgres", "postgresql"),)
        )
        for vendor in vendors:
            codes_db.part_db(args, vendor, out)
    out["load_end"] = load_average()
    print(f"\nload average at the end: {out['load_end']}")
    write_json(args.json, out)


if __name__ == "__main__":
    main()
