"""Online verification by a device, answered without Django's middleware and Ninja's parsing.

A gate device posts `POST /api/checkpoints/<id>/verify` with its bearer key, thousands of times a
second across a city; the full stack spent most of a verify's CPU on work a device request does
not need (sessions, CSRF, messages, locale, schema validation). This handler answers the
ordinary requests itself, with `do_verify` (the same judging as the Ninja route), the same JSON
and the headers the middleware would add, and hands everything else to Django untouched: a
Host Django would refuse, a plain-HTTP request the site redirects, a staff session, a key no
checkpoint has, a body that is not exactly the documented one (so those answers are Ninja's
own).
"""

from __future__ import annotations

import io
import json
import logging
import math
import re
import threading
import time
import uuid

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.http.request import split_domain_port, validate_host
from django.utils import timezone

from fangkong.api_errors import SERVER_ERROR
from fangkong.checkpoints.access import checkpoint_for_device
from fangkong.checkpoints.actions import do_verify
from fangkong.engine import tokens

log = logging.getLogger("fangkong.api")
PATH = re.compile(r"/api/checkpoints/([0-9]+)/verify")
MAX_BODY = 8 * 1024  # a token is at most 2 KiB; anything larger is Django's to refuse
FIELDS = {"token", "scan_id", "direction", "tube", "pool_size"}
# VerdictOut's fields, in its order (api.py), so both paths send the same bytes.
VERDICT = ("outcome", "reasons", "kind", "colour", "name", "id_number", "mode", "scan_id")
VERDICT += ("recorded", "sampling")
THROTTLED = "本卡口扫码过于频繁,请稍后再试(一个卡口每秒最多扫码{rate}次)"


def takes(environ) -> bool:
    """Whether a request is one for this handler: a device's verify, not a staff session's."""
    return (
        environ.get("REQUEST_METHOD") == "POST"
        and environ.get("PATH_INFO", "").endswith("/verify")
        and environ.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer "
        and settings.SESSION_COOKIE_NAME + "=" not in environ.get("HTTP_COOKIE", "")
    )


class Buckets:
    """A token bucket per checkpoint, in this process: a gate scans a few people a second, so a
    flood from one device key is a stolen or broken key (per-address limits are nginx's)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.buckets: dict[int, list[float]] = {}

    def take(self, checkpoint_id: int) -> float:
        """0 if a scan may go ahead, else the seconds until it may."""
        rate = float(getattr(settings, "CHECKPOINT_SCANS_PER_SECOND", 50))
        now = time.monotonic()
        with self.lock:
            level, then = self.buckets.get(checkpoint_id, (rate, now))
            level = min(rate, level + (now - then) * rate)
            if level >= 1:
                self.buckets[checkpoint_id] = [level - 1, now]
                return 0.0
            self.buckets[checkpoint_id] = [level, now]
            return (1 - level) / rate


buckets = Buckets()


def throttled(checkpoint_id: int) -> tuple[int, str] | None:
    """(Retry-After seconds, the reason) if this checkpoint is over its rate, else None."""
    wait = buckets.take(checkpoint_id)
    if not wait:
        return None
    rate = getattr(settings, "CHECKPOINT_SCANS_PER_SECOND", 50)
    return max(1, math.ceil(wait)), THROTTLED.format(rate=rate)


class FastVerify:
    def __init__(self, django_app):
        self.django_app = django_app

    def __call__(self, environ, start_response):
        # Django's signals, as its handler sends them: they close connections past their age
        # (and tests that call the app directly switch that off the same way).
        request_started.send(sender=FastVerify, environ=environ)
        try:
            return self._answer(environ, start_response)
        finally:
            request_finished.send(sender=FastVerify)

    def _answer(self, environ, start_response):
        match = PATH.fullmatch(environ.get("PATH_INFO", ""))
        secure = _is_secure(environ)
        redirected = settings.SECURE_SSL_REDIRECT and not secure
        if match is None or redirected or not _host_allowed(environ):
            return self.django_app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return self.django_app(environ, start_response)
        if not 0 < length <= MAX_BODY:
            return self.django_app(environ, start_response)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # Django may still need it
        device = checkpoint_for_device(environ["HTTP_AUTHORIZATION"].split(" ", 1)[1])
        if device is None:
            # Django answers it (401, in Ninja's own words): rare enough not to matter.
            return self.django_app(environ, start_response)
        payload = _payload(body)
        if payload is None:
            return self.django_app(environ, start_response)
        if device.pk != int(match.group(1)):
            return _respond(start_response, 404, {"detail": "Not Found"}, secure)
        scan_id = payload.get("scan_id")
        if scan_id is not None and not _is_uuid(scan_id):
            return _respond(start_response, 422, {"detail": "scan_id 应为UUID"}, secure)
        limited = throttled(device.pk)
        if limited is not None:
            wait, reason = limited
            extra = [("Retry-After", str(wait))]
            return _respond(start_response, 429, {"detail": reason}, secure, extra)
        try:
            verdict = do_verify(
                device,
                payload["token"],
                timezone.now(),
                scan_id=scan_id,
                direction=payload.get("direction", ""),
                tube=payload.get("tube", ""),
                pool_size=payload.get("pool_size", 10),
                batched=True,
            )
        except Exception as error:
            log.error("POST %s failed", environ.get("PATH_INFO"), exc_info=error)
            return _respond(start_response, 500, {"detail": SERVER_ERROR}, secure)
        answer = verdict.__dict__
        return _respond(start_response, 200, {name: answer[name] for name in VERDICT}, secure)


def _payload(body: bytes) -> dict | None:
    """The body if it is exactly what VerifyIn accepts without coercion; None sends it to Ninja,
    whose validation gives the documented 422."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict) or not FIELDS.issuperset(payload):
        return None
    token, scan_id = payload.get("token"), payload.get("scan_id")
    tube, pool_size = payload.get("tube", ""), payload.get("pool_size", 10)
    if not isinstance(token, str) or len(token) > tokens.MAX_TOKEN_LENGTH:
        return None
    if scan_id is not None and not (isinstance(scan_id, str) and len(scan_id) <= 36):
        return None
    if payload.get("direction", "") not in ("exit", "return", ""):
        return None
    if not isinstance(tube, str) or len(tube) > 32:
        return None
    if type(pool_size) is not int or pool_size not in (1, 10, 20):
        return None
    return payload


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _host_allowed(environ) -> bool:
    if settings.USE_X_FORWARDED_HOST and "HTTP_X_FORWARDED_HOST" in environ:
        return False  # Django's rules for it are Django's
    host = environ.get("HTTP_HOST")
    if not host:
        return False
    domain, _ = split_domain_port(host)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


