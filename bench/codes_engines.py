"""The seed rule computed by general engines, for comparison with the batch kernel: DuckDB (SQL)
and Polars (lazy frames), each in two formulations — "plain", every condition over everyone as
the rule reads, and "restricted", the clear looked for only among people the trigger holds for,
as the kernel does. Each child checks its yellow people against the kernel's, person by person.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from codes_city import T0, WHEN, load, policies, us
from common import median, peak_gb, timed


def seed_parameters(seed) -> dict:
    """What the general engines need of the seed rule: its window, start, clear and scope."""
    from fangkong.engine.policies import _prefix

    start = us(seed.starts_at)
    until = us(seed.trigger.end)
    (clear,) = seed.clears
    assert clear.type == "negative_after" and not clear.after_trigger
    return {
        "begin": us(seed.trigger.start),
        "until": until,
        "fires_at": max(until, start),
        "after": us(clear.after),
        "include": [_prefix(c) for c in seed.scope.include],
        "exclude": [_prefix(c) for c in seed.scope.exclude],
        "policy": seed.id,
    }


def _sql_scope(code: str, digits: str | None, q: dict) -> str:
    """SQL: `code` (with `digits` digits, 12 if None) is in the rule's scope."""

    def starts(prefix: str) -> str:
        size = len(prefix)
        if digits is None:
            return f"({code} // {10 ** (12 - size)} = {prefix})"
        return (
            f"({digits} >= {size} AND {code} // CAST(pow(10, greatest({digits} - {size}, 0)) "
            f"AS BIGINT) = {prefix})"
        )

    include = " OR ".join(starts(p) for p in q["include"])
    exclude = " OR ".join(starts(p) for p in q["exclude"]) or "FALSE"
    return f"(({include}) AND NOT ({exclude}))"


def duckdb_seed_sql(q: dict, now: int, *, restricted: bool = False) -> str:
    """The seed rule's yellow people in SQL. Plain: each condition over everyone, as the rule
    reads. Restricted: the clear only looked for among people the trigger holds for (as the
    kernel does), which halves DuckDB's time."""
    if q["fires_at"] > now:
        return "SELECT person FROM people WHERE FALSE"
    known_s = f"""known_s AS (
    SELECT s_person, s_tube, s_sampled_at FROM samplings
    WHERE s_recorded_at <= {now} AND s_superseded_at > {now})"""  # noqa: S608
    present = f"""present AS (
    SELECT p_person AS person FROM presences
    WHERE p_recorded_at <= {now} AND p_start < {q["until"]} AND p_end >= {q["begin"]}
      AND {_sql_scope("p_region", "p_region_digits", q)})"""  # noqa: S608
    exempt = f"""exempt AS (
    SELECT e_person AS person FROM exemptions
    WHERE e_policy = '{q["policy"]}' AND e_approved_at <= {now} AND e_revoked_at > {now})"""  # noqa: S608
    corrected = f"""corrected AS (
    SELECT DISTINCT r_supersedes AS r_id FROM results
    WHERE r_recorded_at <= {now} AND r_supersedes >= 0)"""  # noqa: S608
    standing = """standing AS (
    SELECT r_tube AS tube,
           arg_max(r_result, {'at': r_recorded_at, 'id': r_id}) AS result,
           arg_max(r_reported_at, {'at': r_recorded_at, 'id': r_id}) AS reported
    FROM known_r ANTI JOIN corrected USING (r_id)
    GROUP BY r_tube)"""
    in_population = (
        f"registered_at <= {now} "  # noqa: S608
        f"AND ({_sql_scope('community', None, q)} OR person IN (SELECT person FROM present))"
    )
    if not restricted:
        return f"""
WITH {known_s}, {present}, {exempt}, {corrected},
known_r AS (SELECT * FROM results WHERE r_recorded_at <= {now}),
{standing},
sampled AS (
    SELECT DISTINCT s_person AS person FROM known_s
    WHERE s_sampled_at >= {q["begin"]} AND s_sampled_at < {q["until"]}),
cleared AS (
    SELECT DISTINCT s_person AS person FROM known_s JOIN standing ON standing.tube = s_tube
    WHERE s_sampled_at >= {q["after"]} AND standing.result = 0 AND standing.reported <= {now})
SELECT person FROM people
WHERE {in_population}
  AND person NOT IN (SELECT person FROM sampled)
  AND person NOT IN (SELECT person FROM cleared)
  AND person NOT IN (SELECT person FROM exempt)
"""  # noqa: S608
    return f"""
WITH {known_s}, {present}, {exempt}, {corrected},
candidates AS (
    SELECT person FROM people
    WHERE {in_population}
      AND NOT EXISTS (SELECT 1 FROM known_s WHERE s_person = person
                      AND s_sampled_at >= {q["begin"]} AND s_sampled_at < {q["until"]})),
later AS (
    SELECT s_person, s_tube FROM known_s SEMI JOIN candidates ON candidates.person = s_person
    WHERE s_sampled_at >= {q["after"]}),
known_r AS (
    SELECT * FROM results
    WHERE r_recorded_at <= {now} AND r_tube IN (SELECT s_tube FROM later)),
{standing},
cleared AS (
    SELECT s_person AS person FROM later JOIN standing ON standing.tube = s_tube
    WHERE standing.result = 0 AND standing.reported <= {now})
SELECT person FROM candidates
WHERE person NOT IN (SELECT person FROM cleared) AND person NOT IN (SELECT person FROM exempt)
"""  # noqa: S608


