"""Ingestion benchmark on the synthetic demo city.

    .venv/bin/python bench/ingest.py [--residents 1000000] [--db sqlite|postgres|both]

1. A child process generates the city (fangkong.demo.city) and writes its CSV files.
2. For each database, a fresh child process loads them through `do_ingest`, kind by kind, into
   a fresh database (SQLite: a file in a temporary FANGKONG_DATA_DIR; PostgreSQL: a database
   created for the run and dropped after it), and reports rows/s, where the time went and its
   peak memory (ru_maxrss).
3. As a reference only, DuckDB and Polars parse the same samplings CSV (parse, no checks, no
   database) and the ratios to our full ingestion are printed.

See bench/README.md; figures measured so far are in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"sqlite": 200_000, "postgresql": 500_000}  # rows/s for samplings and results
TARGETED = ("samplings", "results")
KINDS = ("residents", "samplings", "results", "designations", "presence")
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
BENCH_DB = "fangkong_bench"


# -- children -----------------------------------------------------------------------------------


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_generate(args) -> dict:
    """Generate the city and write its files; time generation and writing apart."""
    _django()
    from fangkong.demo.build import write_block
    from fangkong.demo.city import city_blocks, load_geography

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
        "peak_mb": _peak_mb(),
    }


class Timers:
    """Wall time spent inside named functions of the ingestion code (wrapped in place)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.sql: dict[str, float] = defaultdict(float)
        self.sql_calls: dict[str, int] = defaultdict(int)

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name, None)
        if original is None:
            return

        def timed(*a, **k):
            tick = time.perf_counter()
            try:
                return original(*a, **k)
            finally:
                self.seconds[label] += time.perf_counter() - tick

        setattr(owner, name, timed)

    def wrap_chunks(self, module) -> None:
        """Time the CSV reader: the chunk iterator that open_file hands over."""
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

    def statement(self, execute, sql, params, many, context):
        tick = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = " ".join(sql.split()[:4])[:60]
            self.sql[key] += time.perf_counter() - tick
            self.sql_calls[key] += 1

    def take(self) -> dict:
        out = {
            "phases": dict(self.seconds),
            "sql": dict(self.sql),
            "sql_calls": dict(self.sql_calls),
        }
        self.seconds.clear()
        self.sql.clear()
        self.sql_calls.clear()
        return out


def child_load(args) -> dict:
    """Load the files into a fresh database, kind by kind, with a time breakdown."""
    _django()
    from django.core.management import call_command
    from django.db import connections

    from fangkong.demo.build import create_sites
    from fangkong.demo.city import load_geography
    from fangkong.ingest import actions, merge
    from fangkong.places.loading import load_divisions

    connection = connections["default"]
    call_command("migrate", verbosity=0, interactive=False)
    load_divisions()
    create_sites(load_geography())
    timers = Timers()
    timers.wrap_chunks(actions)
    timers.wrap(actions, "check_chunk", "validate (Arrow/numpy)")
    timers.wrap(merge.Merger, "_prepass", "merge: in-file repeats (Arrow)")
    timers.wrap(merge.Merger, "_load", "merge: stage rows (COPY / executemany)")
    timers.wrap(merge.Merger, "merge_chunk", "merge: total")
    timers.wrap(actions, "_store_flags", "store flags")
    timers.wrap(connection, "commit", "commit")
    files = json.loads(Path(args.manifest).read_text())["files"]
    results = {}
    for kind in KINDS:
        paths = [p for k, p in files if k == kind]
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
    return {"vendor": connection.vendor, "kinds": results, "peak_mb": _peak_mb()}


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
            f"CREATE OR REPLACE TABLE t AS SELECT * FROM read_csv('{path}', "
            "all_varchar = true, header = true)"
        )
    out["duckdb_s"] = time.perf_counter() - tick
    tick = time.perf_counter()
    for path in files:
        pl.read_csv(path, infer_schema=False)
    out["polars_s"] = time.perf_counter() - tick
    return out


# -- parent -------------------------------------------------------------------------------------