def _is_secure(environ) -> bool:
    header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if header:
        name, value = header
        forwarded = environ.get(name)
        if forwarded is not None:
            return forwarded.split(",", 1)[0].strip() == value
    return environ.get("wsgi.url_scheme") == "https"


_STATUS = {
    200: "200 OK",
    404: "404 Not Found",
    422: "422 Unprocessable Content",
    429: "429 Too Many Requests",
    500: "500 Internal Server Error",
}
_headers: list[tuple[str, str]] | None = None


def response_headers() -> list[tuple[str, str]]:
    """What the middleware stack puts on an API answer to a device (fangkong/settings.py
    MIDDLEWARE): SecurityMiddleware, NoStoreMiddleware, django-csp, the clickjacking guard.
    fastpath's parity test compares them with Django's, header by header."""
    global _headers
    if _headers is None:
        from csp.utils import build_policy

        headers = [
            ("X-Frame-Options", settings.X_FRAME_OPTIONS),
            ("Cache-Control", "no-store"),
            ("Content-Security-Policy", build_policy()),
            ("Content-Language", settings.LANGUAGE_CODE),
        ]
        if settings.SECURE_CONTENT_TYPE_NOSNIFF:
            headers.append(("X-Content-Type-Options", "nosniff"))
        if settings.SECURE_REFERRER_POLICY:
            headers.append(("Referrer-Policy", settings.SECURE_REFERRER_POLICY))
        opener = settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
        if opener:
            headers.append(("Cross-Origin-Opener-Policy", opener))
        report_only = build_policy(report_only=True)
        if report_only:
            headers.append(("Content-Security-Policy-Report-Only", report_only))
        _headers = headers
    return _headers


def _hsts() -> list[tuple[str, str]]:
    if not settings.SECURE_HSTS_SECONDS:
        return []
    value = f"max-age={settings.SECURE_HSTS_SECONDS}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if settings.SECURE_HSTS_PRELOAD:
        value += "; preload"
    return [("Strict-Transport-Security", value)]


def _respond(start_response, status: int, body: dict, secure: bool, extra=()):
    data = json.dumps(body).encode()  # as Ninja's renderer writes it
    # The session middleware adds Cookie once the user was looked at: by the session
    # authentication a refused key falls back to, and by do_verify.
    vary = "Accept-Language, Cookie" if status in (200, 500) else "Accept-Language"
    headers = [
        ("Content-Type", "application/json; charset=utf-8"),
        ("Content-Length", str(len(data))),
        ("Vary", vary),
        *extra,
        *response_headers(),
        *(_hsts() if secure else ()),
    ]
    start_response(_STATUS[status], headers)
    return [data]