def polars_seed(frames: dict, q: dict, now: int, *, restricted: bool = False):
    """The seed rule's yellow people as a Polars lazy query (plain or restricted, as in SQL)."""
    import polars as pl

    def scope(code: str, digits: str | None) -> pl.Expr:
        def starts(prefix: str) -> pl.Expr:
            size = len(prefix)
            if digits is None:
                return (pl.col(code) // 10 ** (12 - size)) == int(prefix)
            shift = pl.max_horizontal(pl.col(digits) - size, 0)
            return (pl.col(digits) >= size) & (
                (pl.col(code) // pl.lit(10, pl.Int64).pow(shift)) == int(prefix)
            )

        include = pl.any_horizontal([starts(p) for p in q["include"]])
        exclude = (
            pl.any_horizontal([starts(p) for p in q["exclude"]]) if q["exclude"] else pl.lit(False)
        )
        return include & ~exclude

    people, s, r = frames["people"], frames["samplings"], frames["results"]
    if q["fires_at"] > now:
        return people.filter(pl.lit(False)).select("person")
    known_r = r.filter(pl.col("r_recorded_at") <= now)
    corrected = (
        known_r.filter(pl.col("r_supersedes") >= 0)
        .select(pl.col("r_supersedes").alias("r_id"))
        .unique()
    )
    known_s = s.filter((pl.col("s_recorded_at") <= now) & (pl.col("s_superseded_at") > now))
    sampled = known_s.filter(
        (pl.col("s_sampled_at") >= q["begin"]) & (pl.col("s_sampled_at") < q["until"])
    ).select(pl.col("s_person").alias("person"))
    present = (
        frames["presences"]
        .filter(
            (pl.col("p_recorded_at") <= now)
            & (pl.col("p_start") < q["until"])
            & (pl.col("p_end") >= q["begin"])
            & scope("p_region", "p_region_digits")
        )
        .select(pl.col("p_person").alias("person"), pl.lit(True).alias("present"))
        .unique()
    )
    exempt = (
        frames["exemptions"]
        .filter(
            (pl.col("e_policy") == q["policy"])
            & (pl.col("e_approved_at") <= now)
            & (pl.col("e_revoked_at") > now)
        )
        .select(pl.col("e_person").alias("person"))
        .unique()
    )
    population = (
        people.filter(pl.col("registered_at") <= now)
        .join(present, on="person", how="left")
        .filter(scope("community", None) | pl.col("present").fill_null(False))
    )
    later = known_s.filter(pl.col("s_sampled_at") >= q["after"])
    if restricted:
        population = population.join(sampled, on="person", how="anti").select("person")
        later = later.join(population, left_on="s_person", right_on="person", how="semi")
        known_r = known_r.join(
            later.select(pl.col("s_tube").alias("r_tube")).unique(), on="r_tube", how="semi"
        )
    else:
        population = population.join(sampled.unique(), on="person", how="anti")
    standing = (
        known_r.join(corrected, on="r_id", how="anti")
        .group_by("r_tube")
        .agg(
            pl.col("r_result").sort_by(["r_recorded_at", "r_id"]).last(),
            pl.col("r_reported_at").sort_by(["r_recorded_at", "r_id"]).last(),
        )
    )
    cleared = (
        later.join(standing, left_on="s_tube", right_on="r_tube")
        .filter((pl.col("r_result") == 0) & (pl.col("r_reported_at") <= now))
        .select(pl.col("s_person").alias("person"))
        .unique()
    )
    return (
        population.join(cleared, on="person", how="anti")
        .join(exempt, on="person", how="anti")
        .select("person")
    )


def _frames_arrays(folder: Path) -> dict[str, dict[str, np.ndarray]]:
    a = load(folder)
    n = len(a["community"])
    return {
        "people": {
            "person": np.arange(n, dtype=np.int64),
            "community": a["community"],
            "registered_at": a["registered_at"],
        },
        "samplings": {
            k: a[k]
            for k in (
                "s_id",
                "s_person",
                "s_tube",
                "s_sampled_at",
                "s_recorded_at",
                "s_superseded_at",
            )
        },
        "results": {
            k: a[k]
            for k in (
                "r_id",
                "r_tube",
                "r_result",
                "r_reported_at",
                "r_recorded_at",
                "r_supersedes",
            )
        },
        "presences": {
            k: a[k]
            for k in (
                "p_person",
                "p_region",
                "p_region_digits",
                "p_start",
                "p_end",
                "p_recorded_at",
            )
        },
        "exemptions": {
            "e_person": a["e_person"],
            "e_policy": a["e_policy"],
            "e_approved_at": a["e_approved_at"],
            "e_revoked_at": a["e_revoked_at"],
        },
    }


def _compare(folder: Path, yellow_people: np.ndarray) -> dict:
    kernel = np.load(folder / "_kernel_yellow.npy")
    mine = np.zeros(len(kernel), bool)
    mine[yellow_people] = True
    differ = np.flatnonzero(mine != kernel)
    return {
        "yellow": int(mine.sum()),
        "equal": bool(len(differ) == 0 and len(np.unique(yellow_people)) == len(yellow_people)),
        "differ": int(len(differ)),
        "differ_examples": differ[:10].tolist(),
    }


def child_duckdb(args) -> dict:
    import duckdb
    import pyarrow as pa

    folder = Path(args.data)
    seed, _ = policies(T0)
    q = seed_parameters(seed)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    tick = time.perf_counter()
    for name, table in _frames_arrays(folder).items():
        con.register(name, pa.table(table))
    register_s = time.perf_counter() - tick
    out = {
        "threads": con.execute("SELECT current_setting('threads')").fetchone()[0],
        "version": duckdb.__version__,
        "register_s": register_s,
    }
    for variant in ("plain", "restricted"):
        sql = duckdb_seed_sql(q, us(WHEN), restricted=variant == "restricted")
        times, people = timed(
            lambda sql=sql: con.execute(sql).fetchnumpy()["person"].astype(np.int64), args.repeat
        )
        out[variant] = {"seed_s": times, **_compare(folder, people)}
    # Like for like with the single-threaded kernel: the faster formulation on one thread.
    con.execute("SET threads = 1")
    sql = duckdb_seed_sql(q, us(WHEN), restricted=True)
    times, people = timed(
        lambda: con.execute(sql).fetchnumpy()["person"].astype(np.int64), args.repeat
    )
    out["restricted_1_thread"] = {"seed_s": times, **_compare(folder, people)}
    return _best(out)


def _best(out: dict) -> dict:
    """The faster variant's figures at the top level; both kept."""
    best = min(("plain", "restricted"), key=lambda v: median(out[v]["seed_s"]))
    return {
        **out,
        "variant": best,
        **out[best],
        "equal": out["plain"]["equal"] and out["restricted"]["equal"],
        "peak_gb": peak_gb(),
    }


def child_polars(args) -> dict:
    import polars as pl

    folder = Path(args.data)
    seed, _ = policies(T0)
    q = seed_parameters(seed)
    tick = time.perf_counter()
    frames = {name: pl.DataFrame(table).lazy() for name, table in _frames_arrays(folder).items()}
    frame_s = time.perf_counter() - tick
    out = {"threads": pl.thread_pool_size(), "version": pl.__version__, "frame_s": frame_s}
    for variant in ("plain", "restricted"):
        query = polars_seed(frames, q, us(WHEN), restricted=variant == "restricted")
        times, people = timed(
            lambda query=query: query.collect()["person"].to_numpy().astype(np.int64), args.repeat
        )
        out[variant] = {"seed_s": times, **_compare(folder, people)}
    return _best(out)
