"""Ingestion benchmark on the synthetic demo city.

    .venv/bin/python bench/ingest.py [--residents 1000000] [--db sqlite|postgres|both]
                                     [--at-once N]

1. A child process generates the city (fangkong.demo.city) and writes its CSV files.
2. For each database, a fresh child process loads them through `do_ingest`, kind by kind, into
   a fresh database (SQLite: a file in a temporary FANGKONG_DATA_DIR; PostgreSQL: a database
   created for the run and dropped after it), and reports rows/s, where the time went and its
   peak memory (ru_maxrss). With `--at-once N`, the samplings and the results are each split
   into N files that N processes load at the same moment (uploads from several sites and labs
   at once): their merges take turns (fangkong.codes.locks), the rest runs side by side.
3. As a reference only, DuckDB and Polars parse the same samplings CSV (parse, no checks, no
   database) and the ratios to our full ingestion are printed.

See bench/README.md; figures measured so far are in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from common import (
    Profiler,
    add_pg_url,
    child_main,
    create_database,
    drop_database,
    machine,
    parse,
    peak_mb,
    rate,
    run_child,
    setup_django,
    write_json,
)

TARGETS = {"sqlite": 200_000, "postgresql": 500_000}  # rows/s for samplings and results
TARGETED = ("samplings", "results")
KINDS = ("residents", "samplings", "results", "designations", "presence")
BENCH_DB = f"fangkong_bench_{os.getpid()}"  # runs at once do not collide


# -- children -----------------------------------------------------------------------------------


def child_generate(args) -> dict:
    """Generate the city and write its files; time generation and writing apart."""
    setup_django()
    from fangkong.demo.build import write_block
    from fangkong.demo.city import city_blocks
    from fangkong.demo.geography import load_geography

    folder = Path(args.files)
    geo = load_geography()
    generate = write = 0.0
    rows: dict[str, int] = defaultdict(int)
    files: list[tuple[str, str]] = []
    blocks = city_blocks(args.residents, args.seed, geo=geo)
    while True:
        tick = time.perf_counter()
        block = next(blocks, None)
        tock = time.perf_counter()
        generate += tock - tick
        if block is None:
            break
        for kind, table in block.tables.items():
            rows[kind] += table.num_rows
        files += [(kind, str(path)) for kind, path in write_block(block, folder)]
        write += time.perf_counter() - tock
        del block
    size = sum(Path(p).stat().st_size for _, p in files)
    return {
        "generate_s": generate,
        "write_s": write,
        "rows": dict(rows),
        "files": files,
        "bytes": size,
        "peak_mb": peak_mb(),
    }


class IngestProfiler(Profiler):
    """The profiler, and the CSV reader timed: the chunk iterator that open_file hands over."""

    def __init__(self) -> None:
        super().__init__(lambda sql, many: " ".join(sql.split()[:4])[:60])

    def wrap_chunks(self, module) -> None:
        original = module.open_file

        def open_file(*a, **k):
            opened = original(*a, **k)
            chunks = opened.chunks

            def timed():
                while True:
                    tick = time.perf_counter()
                    try:
                        chunk = next(chunks)
                    except StopIteration:
                        self.seconds["read CSV (Arrow)"] += time.perf_counter() - tick
                        return
                    self.seconds["read CSV (Arrow)"] += time.perf_counter() - tick
                    yield chunk

            opened.chunks = timed()
            return opened

        module.open_file = open_file


def child_load(args) -> dict:
    """Load the files into a fresh database, kind by kind, with a time breakdown."""
    setup_django()
    from django.core.management import call_command
    from django.db import connections

    from fangkong.demo.build import create_sites
    from fangkong.demo.geography import load_geography
    from fangkong.ingest import actions, merge
    from fangkong.places.loading import load_divisions

    connection = connections["default"]
    call_command("migrate", verbosity=0, interactive=False)
    load_divisions()
    create_sites(load_geography())
    timers = IngestProfiler()
    timers.wrap_chunks(actions)
    timers.wrap(actions, "check_chunk", "validate (Arrow/numpy)")
    timers.wrap(merge.Merger, "_prepass", "merge: in-file repeats (Arrow)")
    timers.wrap(merge.Merger, "_load", "merge: stage rows (COPY / executemany)")
    timers.wrap(merge.Merger, "merge_chunk", "merge: total")
    timers.wrap(merge.Merger, "_mark_pending", "merge: mark people pending")
    timers.wrap(actions, "_store_flags", "store flags")
    timers.wrap(actions, "_count_chunk", "batch counts + audit entry, per chunk")
    timers.wrap(actions, "_recode", "re-evaluate pending people")
    timers.wrap(connection, "commit", "commit")
    files = json.loads(Path(args.manifest).read_text())["files"]
    results = {}
    for kind in KINDS:
        paths = [p for k, p in files if k == kind]
        if args.at_once > 1 and kind in TARGETED:
            results[kind] = _load_at_once(args, kind, paths)
            continue
        rows = inserted = rejected = 0
        tick = time.perf_counter()
        with connection.execute_wrapper(timers.statement):
            for path in paths:
                report = actions.do_ingest(kind, path=path, source="bench")
                if report.failure:
                    raise SystemExit(f"{path}: {report.failure}")
                rows += report.rows
                inserted += report.inserted
                rejected += report.rejected
        seconds = time.perf_counter() - tick
        results[kind] = {
            "rows": rows,
            "inserted": inserted,
            "rejected": rejected,
            "seconds": seconds,
            **timers.take(),
        }
    return {"vendor": connection.vendor, "kinds": results, "peak_mb": peak_mb()}


def _load_at_once(args, kind: str, paths: list[str]) -> dict:
    """Split the files of `kind` into `--at-once` parts and load them in as many processes
    released together; the wall time is from their release to the last one's end."""
    import subprocess

    header, lines = None, []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            header = fh.readline()
            lines += fh.readlines()
    folder = Path(tempfile.mkdtemp(prefix=f"at-once-{kind}-"))
    go = folder / "go"
    size = -(-len(lines) // args.at_once)
    children = []
    for part in range(args.at_once):
        path = folder / f"{kind}-{part}.csv"
        path.write_text(header + "".join(lines[part * size : (part + 1) * size]), encoding="utf-8")
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(args.script),
                    *args.argv,
                    "--child",
                    "load-part",
                    "--part",
                    f"{kind}:{path}:{go}",
                ],
                stdout=subprocess.PIPE,
                text=True,
                cwd=Path(args.script).parent.parent,
            )
        )
    del lines
    time.sleep(5)  # every child has set Django up and waits for `go`
    tick = time.perf_counter()
    go.write_text("go")
    reports = [json.loads(c.communicate()[0].strip().splitlines()[-1]) for c in children]
    seconds = time.perf_counter() - tick
    shutil.rmtree(folder, ignore_errors=True)
    if any(c.returncode for c in children) or any(r["failure"] for r in reports):
        raise SystemExit(f"{kind}: a part failed: {reports}")
    total = {k: sum(r[k] for r in reports) for k in ("rows", "inserted", "rejected")}
    return {**total, "seconds": seconds, "processes": args.at_once, "phases": {}, "sql": {}}


