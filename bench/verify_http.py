"""Part 2 of the verification benchmark: the online verifier and the resident's page over HTTP,
on a PostgreSQL database of the benchmark's own with the demo city. Each gunicorn configuration
serves the code before the change (`--before`) and then the current code, straight on gunicorn
as measured before; then the current code behind nginx on one and two nodes, and at three times
its capacity (verify_proxy). The gate log is checked against the answers after each server.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import verify_proxy
import verify_report
from common import ROOT, create_database, drop_database, load_average, run_child
from verify_before import export
from verify_gatelog import exact_check, exact_text, rows_of_prefix, settled_rows
from verify_profile import print_profile
from verify_server import (
    GUNICORN_CONF,
    SPOOL_DIR_ENV,
    CpuMeter,
    Server,
    config_args,
    cpu_per_request,
    cpu_text,
    server_env,
    wait_idle,
    wrk,
)
from verify_setup import BENCH_DB

WARMUP_SECONDS = 3


def endpoints(setup: dict, data: Path) -> dict[str, tuple[str, str, Path]]:
    """label → (wrk script mode, path, file of tokens or sessions)."""
    return {
        "verify": ("verify", f"/api/checkpoints/{setup['checkpoint']}/verify", data / "tokens.txt"),
        "page": ("page", "/r/", data / "sessions.txt"),
        "code.json": ("page", "/r/code.json", data / "sessions.txt"),
    }


def available(server: Server, data: Path) -> list[str]:
    """The endpoints this code has: /r/code.json is new (the old code answers 404)."""
    session = (data / "sessions.txt").read_text().split()[0]
    labels = ["verify", "page"]
    if server.status_of("/r/code.json", session) != 404:
        labels.append("code.json")
    return labels


def measure(args, port, tiers, labels, connections, setup, db_url, indent="    ") -> dict:
    """Warm-up (lazy imports, database connections, caches: none of it is what a gate in
    service sees), then wrk on each endpoint at each connection count, CPU read around each."""
    paths = endpoints(setup, Path(args.data))
    key = setup["device_key"]
    pids = [pid for roots in tiers.values() for pid in roots]
    out = {"runs": [], "verify_ok": 0, "in_flight": 0, "prefixes": []}
    for label in labels:
        mode, path, file = paths[label]
        warm = wrk(args, path, mode, file, key, port, WARMUP_SECONDS, 16)
        wait_idle(pids)
        if label == "verify":
            out["verify_ok"] += warm["ok"]
            out["in_flight"] += 16
            out["prefixes"].append(warm["scan_prefix"])
    for conns in connections:
        for label in labels:
            mode, path, file = paths[label]
            meter = CpuMeter(tiers, db_url)
            meter.start()
            run = wrk(args, path, mode, file, key, port, args.duration, conns)
            run["cpu"] = cpu_per_request(meter.stop(), run["ok"], run["seconds"])
            run["endpoint"] = label
            text = run.pop("text")
            if args.verbose:
                print(text)
            out["runs"].append(run)
            print(
                f"{indent}{label:<9} c={conns:<3} {run['rps']:>7,.0f} req/s  p50 "
                f"{run['p50_ms']:6.1f} ms  p99 {run['p99_ms']:6.1f} ms  max {run['max_ms']:6.0f} ms"
                f"  errors {run['errors']} (non-2xx {run['bad_status']}, timeouts "
                f"{run['timeout']})\n{indent}{'':9} {cpu_text(run['cpu'])}"
            )
            if label == "verify":
                out["verify_ok"] += run["ok"]
                out["in_flight"] += conns
                out["prefixes"].append(run["scan_prefix"])
            wait_idle(pids)  # requests wrk cut off finish on the server
    return out


def gate_consistency(db_url: str, measured: dict) -> dict:
    """The rows of the runs' scan ids (each run has its own prefix: spools of earlier servers
    replayed meanwhile are not counted) against the 2xx answers."""
    _, settle_s = settled_rows(db_url)
    rows = sum(sum(rows_of_prefix(db_url, p).values()) for p in measured["prefixes"])
    ok, in_flight = measured["verify_ok"], measured["in_flight"]
    g = {
        "verify_2xx": ok,
        "rows_added": rows,
        "in_flight_bound": in_flight,
        "settle_s": settle_s,
        "consistent": ok <= rows <= ok + in_flight,
    }
    print(
        f"    gate log (settled in {settle_s:.1f} s): {g['rows_added']:,} rows for "
        f"{ok:,} 2xx verify responses (+ at most {in_flight} in flight when wrk stopped): "
        f"{'consistent' if g['consistent'] else 'INCONSISTENT'}"
    )
    return g


def _start(args, side: str, spec: str, env: dict, tree: Path) -> tuple[Server, str]:
    """The server of one side. Both sides use the current deploy/gunicorn.conf.py; if the old
    code cannot start under it, its own file (noted in the report)."""
    name = f"{side}-{spec.replace(':', '-')}"
    try:
        return Server(args, name, config_args(spec), env, root=tree), "current"
    except RuntimeError:
        if tree == ROOT:
            raise
        own = tree / "deploy" / "gunicorn.conf.py"
        return Server(args, name, config_args(spec), env, root=tree, conf=own), "own"


def direct(args, side: str, tree: Path, spec: str, setup: dict, db_url: str, env: dict) -> dict:
    env = {**env, SPOOL_DIR_ENV: str(Path(args.data) / f"spool-{side}")}
    server, conf = _start(args, side, spec, env, tree)
    flags = config_args(spec)
    if flags[:1] == ["granian"]:
        served = f"granian, {flags[1]} workers × {flags[2]} threads"
    else:
        served = f"gunicorn {GUNICORN_CONF.name} {' '.join(flags) or '(as it is)'}, {conf} config"
    print(f"  [{side}] {served} (load {load_average()})")
    result: dict = {"side": side, "config": spec, "gunicorn_conf": conf}
    try:
        labels = available(server, Path(args.data))
        tiers = {"app": [server.process.pid]}
        measured = measure(args, server.port, tiers, labels, args.connections, setup, db_url)
        result["runs"] = measured["runs"]
        result["gate_log"] = gate_consistency(db_url, measured)
        if args.exact:
            tokens = (Path(args.data) / "tokens.txt").read_text().split()
            exact = exact_check(
                server.port, setup["checkpoint"], setup["device_key"], tokens, db_url, args.exact
            )
            result["exact_check"] = exact
            print("    " + exact_text(exact))
    finally:
        server.stop()
    return result


def part_http(args, out: dict) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is not installed: `apt-get install -y wrk` (Debian), or run with --skip-http"
        )
    if not (Path(sys.executable).parent / "gunicorn").exists():
        raise SystemExit("gunicorn is not installed: `.venv/bin/pip install -r requirements.txt`")
    print(
        f"\n== 2. HTTP on 127.0.0.1, PostgreSQL, {args.residents:,} residents "
        f"(load {load_average()})"
    )
    db_url = create_database(args.pg_url, BENCH_DB)
    env = server_env(args, db_url)
    http: dict = {"direct": []}
    out["http"] = http
    try:
        setup = run_child(args, "setup", "--data", str(args.data), env=env, inherit=False)
        http["setup"] = {k: v for k, v in setup.items() if k != "device_key"}
        print(
            f"setup: migrate {setup['migrate_s']:.0f} s, demo city {setup['demo_s']:.0f} s "
            f"({setup['people']:,} people), recompute {setup['recompute']['s']:.1f} s, "
            f"{setup['tokens']:,} tokens issued in {setup['issue_s']:.1f} s "
            f"({setup['tokens'] / setup['issue_s']:,.0f} /s through qr_token), "
            f"{setup['sessions']:,} sessions"
        )
        sides = [("after", ROOT)]
        if not args.skip_before:
            tree, commit = export(args.before, Path(args.data))
            http["before"] = {"revision": args.before, "commit": commit}
            print(f"before: {args.before} = {commit[:12]}, exported to {tree}")
            sides.insert(0, ("before", tree))
        for spec in args.configs:
            for side, tree in sides:
                http["direct"].append(direct(args, side, tree, spec, setup, db_url, env))
        if args.nodes:
            http["nodes"] = verify_proxy.nodes(args, setup, db_url, env)
        if args.overload:
            one = [n for n in http.get("nodes", []) if n["nodes"] == 1]
            reference = one and next(r["rps"] for r in one[0]["runs"] if r["endpoint"] == "verify")
            http["overload"] = verify_proxy.overload(args, setup, db_url, env, reference or None)
        if not args.skip_profile:
            print(
                f"\n== 3. where the time goes, in-process: {args.profile:,} verify requests, "
                f"{args.profile_page:,} code pages"
            )
            profile_env = {**env, "BENCH_DEVICE_KEY": setup["device_key"]}
            profile = run_child(
                args, "profile", "--data", str(args.data), env=profile_env, inherit=False
            )
            http["profile"] = profile
            print_profile(profile)
    finally:
        if not args.keep:
            drop_database(args.pg_url, BENCH_DB)
    verify_report.note_shared(http)