def _run_child(phase: str, args, env: dict | None = None, extra: tuple[str, ...] = ()) -> dict:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        phase,
        "--residents",
        str(args.residents),
        "--seed",
        str(args.seed),
        *extra,
    ]
    process = subprocess.run(
        command, env={**os.environ, **(env or {})}, capture_output=True, text=True, cwd=ROOT
    )
    if process.returncode != 0:
        sys.stderr.write(process.stderr)
        raise SystemExit(f"child {phase} failed ({process.returncode})")
    return json.loads(process.stdout.strip().splitlines()[-1])


def _pg_admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def _pg_url(base: str, database: str) -> str:
    head, _, _ = base.rpartition("/")
    return f"{head}/{database}"


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"


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
            f"{_rate(k['rows'], k['seconds'])} | {verdict} |"
        )
        if k["rejected"]:
            lines.append(f"|   ⚠ rejected rows | {k['rejected']:,} | | | |")
    for kind in ("residents", "samplings", "results"):
        k = load["kinds"][kind]
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20220421)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("FANGKONG_BENCH_PG_URL", PG_URL),
        help="a PostgreSQL server to create the bench database on",
    )
    parser.add_argument("--no-reference", action="store_true", help="skip DuckDB/Polars")
    parser.add_argument("--json", help="also write all figures to this JSON file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    parser.add_argument("--manifest", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        run = {"generate": child_generate, "load": child_load, "reference": child_reference}
        print(json.dumps(run[args.child](args), ensure_ascii=False))
        return 0

    work = Path(tempfile.mkdtemp(prefix="fangkong-bench-"))
    figures: dict = {
        "residents": args.residents,
        "seed": args.seed,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "load_before": os.getloadavg(),
    }
    try:
        files = work / "files"
        files.mkdir()
        print(f"生成演示城市 {args.residents:,} 人 …", file=sys.stderr)
        gen = _run_child("generate", args, extra=("--files", str(files)))
        manifest = work / "manifest.json"
        manifest.write_text(json.dumps(gen))
        figures["generate"] = gen
        loads = {}
        if args.db in ("sqlite", "both"):
            print("SQLite …", file=sys.stderr)
            data = work / "sqlite"
            data.mkdir()
            loads["SQLite"] = _run_child(
                "load",
                args,
                env={"FANGKONG_DATA_DIR": str(data), "FANGKONG_DATABASE_URL": ""},
                extra=("--manifest", str(manifest)),
            )
        if args.db in ("postgres", "both"):
            print("PostgreSQL …", file=sys.stderr)
            admin = _pg_url(args.pg_url, "postgres")
            _pg_admin(admin, f"DROP DATABASE IF EXISTS {BENCH_DB}")
            _pg_admin(admin, f"CREATE DATABASE {BENCH_DB}")
            try:
                loads["PostgreSQL"] = _run_child(
                    "load",
                    args,
                    env={"FANGKONG_DATABASE_URL": _pg_url(args.pg_url, BENCH_DB)},
                    extra=("--manifest", str(manifest)),
                )
            finally:
                _pg_admin(admin, f"DROP DATABASE IF EXISTS {BENCH_DB}")
        figures["loads"] = loads
        if not args.no_reference:
            print("DuckDB / Polars …", file=sys.stderr)
            figures["reference"] = _run_child(
                "reference", args, extra=("--manifest", str(manifest))
            )
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
            f"({_rate(rows['samplings'], ref['duckdb_s'])} rows/s)"
        )
        lines.append(
            f"- Polars read_csv: {ref['polars_s']:.2f} s "
            f"({_rate(rows['samplings'], ref['polars_s'])} rows/s)"
        )
        for name, load in figures["loads"].items():
            ours = load["kinds"]["samplings"]["seconds"]
            lines.append(
                f"- our full ingestion on {name} (read, validate, stage, resolve, "
                f"insert) takes {ours / ref['duckdb_s']:.0f}× DuckDB's parse time and "
                f"{ours / ref['polars_s']:.0f}× Polars'"
            )
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