def child_load_part(args) -> dict:
    """One of the processes of `_load_at_once`: wait for the go-ahead, load one part."""
    setup_django()
    from fangkong.ingest.actions import do_ingest

    kind, path, go = args.part.split(":")
    while not Path(go).exists():
        time.sleep(0.01)
    return do_ingest(kind, path=path, source="bench").to_dict()


def child_reference(args) -> dict:
    """Parse-only reference: DuckDB and Polars reading the same samplings CSV as text."""
    import duckdb
    import polars as pl

    files = [p for k, p in json.loads(Path(args.manifest).read_text())["files"] if k == "samplings"]
    out = {}
    tick = time.perf_counter()
    con = duckdb.connect()
    for path in files:
        con.execute(
            f"CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv('{path}', "  # noqa: S608
            "all_varchar = true, header = true)"
        )
    out["duckdb_s"] = time.perf_counter() - tick
    tick = time.perf_counter()
    for path in files:
        pl.read_csv(path, infer_schema=False)
    out["polars_s"] = time.perf_counter() - tick
    return out


# -- parent -------------------------------------------------------------------------------------


def _report_load(name: str, load: dict) -> list[str]:
    lines = [
        f"\n## {name}  (peak memory of the loading process: {load['peak_mb']:,.0f} MB)",
        "",
        "| kind | rows | seconds | rows/s | target |",
        "|---|---:|---:|---:|---|",
    ]
    target = TARGETS[load["vendor"]]
    for kind, k in load["kinds"].items():
        verdict = ""
        if kind in TARGETED:
            met = k["rows"] / k["seconds"] >= target if k["seconds"] else False
            verdict = f"≥ {target:,}: {'met' if met else 'MISSED'}"
        lines.append(
            f"| {kind} | {k['rows']:,} | {k['seconds']:.2f} | "
            f"{rate(k['rows'], k['seconds'])} | {verdict} |"
        )
        if k["rejected"]:
            lines.append(f"|   ⚠ rejected rows | {k['rejected']:,} | | | |")
    for kind in ("residents", "samplings", "results"):
        k = load["kinds"][kind]
        if k.get("processes"):
            lines += [
                "",
                f"**{kind}**: {k['processes']} processes at once, each a part of the rows.",
            ]
            continue
        lines += ["", f"Where the time of **{kind}** went ({k['seconds']:.2f} s):", ""]
        phases = dict(k["phases"])
        merge_total = phases.pop("merge: total", 0.0)
        inner = sum(v for p, v in phases.items() if p.startswith("merge: "))
        parts = [(p, v) for p, v in phases.items()]
        parts.append(("merge: SQL (resolve, classify, insert)", merge_total - inner))
        parts.append(
            ("other (batch, audit, row errors, …)", k["seconds"] - sum(v for _, v in parts))
        )
        for phase, seconds in sorted(parts, key=lambda pv: -pv[1]):
            share = seconds / k["seconds"] * 100 if k["seconds"] else 0
            lines.append(f"- {phase}: {seconds:.2f} s ({share:.0f}%)")
        top = sorted(k["sql"].items(), key=lambda kv: -kv[1])[:6]
        if top:
            lines.append("- slowest SQL statements (through Django's cursor):")
            for statement, seconds in top:
                lines.append(f"  - `{statement}…` × {k['sql_calls'][statement]}: {seconds:.2f} s")
    return lines


