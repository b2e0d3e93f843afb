"""Gunicorn for fangkong in production:

    gunicorn --config deploy/gunicorn.conf.py fangkong.wsgi:application

Behind a reverse proxy that terminates TLS and serves /static/ (or let WhiteNoise serve it after
`collectstatic`): the repo's nginx (deploy/nginx.conf, docs/scaling.md) in front of N such
nodes, with FANGKONG_TRUST_REQUEST_START=1 so the overload guard (fangkong/base/admission.py)
reads the stamp nginx puts on each request. Settings come from the environment (FANGKONG_*:
DATABASE_URL, SECRET_KEY or SECRET_KEY_FILE, ALLOWED_HOSTS, SECURE_COOKIES=1 behind TLS for the
HTTPS redirect, HSTS and secure cookies (README, "Running in production"); DEBUG stays off).

Every setting below can be changed without editing this file: FANGKONG_BIND, FANGKONG_WORKERS,
FANGKONG_THREADS and FANGKONG_WORKER_CLASS here, or gunicorn's own command-line flags, which win
over this file.

Why threaded workers, 2 × cores + 1 processes of 2 threads (bench/verify.py, 2 cores, see the
bench/verify.py section of bench/README.md): a request is Python work under the GIL (about 7 ms
of CPU for a verify, 95 ms for the resident code page) with a few PostgreSQL round trips in
between, so the cores are used by processes, not threads. More processes than cores keep the
cores busy while some workers wait on the database; a second thread per process overlaps those
waits too. Sync workers measured the same throughput but close the connection after every
response (no keep-alive for the verifier pages and phones) and are tied up by slow clients
when no buffering proxy stands in front; 2 processes × 8 threads left the cores 15 % idle
(GIL contention). 5 × 2 had the best p99 of the configurations tried. Database connections:
one per thread (10 here, CONN_MAX_AGE 60 s), well under PostgreSQL's max_connections.
"""

import os

cores = os.cpu_count() or 1

bind = os.environ.get("FANGKONG_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("FANGKONG_WORKER_CLASS", "gthread")
workers = int(os.environ.get("FANGKONG_WORKERS", 2 * cores + 1))
threads = int(os.environ.get("FANGKONG_THREADS", 2))

# Import the project once in the master: workers fork with the code already loaded (shared
# pages, faster restarts) and a broken deployment fails at start, not at the first request.
# Nothing opens a database connection at import, so no connection is shared across the fork.
preload_app = True
# Verifier devices and phones keep their connection between scans; nginx keeps its connections
# to the node for 4 s, under this, so it never reuses one the node is closing.
keepalive = 5
# A request that takes this long is stuck (the slowest page is a fraction of a second).
timeout = 30
graceful_timeout = 30
# Recycle workers now and then, so slow memory growth cannot accumulate; the jitter keeps them
# from restarting all at once.
max_requests = 20_000
max_requests_jitter = 2_000
# Access logs come from the reverse proxy; errors go to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("FANGKONG_GUNICORN_LOG_LEVEL", "warning")
