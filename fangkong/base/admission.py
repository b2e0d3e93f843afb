"""Shedding requests that waited too long to be worth answering (docs/scaling.md, "Overload").

At a city's peak the queues in front of the app (nginx's connection to a node, gunicorn's
backlog, a busy worker's socket) can grow until every request is answered after the phone or
the checkpoint has given up: the app then works at full speed for nobody. nginx stamps each
request `X-Request-Start: t=<epoch seconds>` as it hands it on (deploy/nginx.conf); a request
that arrives here older than ADMISSION_MAX_QUEUE_SECONDS is answered 503 at once, before
Django, so the time goes to requests that can still be served, and the client retries after
Retry-After (jittered, so a shed crowd does not come back at the same second).

The stamp is believed only when FANGKONG_TRUST_REQUEST_START is on: without a proxy that
overwrites it, a client could send an old stamp and have itself refused, which harms nobody,
but the setting says where the stamp comes from. The check is a dict lookup and a float
parse: it wraps the verify hot path too.
"""

from __future__ import annotations

import logging
import random
import threading
import time

logger = logging.getLogger("fangkong.admission")

BUSY = "系统繁忙,请稍后重试"
JSON_BODY = ('{"detail": "' + BUSY + '"}').encode()
HTML_BODY = (
    '<!doctype html><html lang="zh-Hans"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width,initial-scale=1">'
    f"<title>{BUSY}</title><p>{BUSY}</p></html>"
).encode()
# A shed client comes back after this many seconds, drawn anew for each answer.
RETRY_AFTER_SECONDS = (2, 6)
# While shedding, a warning is logged at most this often (with the count since the last one).
LOG_EVERY_SECONDS = 10.0

_lock = threading.Lock()
_shed = 0


def shed_total() -> int:
    """Requests this process has shed since it started (every guard in it)."""
    return _shed


def queued_for(stamp: str, now: float) -> float | None:
    """Seconds since the proxy's stamp ("t=1733480000.123"), or None if it is not one."""
    if stamp.startswith("t="):
        stamp = stamp[2:]
    try:
        started = float(stamp)
    except ValueError:
        return None
    if started != started or started <= 0:  # NaN, or no time at all
        return None
    return now - started


def wants_json(path: str) -> bool:
    return path.startswith("/api/") or path.endswith(".json")


class AdmissionGuard:
    """WSGI middleware: the outermost layer of fangkong.wsgi.application."""

    def __init__(self, app, max_queue_seconds: float | None = None, trusted: bool | None = None):
        if max_queue_seconds is None or trusted is None:
            from django.conf import settings

            if max_queue_seconds is None:
                max_queue_seconds = settings.ADMISSION_MAX_QUEUE_SECONDS
            if trusted is None:
                trusted = settings.TRUST_REQUEST_START
        self.app = app
        self.max_queue_seconds = float(max_queue_seconds)
        self.trusted = bool(trusted)
        self._logged_at = 0.0
        self._logged_total = 0

    def __call__(self, environ, start_response):
        if self.trusted:
            stamp = environ.get("HTTP_X_REQUEST_START")
            if stamp is not None:
                waited = queued_for(stamp, time.time())
                if waited is not None and waited > self.max_queue_seconds:
                    return self.shed(environ, start_response, waited)
        return self.app(environ, start_response)

    def shed(self, environ, start_response, waited: float):
        global _shed
        with _lock:  # threads of one gunicorn worker shed at once
            _shed += 1
        path = environ.get("PATH_INFO", "")
        if wants_json(path):
            body, kind = JSON_BODY, "application/json"
        else:
            body, kind = HTML_BODY, "text/html; charset=utf-8"
        start_response(
            "503 Service Unavailable",
            [
                ("Content-Type", kind),
                ("Content-Length", str(len(body))),
                ("Retry-After", str(random.randint(*RETRY_AFTER_SECONDS))),
                ("Cache-Control", "no-store"),
            ],
        )
        self._report(waited)
        return [body]

    def _report(self, waited: float) -> None:
        now = time.monotonic()
        if now - self._logged_at < LOG_EVERY_SECONDS:
            return
        total = shed_total()
        logger.warning(
            "shed %d request(s) queued too long (latest waited %.2f s, limit %.2f s)",
            total - self._logged_total,
            waited,
            self.max_queue_seconds,
        )
        self._logged_at, self._logged_total = now, total
