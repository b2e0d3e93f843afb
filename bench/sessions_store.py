"""Where should sessions live when several app nodes serve the resident page? (docs/scaling.md)

Every `GET /r/` and `/r/code.json` reads the resident's session (who is on this phone). This
times that read — a SessionStore built from the cookie's key, then `.get("resident_person")`,
exactly what SessionMiddleware and fangkong.residents.session do — with each store every node
could share: Django's database backend on PostgreSQL, the cache backend on Redis, cached_db on
Redis (Redis first, the database on a miss), and signed cookies (no store; for comparison). One
process, one connection kept open, as a gunicorn thread has; CPU is this process's own
(time.process_time), wall includes the round trip to the server.

    .venv/bin/python bench/sessions_store.py [--pg-url URL] [--redis-url URL] [--reads N]

The database named by --pg-url gets a django_session table (migrated if missing) and rows the
run adds and deletes.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import statistics
import time

from common import machine

ENGINES = {
    "db (PostgreSQL)": "django.contrib.sessions.backends.db",
    "cache (Redis)": "django.contrib.sessions.backends.cache",
    "cached_db (Redis + PostgreSQL)": "django.contrib.sessions.backends.cached_db",
    "signed_cookies (no store)": "django.contrib.sessions.backends.signed_cookies",
}
RESIDENT = "resident_person"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/h5")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=5000)
    args = parser.parse_args()
    os.environ.update(
        FANGKONG_DATABASE_URL=args.pg_url,
        FANGKONG_SESSION_STORE="redis",
        FANGKONG_REDIS_URL=args.redis_url,
        DJANGO_SETTINGS_MODULE="fangkong.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "sessions", verbosity=0)
    figures = {"machine": machine(), "reads": args.reads, "stores": {}}
    for label, module in ENGINES.items():
        figures["stores"][label] = measure(importlib.import_module(module).SessionStore, args)
    print(json.dumps(figures, ensure_ascii=False, indent=1))
    print(f"\n{'store':34} {'CPU µs/read':>12} {'wall µs/read':>13} {'wall p99 µs':>12}")
    for label, f in figures["stores"].items():
        print(f"{label:34} {f['cpu_us']:12.0f} {f['wall_us']:13.0f} {f['wall_p99_us']:12.0f}")


def measure(store_class, args) -> dict:
    keys = []
    for person in range(args.sessions):
        store = store_class()
        store[RESIDENT] = person
        store.save()
        keys.append(store.session_key)
    random.seed(13)
    picks = [random.choice(keys) for _ in range(args.reads)]
    for key in picks[:200]:  # warm: connections open, caches primed as in a running server
        store_class(session_key=key).get(RESIDENT)
    walls = []
    cpu_start = time.process_time()
    wall_start = time.perf_counter()
    for key in picks:
        started = time.perf_counter()
        person = store_class(session_key=key).get(RESIDENT)
        walls.append(time.perf_counter() - started)
        assert person is not None, "a session written above must be read back"
    wall = time.perf_counter() - wall_start
    cpu = time.process_time() - cpu_start
    for key in keys:
        store_class(session_key=key).delete()
    walls.sort()
    return {
        "cpu_us": cpu / args.reads * 1e6,
        "wall_us": wall / args.reads * 1e6,
        "wall_median_us": statistics.median(walls) * 1e6,
        "wall_p99_us": walls[int(len(walls) * 0.99)] * 1e6,
    }


if __name__ == "__main__":
    main()