CHILDREN = {
    "generate": child_generate,
    "load": child_load,
    "load-part": child_load_part,
    "reference": child_reference,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20220421)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    add_pg_url(parser)
    parser.add_argument("--no-reference", action="store_true", help="skip DuckDB/Polars")
    parser.add_argument(
        "--at-once", type=int, default=1, help="load samplings and results in N processes at once"
    )
    parser.add_argument("--json", help="also write all figures to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    parser.add_argument("--manifest", help=argparse.SUPPRESS)
    parser.add_argument("--part", help=argparse.SUPPRESS)
    args = parse(parser, __file__, argv)
    if args.child:
        child_main(CHILDREN, args)
        return 0

    work = Path(tempfile.mkdtemp(prefix="fangkong-bench-"))
    figures: dict = {
        "residents": args.residents,
        "seed": args.seed,
        "machine": machine(),
        "load_before": os.getloadavg(),
    }
    try:
        files = work / "files"
        files.mkdir()
        print(f"生成演示城市 {args.residents:,} 人 …", file=sys.stderr)
        gen = run_child(args, "generate", "--files", str(files))
        manifest = work / "manifest.json"
        manifest.write_text(json.dumps(gen))
        figures["generate"] = gen
        loads = {}
        if args.db in ("sqlite", "both"):
            print("SQLite …", file=sys.stderr)
            data = work / "sqlite"
            data.mkdir()
            loads["SQLite"] = run_child(
                args,
                "load",
                "--manifest",
                str(manifest),
                env={"FANGKONG_DATA_DIR": str(data), "FANGKONG_DATABASE_URL": ""},
            )
        if args.db in ("postgres", "both"):
            print("PostgreSQL …", file=sys.stderr)
            url = create_database(args.pg_url, BENCH_DB)
            try:
                loads["PostgreSQL"] = run_child(
                    args, "load", "--manifest", str(manifest), env={"FANGKONG_DATABASE_URL": url}
                )
            finally:
                drop_database(args.pg_url, BENCH_DB)
        figures["loads"] = loads
        if not args.no_reference:
            print("DuckDB / Polars …", file=sys.stderr)
            figures["reference"] = run_child(args, "reference", "--manifest", str(manifest))
        figures["load_after"] = os.getloadavg()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = gen["rows"]
    total = sum(rows.values())
    lines = [
        f"# Ingestion benchmark: {args.residents:,} residents (seed {args.seed})",
        f"machine: {figures['machine']}; load average before/after: "
        f"{figures['load_before'][0]:.1f} / {figures['load_after'][0]:.1f}",
        "",
        f"Demo generation: {gen['generate_s']:.2f} s to generate, {gen['write_s']:.2f} s to write "
        f"{total:,} rows in {len(gen['files'])} CSV files ({gen['bytes'] / 1e6:,.0f} MB), "
        f"{total / (gen['generate_s'] + gen['write_s']):,.0f} rows/s; peak memory "
        f"{gen['peak_mb']:,.0f} MB.",
        "Rows: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()),
    ]
    for name, load in figures["loads"].items():
        lines += _report_load(name, load)
    if "reference" in figures:
        ref = figures["reference"]
        lines += [
            "",
            f"## Parse-only reference (not ingestion): samplings CSV, "
            f"{rows['samplings']:,} rows, all columns as text",
            "",
        ]
        lines.append(
            f"- DuckDB read_csv: {ref['duckdb_s']:.2f} s "
            f"({rate(rows['samplings'], ref['duckdb_s'])} rows/s)"
        )
        lines.append(
            f"- Polars read_csv: {ref['polars_s']:.2f} s "
            f"({rate(rows['samplings'], ref['polars_s'])} rows/s)"
        )
        for name, load in figures["loads"].items():
            ours = load["kinds"]["samplings"]["seconds"]
            lines.append(
                f"- our full ingestion on {name} (read, validate, stage, resolve, "
                f"insert) takes {ours / ref['duckdb_s']:.0f}× DuckDB's parse time and "
                f"{ours / ref['polars_s']:.0f}× Polars'"
            )
    print("\n".join(lines))
    write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
