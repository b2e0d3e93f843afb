"""Part 3 of the verification benchmark, where the time goes: verify requests (into
fangkong.wsgi.application, as gunicorn sends them, so a hot path in front of Django is
included) and code pages (through django.test.Client) replayed in one process — once timed
(wall, SQL statements and SQL time per request), once under cProfile (the top functions by own
time, and the cumulative time of the parts that matter).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

from common import ROOT, setup_django

# Cumulative time of these functions (callees included; they nest, so they do not add up), as
# (label, end of the file name, start of the function name[, only when called by this
# function]); "~" is where cProfile files builtins, the OpenSSL calls among them.
COMMON_PARTS = (
    ("Django handler, whole request", "django/core/handlers/base.py", "get_response"),
    ("  session load (SELECT)", "sessions/backends/db.py", "load"),
)
VERIFY_PARTS = (
    ("WSGI fast path in front of Django, whole request", "checkpoints/fastpath.py", "__call__"),
    ("  gate log: into the spool", "checkpoints/gatelog.py", "record"),
    *COMMON_PARTS,
    ("  Ninja operation: auth, parse, view, response", "ninja/operation.py", "run"),
    ("    device key auth (cached)", "checkpoints/api.py", "authenticate"),
    ("    request body → VerifyIn", "ninja/operation.py", "_get_values"),
    ("    verdict → VerdictOut → JSON", "ninja/operation.py", "_result_to_response"),
    ("    do_verify", "checkpoints/actions.py", "do_verify"),
    ("      scan_id already recorded? (SELECT)", "django/db/models/query.py", "first", "do_verify"),
    ("      _judge", "checkpoints/actions.py", "_judge"),
    ("        keys.verify: parse + Ed25519", "signing/keys.py", "verify"),
    ("          Ed25519 verify (OpenSSL)", "~", "<method 'verify' of"),
    ("        person_from_ref (AES)", "signing/keys.py", "person_from_ref"),
    ("        live_colour (SELECT)", "codes/tokens.py", "live_colour"),
    ("        check_code", "engine/gate_rules.py", "check_code"),
    ("      GateScan.save (INSERT)", "django/db/models/base.py", "save", "do_verify"),
    ("      transaction.atomic exit (COMMIT)", "django/db/transaction.py", "__exit__", "do_verify"),
    ("SQL: Django cursor.execute, all", "django/db/backends/utils.py", "execute"),
    ("SQL: psycopg waiting for the server, all", "psycopg/connection.py", "wait"),
)
PAGE_PARTS = (
    *COMMON_PARTS,
    ("  resident_required: Person (SELECT)", "residents/session.py", "current_person"),
    ("  home view", "residents/views.py", "home"),
    ("    stored_page", "residents/page.py", "stored_page"),
    ("      person, code, antigen (SELECT)", "residents/page.py", "_read_person"),
    ("      samplings and results (SELECT)", "residents/page.py", "_read_testing"),
    ("      clears (published_policies)", "residents/page.py", "_reasons"),
    ("      sign_code_token", "codes/tokens.py", "sign_code_token"),
    ("        keys.active_key", "signing/keys.py", "active_key"),
    ("        Ed25519 sign (OpenSSL)", "~", "<method 'sign' of"),
    ("    clearance requests", "residents/views.py", "_with_titles"),
    ("    render (template)", "django/shortcuts.py", "render"),
    ("SQL: Django cursor.execute, all", "django/db/backends/utils.py", "execute"),
    ("SQL: psycopg waiting for the server, all", "psycopg/connection.py", "wait"),
)


def _profile_requests(client, requests: list) -> dict:
    """Wall time per request, SQL statements and SQL time per request (execute_wrapper)."""
    from django.db import connection

    sql = {"n": 0, "s": 0.0}

    def wrapper(execute, statement, params, many, context):
        tick = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            sql["n"] += 1
            sql["s"] += time.perf_counter() - tick

    walls = []
    statuses: dict[int, int] = {}
    with connection.execute_wrapper(wrapper):
        for call in requests:
            tick = time.perf_counter()
            response = call(client)
            walls.append(time.perf_counter() - tick)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    walls.sort()
    n = len(walls)
    return {
        "requests": n,
        "statuses": statuses,
        "mean_ms": 1000 * sum(walls) / n,
        "p50_ms": 1000 * walls[n // 2],
        "p99_ms": 1000 * walls[min(n - 1, int(n * 0.99))],
        "sql_per_request": sql["n"] / n,
        "sql_ms_per_request": 1000 * sql["s"] / n,
        "per_s_one_thread": n / sum(walls),
    }


def _profile_of(client, requests: list, parts) -> dict:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for call in requests:
        call(client)
    profiler.disable()
    stats = pstats.Stats(profiler)
    n = len(requests)
    total = sum(v[2] for v in stats.stats.values())  # own time of everything
    top = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:25]

    def where(key) -> str:
        file, line, name = key
        short = file.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
        return f"{short}:{line} {name}" if file != "~" else name

    measured = {}
    for label, file, name, *caller in parts:
        found = []
        for k, v in stats.stats.items():
            if (k[0] == file if file == "~" else k[0].endswith(file)) and k[2].startswith(name):
                if caller:  # only the calls made by this function (v[4]: callers)
                    found.append(sum(c[3] for ck, c in v[4].items() if ck[2] == caller[0]))
                else:
                    found.append(v[3])
        if found:  # the outermost match is the largest
            measured[label] = 1000 * max(found) / n
    return {
        "profiled_ms_per_request": 1000 * total / n,
        "top_own_time": [
            {
                "function": where(k),
                "calls_per_request": v[1] / n,
                "own_ms_per_request": 1000 * v[2] / n,
                "cumulative_ms_per_request": 1000 * v[3] / n,
            }
            for k, v in top
        ],
        "parts_ms_per_request": measured,
    }


class WsgiClient:
    """Requests straight into fangkong.wsgi.application, as gunicorn makes them: where a hot
    path stands in front of Django, django.test.Client would miss it (it calls Django's handler
    only)."""

    def __init__(self):
        from django.test import RequestFactory

        import fangkong.wsgi

        self.app = fangkong.wsgi.application
        self.factory = RequestFactory(HTTP_HOST="127.0.0.1")

    def post(self, path, body, content_type, **extra):
        from types import SimpleNamespace

        environ = self.factory.post(path, body, content_type=content_type, **extra).environ
        status: list[str] = []
        chunks = self.app(environ, lambda line, headers, exc_info=None: status.append(line))
        try:
            b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        return SimpleNamespace(status_code=int(status[0].split()[0]))


def child_profile(args) -> dict:
    setup_django()
    from django.test import Client

    from fangkong.checkpoints.models import Checkpoint

    data = Path(args.data)
    tokens = data.joinpath("tokens.txt").read_text().split()
    sessions = data.joinpath("sessions.txt").read_text().split()
    checkpoint = Checkpoint.objects.order_by("-pk").first()
    # The device key is not stored; a staff-free bearer is what the gate sends, so the key
    # comes from the parent through the environment.
    key = os.environ["BENCH_DEVICE_KEY"]
    path = f"/api/checkpoints/{checkpoint.pk}/verify"

    def verify_call(i: int):
        body = json.dumps({"token": tokens[i % len(tokens)], "scan_id": str(uuid.uuid4())})
        return lambda c: c.post(
            path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
        )

    def page_call(i: int):
        session = sessions[i % len(sessions)]

        def call(c):
            c.cookies["sessionid"] = session
            return c.get("/r/")

        return call

    out = {}
    for name, make, n, parts, client in (
        ("verify", verify_call, args.profile, VERIFY_PARTS, WsgiClient()),
        ("page", page_call, args.profile_page, PAGE_PARTS, Client(HTTP_HOST="127.0.0.1")),
    ):
        for i in range(100):  # warm: imports, caches, connection
            make(i)(client)
        timed = _profile_requests(client, [make(i) for i in range(n)])
        profiled = _profile_of(client, [make(n + i) for i in range(n)], parts)
        out[name] = {**timed, **profiled}
    return out


def print_profile(profile: dict) -> None:
    for name, label in (("verify", "POST verify"), ("page", "GET /r/")):
        p = profile[name]
        print(
            f"\n{label}: {p['mean_ms']:.2f} ms a request on one thread (p50 {p['p50_ms']:.2f}, "
            f"p99 {p['p99_ms']:.2f}) = {p['per_s_one_thread']:,.0f} /s; "
            f"{p['sql_per_request']:.1f} SQL statements, {p['sql_ms_per_request']:.2f} ms in SQL; "
            f"statuses {p['statuses']}"
        )
        print(f"  under cProfile {p['profiled_ms_per_request']:.2f} ms a request; cumulative:")
        for part, ms in p["parts_ms_per_request"].items():
            print(f"    {part:<48} {ms:7.3f} ms")
        print("  top functions by own time (ms a request, calls a request):")
        for row in p["top_own_time"][:15]:
            print(
                f"    {row['own_ms_per_request']:7.3f}  ×{row['calls_per_request']:<6.1f} "
                f"{row['function']}"
            )
