"""Part 2 of the verification benchmark: the online verifier and the resident's code page over
HTTP, on a PostgreSQL database of the benchmark's own with the demo city — each gunicorn
configuration driven by wrk, the gate log checked against the responses, then scan by scan.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import threading
import time
import uuid
from pathlib import Path

from common import create_database, drop_database, load_average, met, run_child, setup_django
from verify_profile import print_profile
from verify_server import (
    TOKEN_TTL,
    CpuMeter,
    Server,
    config_args,
    cpu_per_request,
    server_env,
    wait_idle,
    wrk,
)

BENCH_DB = "fangkong_bench_verify"
TARGETS = {"verify_rps": 2_000, "verify_p99_ms": 50, "page_rps": 1_000}
WARMUP_SECONDS = 3


def child_setup(args) -> dict:
    """The bench database: demo city, codes as of now, a checkpoint, tokens and sessions."""
    setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from fangkong.checkpoints.actions import do_create_checkpoint
    from fangkong.codes.actions import do_recompute
    from fangkong.demo.story import run_story
    from fangkong.people.models import Person
    from fangkong.residents.page import qr_token
    from fangkong.residents.session import SESSION_KEY

    assert settings.CODE_TOKEN_TTL_SECONDS == TOKEN_TTL
    folder = Path(args.data)
    out: dict = {}
    tick = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)  # as a deployment does
    out["migrate_s"] = time.perf_counter() - tick
    tick = time.perf_counter()
    story = run_story(residents=args.residents, seed=args.seed)
    out["demo_s"] = time.perf_counter() - tick
    out["demo_text"] = story["text"]
    # The stored codes as of now, as the periodic sweep leaves them: otherwise the first page
    # view of each resident would store a time-driven change and the run would measure that.
    tick = time.perf_counter()
    recompute = do_recompute(timezone.now())
    out["recompute"] = {"s": time.perf_counter() - tick, "changed": recompute.changed}
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum does after a load, done now

    now = timezone.now()
    checkpoint, device_key = do_create_checkpoint(
        None, name="压测卡口(公共场所)", type_code="public_place", county_code="220102", now=now
    )
    ids = list(Person.objects.values_list("pk", flat=True))
    rng = random.Random(args.seed)
    people = Person.objects.in_bulk(rng.sample(ids, min(args.tokens_http, len(ids))))
    tick = time.perf_counter()
    # The resident page's own path: evaluation of the person's facts, then issue_code_token.
    tokens = [qr_token(person, now).token for person in people.values()]
    out["issue_s"] = time.perf_counter() - tick
    (folder / "tokens.txt").write_text("\n".join(tokens) + "\n")

    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = []
    tick = time.perf_counter()
    for pk in rng.sample(ids, min(args.sessions, len(ids))):
        session = store()
        session[SESSION_KEY] = pk
        session.save()  # no key yet: creates one
        sessions.append(session.session_key)
    out["sessions_s"] = time.perf_counter() - tick
    (folder / "sessions.txt").write_text("\n".join(sessions) + "\n")
    out.update(
        people=len(ids),
        checkpoint=checkpoint.pk,
        device_key=device_key,
        tokens=len(tokens),
        sessions=len(sessions),
    )
    connection.close()
    return out


def _gate_rows(url: str, scan_ids: list[str] | None = None) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        if scan_ids is None:
            return conn.execute("SELECT count(*) FROM checkpoints_gatescan").fetchone()[0]
        return conn.execute(
            "SELECT count(*) FROM checkpoints_gatescan WHERE scan_id = ANY(%s)",
            [[uuid.UUID(s) for s in scan_ids]],
        ).fetchone()[0]


def _exact_gate_check(port: int, checkpoint: int, key: str, tokens: list[str], db_url: str, n):
    """`n` scans from 16 threads over keep-alive connections, then each scan id looked up."""
    import http.client

    scan_ids = [str(uuid.uuid4()) for _ in range(n)]
    statuses: list[int] = []
    recorded: list[bool] = []
    lock = threading.Lock()
    path = f"/api/checkpoints/{checkpoint}/verify"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}

    def send(chunk: list[int], results: list, flags: list) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, flagged = [], []
        for i in chunk:
            body = json.dumps({"token": tokens[i % len(tokens)], "scan_id": scan_ids[i]})
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            payload = response.read()
            mine.append(response.status)
            if response.status == 200:
                flagged.append(json.loads(payload)["recorded"])
        conn.close()
        with lock:
            results.extend(mine)
            flags.extend(flagged)

    def burst(indices: list[int], results: list, flags: list) -> None:
        threads = [
            threading.Thread(target=send, args=(indices[t::16], results, flags)) for t in range(16)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    before = _gate_rows(db_url)
    burst(list(range(n)), statuses, recorded)
    after = _gate_rows(db_url)
    found = _gate_rows(db_url, scan_ids)
    ok = sum(1 for s in statuses if s == 200)
    # The same scans again (a device retrying after a timeout): answered, nothing recorded.
    again_statuses: list[int] = []
    again_recorded: list[bool] = []
    repeat = list(range(min(n, 500)))
    burst(repeat, again_statuses, again_recorded)
    after_again = _gate_rows(db_url)
    return {
        "sent": n,
        "ok": ok,
        "recorded_true": sum(recorded),
        "rows_added": after - before,
        "scan_ids_found": found,
        "exact": ok == n and after - before == n and found == n and all(recorded),
        "resent": len(repeat),
        "resent_ok": sum(1 for s in again_statuses if s == 200),
        "resent_recorded": sum(again_recorded),
        "rows_added_by_resend": after_again - after,
        "idempotent": after_again == after and not any(again_recorded),
    }


def _print_run(label: str, r: dict) -> None:
    cpu = r["cpu"]
    print(
        f"    {label:<7} c={r['connections']:<3} {r['rps']:>7,.0f} req/s  p50 {r['p50_ms']:6.1f} ms"
        f"  p99 {r['p99_ms']:6.1f} ms  max {r['max_ms']:6.0f} ms  errors {r['errors']}"
        f" (non-2xx {r['bad_status']}, timeouts {r['timeout']})"
    )
    print(
        f"{'':12}CPU ms a request: app {cpu['app_ms']:.2f}, "
        f"postgres {cpu['postgres_ms']:.2f}, "
        f"wrk {cpu['wrk_ms']:.2f}; machine {100 * cpu['machine_busy']:.0f}% busy, "
        f"{100 * cpu['others_share']:.0f}% of it by other processes; if the "
        f"{os.cpu_count()} cores did only this: ≈ {cpu['ceiling_rps']:,.0f} req/s"
    )


def _serve_and_drive(args, spec: str, setup: dict, db_url: str, env: dict) -> dict:
    data = Path(args.data)
    tokens_file, sessions_file = data / "tokens.txt", data / "sessions.txt"
    verify_path = f"/api/checkpoints/{setup['checkpoint']}/verify"
    key = setup["device_key"]
    server = Server(args, spec, env)
    result: dict = {"config": spec, "runs": []}
    try:
        rows_before = _gate_rows(db_url)
        verify_ok, in_flight = 0, 0
        # Warm-up: every worker imports lazily, opens its database connection and fills the
        # checkpoint and key caches; none of it is what a gate in service sees.
        for mode, path, file in (
            ("verify", verify_path, tokens_file),
            ("page", "/r/", sessions_file),
        ):
            warm = wrk(args, path, mode, file, key, server.port, WARMUP_SECONDS, 16)
            wait_idle(server.process.pid)
            if mode == "verify":
                verify_ok += warm["ok"]
                in_flight += 16
        for conns in args.connections:
            for mode, path, file in (
                ("verify", verify_path, tokens_file),
                ("page", "/r/", sessions_file),
            ):
                meter = CpuMeter(server.process.pid, db_url)
                meter.start()
                run = wrk(args, path, mode, file, key, server.port, args.duration, conns)
                run["cpu"] = cpu_per_request(meter.stop(), run["ok"], run["seconds"])
                run["endpoint"] = mode
                text = run.pop("text")
                if args.verbose:
                    print(text)
                result["runs"].append(run)
                _print_run(mode, run)
                if mode == "verify":
                    verify_ok += run["ok"]
                    in_flight += conns
                wait_idle(server.process.pid)  # requests wrk cut off finish on the server
        rows = _gate_rows(db_url) - rows_before
        result["gate_log"] = {
            "verify_2xx": verify_ok,
            "rows_added": rows,
            "in_flight_bound": in_flight,
            "consistent": verify_ok <= rows <= verify_ok + in_flight,
        }
        g = result["gate_log"]
        print(
            f"    gate log: {g['rows_added']:,} rows for {g['verify_2xx']:,} 2xx verify responses"
            f" (+ at most {g['in_flight_bound']} in flight when wrk stopped): "
            f"{'consistent' if g['consistent'] else 'INCONSISTENT'}"
        )
        if args.exact:
            tokens = tokens_file.read_text().split()
            exact = _exact_gate_check(
                server.port, setup["checkpoint"], key, tokens, db_url, args.exact
            )
            result["exact_check"] = exact
            print(
                f"    exact: {exact['sent']:,} scans, {exact['ok']:,} × 200, "
                f"{exact['rows_added']:,} rows added, {exact['scan_ids_found']:,} scan ids found "
                f"— {'exact' if exact['exact'] else 'NOT exact'}; resent {exact['resent']}: "
                f"{exact['rows_added_by_resend']} rows, {exact['resent_recorded']} recorded — "
                f"{'idempotent' if exact['idempotent'] else 'NOT idempotent'}"
            )
    finally:
        server.stop()
    return result


def _best_config(configs: list[dict]) -> dict:
    """The configuration serving the verify endpoint (the one with a latency target) without
    errors and with the most requests/s over all connection counts."""

    def score(config: dict) -> tuple:
        runs = [r for r in config["runs"] if r["endpoint"] == "verify"]
        return (sum(r["errors"] for r in runs) == 0, sum(r["rps"] for r in runs))

    return max(configs, key=score)


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
    http: dict = {"configs": []}
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
        for spec in args.configs:
            flags = " ".join(config_args(spec)) or "(deploy/gunicorn.conf.py as it is)"
            print(f"  gunicorn {flags} (load {load_average()})")
            http["configs"].append(_serve_and_drive(args, spec, setup, db_url, env))
        best = _best_config(http["configs"])
        http["best"] = best["config"]
        print(f"\nbest configuration: {best['config']}")
        shared = max(r["cpu"]["others_share"] for c in http["configs"] for r in c["runs"])
        if shared > 0.1:
            print(
                f"  NOTE: other processes took up to {100 * shared:.0f}% of the busy CPU during the"
                " runs: requests/s and latencies are lower bounds; the CPU a request and the"
                " ceiling derived from it are not affected"
            )
        for endpoint, rps_target, p99_target in (
            ("verify", TARGETS["verify_rps"], TARGETS["verify_p99_ms"]),
            ("page", TARGETS["page_rps"], None),
        ):
            for r in (r for r in best["runs"] if r["endpoint"] == endpoint):
                checks = [f"≥ {rps_target:,} req/s: {met(r['rps'] >= rps_target)}"]
                if p99_target:
                    checks.append(f"p99 ≤ {p99_target} ms: {met(r['p99_ms'] <= p99_target)}")
                checks.append(f"no errors: {met(r['errors'] == 0)}")
                checks.append(f"CPU ceiling ≈ {r['cpu']['ceiling_rps']:,.0f} req/s")
                print(
                    f"  {endpoint:<6} c={r['connections']:<3} {r['rps']:>7,.0f} req/s, "
                    f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, errors {r['errors']} — "
                    + "; ".join(checks)
                )
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
