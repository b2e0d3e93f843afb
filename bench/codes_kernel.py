"""Parts 1–3 of the code-engine benchmark: the batch kernel at full size on the synthetic city
(seed rule alone, with the standard rules, step by step), the impact preview over the same
columns, the kernel child's peak memory — and the DuckDB and Polars children beside it.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from codes_city import SEED_FILE, T0, WHEN, columns_of, load, policies, save, synthesise
from common import (
    load_average,
    median,
    met,
    parts_text,
    peak_gb,
    rss_gb,
    run_child,
    runs_text,
    setup_django,
    timed,
)

TARGETS = {"kernel_vs_duckdb": 5.0, "peak_gb": 4.0}


def child_synth(args) -> dict:
    tick = time.perf_counter()
    arrays, stats = synthesise(args.people, args.seed)
    generate = time.perf_counter() - tick
    folder = Path(args.data)
    save(arrays, folder)
    return {
        "stats": stats,
        "generate_s": generate,
        "bytes": int(sum(a.nbytes for a in arrays.values())),
        "peak_gb": peak_gb(),
    }


def child_kernel(args) -> dict:
    """evaluate_batch at full size; the preview over the same columns; peak memory."""
    from fangkong.engine.batch import evaluate_batch

    folder = Path(args.data)
    arrays = load(folder)
    data_gb = sum(a.nbytes for a in arrays.values()) / 2**30
    tick = time.perf_counter()
    columns = columns_of(arrays)
    index_s = time.perf_counter() - tick
    county = arrays.pop("county")
    del arrays
    seed, standard = policies(T0)
    out: dict = {"data_gb": data_gb, "community_index_s": index_s}
    peaks = {"columns loaded": peak_gb()}
    out["rss_loaded_gb"] = rss_gb()

    times, result = timed(lambda: evaluate_batch([seed], columns, WHEN), args.kernel_repeat)
    out["seed_s"] = times
    yellow = result.severity == 1
    np.save(folder / "_kernel_yellow.npy", yellow)
    out["seed_yellow"] = int(yellow.sum())
    out["seed_red"] = int((result.severity == 2).sum())
    del result
    peaks["seed rule"] = peak_gb()

    every = [seed, *standard]
    times, result = timed(lambda: evaluate_batch(every, columns, WHEN), args.kernel_repeat)
    out["all_s"] = times
    out["all_counts"] = {
        c: int(v)
        for c, v in zip(
            ("green", "yellow", "red"), np.bincount(result.severity, None, 3), strict=True
        )
    }
    out["all_active"] = {k: int(v.sum()) for k, v in result.active.items()}
    del result
    peaks["seed + standard rules"] = peak_gb()

    # One more run of each, timed step by step (the wrappers cost nothing measurable).
    out["steps_seed"] = _kernel_steps([seed], columns)
    out["steps_all"] = _kernel_steps(every, columns)

    # The same without the loader's distinct communities: scope decided per person.
    saved = columns.community_codes, columns.community_index
    columns.community_codes = columns.community_index = None
    times, _ = timed(lambda: evaluate_batch([seed], columns, WHEN), 1)
    out["seed_without_community_index_s"] = times
    columns.community_codes, columns.community_index = saved

    out["preview"] = _preview(columns, county, seed, standard, args.kernel_repeat)
    peaks["preview"] = peak_gb()
    out["peaks_gb"] = peaks
    out["peak_gb"] = peak_gb()
    return out


def _kernel_steps(rules: list, columns) -> dict[str, float]:
    """Seconds in each step of evaluate_batch, for one run."""
    from fangkong.engine import batch

    seconds: dict[str, float] = defaultdict(float)
    originals = {}
    for name in ("testing_states", "_standing_results", "_fires", "_clear_times", "_exempted"):
        original = originals[name] = getattr(batch, name)

        def timed(*a, _original=original, _name=name, **k):
            tick = time.perf_counter()
            try:
                return _original(*a, **k)
            finally:
                seconds[_name] += time.perf_counter() - tick

        setattr(batch, name, timed)
    try:
        tick = time.perf_counter()
        batch.evaluate_batch(rules, columns, WHEN)
        seconds["total"] = time.perf_counter() - tick
    finally:
        for name, original in originals.items():
            setattr(batch, name, original)
    inner = seconds["testing_states"] + seconds["_fires"] + seconds["_clear_times"]
    seconds["testing_states (without _standing_results)"] = (
        seconds["testing_states"] - seconds["_standing_results"]
    )
    seconds["rest of evaluate_batch"] = seconds["total"] - inner - seconds["_exempted"]
    return dict(seconds)


def _preview(columns, county, seed, standard, repeat: int) -> dict:
    """fangkong.policies.actions.preview, its database reads replaced by the in-memory data."""
    setup_django()
    import tomllib

    from fangkong.codes.loading import Population
    from fangkong.engine.batch import evaluate_batch
    from fangkong.engine.policies import parse_policy
    from fangkong.policies import actions

    text = SEED_FILE.read_text()
    population = Population(columns, np.arange(columns.n, dtype=np.int64), county)
    actions.draft = lambda text, now: (
        None,
        parse_policy(tomllib.loads(text), version=1, published_at=now),
    )
    actions.published_policies = lambda now: list(standard)
    actions.load_population = lambda: population
    times, impact = timed(lambda: actions.preview(text, WHEN), repeat)
    # The same steps apart: before, after, the comparison by county.
    draft = actions.draft(text, WHEN)[1]
    parts = defaultdict(list)
    for _ in range(repeat):
        tick = time.perf_counter()
        before = evaluate_batch(list(standard), columns, WHEN).severity
        parts["before_s"].append(time.perf_counter() - tick)
        tick = time.perf_counter()
        after = evaluate_batch([*standard, draft], columns, WHEN).severity
        parts["after_s"].append(time.perf_counter() - tick)
        tick = time.perf_counter()
        changed = np.flatnonzero(before != after)
        keys = county[changed] * 9 + before[changed] * 3 + after[changed]
        np.unique(keys, return_counts=True)
        parts["compare_s"].append(time.perf_counter() - tick)
    return {
        "preview_s": times,
        **parts,
        "people": impact.people,
        "totals": impact.totals,
        "counties": len(impact.by_county),
    }


def part_kernel(args, out: dict) -> None:
    folder = Path(tempfile.mkdtemp(prefix="fangkong-bench-codes-", dir=args.workdir))
    try:
        print(f"\n== 1–3. kernel at {args.people:,} residents (load {load_average()})", flush=True)
        synth = run_child(args, "synth", "--data", str(folder))
        out["synth"] = synth
        st = synth["stats"]
        print(
            f"synthesised in {synth['generate_s']:.1f} s: {st['people']:,} people in "
            f"{st['communities']:,} communities, {st['samplings']:,} samplings "
            f"({st['sampling_corrections']:,} corrections), {st['tubes_total']:,} tubes, "
            f"{st['results']:,} results, {st['positive_pools']} positive pools "
            f"({st['retests']:,} retests), {st['invalid_tubes']} invalid tubes, "
            f"{st['never_tested']:,} never tested, {st['presences']:,} presences, "
            f"{st['designations']:,} designations; {synth['bytes'] / 2**30:.2f} GiB of arrays"
        )
        kernel = run_child(args, "kernel", "--data", str(folder))
        out["kernel"] = kernel
        print(
            f"kernel, seed rule alone:        {runs_text(kernel['seed_s'])}; "
            f"{kernel['seed_yellow']:,} yellow"
        )
        print(
            f"kernel, seed + standard rules:  {runs_text(kernel['all_s'])}; {kernel['all_counts']}"
        )
        print(
            f"kernel, seed alone without the loader's distinct communities: "
            f"{kernel['seed_without_community_index_s'][0]:.3f} s "
            f"(np.unique of communities, done by the loader: {kernel['community_index_s']:.3f} s)"
        )
        for label, key in (("seed alone", "steps_seed"), ("seed + standard", "steps_all")):
            steps = kernel[key]
            print(
                f"  steps, {label}: "
                + ", ".join(
                    f"{k} {steps.get(k, 0):.3f}"
                    for k in (
                        "_standing_results",
                        "testing_states (without _standing_results)",
                        "_fires",
                        "_clear_times",
                        "_exempted",
                        "rest of evaluate_batch",
                        "total",
                    )
                )
            )
        p = kernel["preview"]
        print(
            f"preview (2 × evaluate_batch + by county): {runs_text(p['preview_s'])}; before "
            f"{median(p['before_s']):.3f} s, after {median(p['after_s']):.3f} s, compare "
            f"{median(p['compare_s']):.3f} s; {p['totals']} in {p['counties']} counties"
        )
        ok = kernel["peak_gb"] * 2**30 / 1e9 <= TARGETS["peak_gb"]
        print(
            f"peak memory (ru_maxrss) of the kernel child: {kernel['peak_gb']:.2f} GiB "
            f"(columns {kernel['data_gb']:.2f} GiB, RSS after loading "
            f"{kernel['rss_loaded_gb']:.2f} GiB) = {kernel['peak_gb'] * 2**30 / 1e9:.2f} GB — "
            f"target ≤ {TARGETS['peak_gb']} GB: {met(ok)}"
        )
        print("  high-water mark after: " + parts_text(kernel["peaks_gb"]) + " (GiB)")
        for name in ("duckdb", "polars"):
            if name in args.skip_engines:
                continue
            result = run_child(args, name, "--data", str(folder))
            out[name] = result
            ratio = median(result["seed_s"]) / median(kernel["seed_s"])
            out[f"ratio_{name}"] = ratio
            for variant in ("plain", "restricted"):
                v = result[variant]
                print(
                    f"{name} {result['version']} ({result['threads']} threads), seed rule, "
                    f"{variant}: {runs_text(v['seed_s'])}; equal to the kernel: {v['equal']} "
                    f"({v['differ']} differ)"
                )
            if "restricted_1_thread" in result:
                v = result["restricted_1_thread"]
                print(
                    f"{name}, restricted, 1 thread: {runs_text(v['seed_s'])}; equal: {v['equal']}; "
                    f"/ kernel: {median(v['seed_s']) / median(kernel['seed_s']):.1f}×"
                )
            print(
                f"   best {name} ({result['variant']}) / kernel: {ratio:.1f}× "
                f"(peak {result['peak_gb']:.2f} GiB)"
            )
            if name == "duckdb":
                ok = ratio >= TARGETS["kernel_vs_duckdb"]
                print(f"   target kernel ≥ 5× DuckDB: {met(ok)}")
        print(f"(load after: {load_average()})")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
