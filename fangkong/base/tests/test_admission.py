"""The overload guard: a request that waited in the queues past the limit is answered 503 at
once, before Django; anything else reaches the site as if the guard were not there."""

import importlib.util
import json
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
import time_machine
from django.core.wsgi import get_wsgi_application

from fangkong.base import admission
from fangkong.base.admission import AdmissionGuard

NOW = datetime(2022, 4, 24, 4, 0, tzinfo=UTC)
T = NOW.timestamp()


@pytest.fixture
def site(db):
    """The whole site as a server runs it (its request cycle checks the database connection)."""
    return get_wsgi_application()


def call(app, path, stamp=None):
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": BytesIO(),
        "wsgi.errors": BytesIO(),
    }
    if stamp is not None:
        environ["HTTP_X_REQUEST_START"] = stamp
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)

    body = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], body


@time_machine.travel(NOW, tick=False)
def test_a_request_that_waited_too_long_is_told_to_come_back_later_in_json(site):
    guard = AdmissionGuard(site, max_queue_seconds=1.0, trusted=True)
    before = admission.shed_total()
    status, headers, body = call(guard, "/api/checkpoints/7/verify", f"t={T - 1.5:.3f}")
    assert status == 503
    assert 2 <= int(headers["Retry-After"]) <= 6
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"detail": "系统繁忙,请稍后重试"}
    assert admission.shed_total() == before + 1


@time_machine.travel(NOW, tick=False)
def test_the_resident_code_json_is_refused_in_json_and_pages_in_chinese_html(site):
    guard = AdmissionGuard(site, max_queue_seconds=1.0, trusted=True)
    _, json_headers, json_body = call(guard, "/r/code.json", f"t={T - 3:.3f}")
    status, headers, body = call(guard, "/r/", f"t={T - 3:.3f}")
    assert json.loads(json_body)["detail"] == "系统繁忙,请稍后重试"
    assert json_headers["Content-Type"] == "application/json"
    assert status == 503
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "系统繁忙,请稍后重试" in body.decode()
    assert int(headers["Content-Length"]) == len(body)


@time_machine.travel(NOW, tick=False)
def test_retry_after_is_spread_so_a_refused_crowd_does_not_return_at_once(site):
    guard = AdmissionGuard(site, max_queue_seconds=1.0, trusted=True)
    waits = {call(guard, "/r/", f"t={T - 2:.3f}")[1]["Retry-After"] for _ in range(60)}
    assert len(waits) > 1


@time_machine.travel(NOW, tick=False)
def test_a_fresh_request_reaches_the_site(site):
    guard = AdmissionGuard(site, max_queue_seconds=1.0, trusted=True)
    before = admission.shed_total()
    status, headers, _ = call(guard, "/favicon.ico", f"t={T - 0.2:.3f}")
    assert status == 200
    assert headers["Content-Type"] == "image/x-icon"
    assert admission.shed_total() == before


@time_machine.travel(NOW, tick=False)
def test_the_stamp_is_ignored_unless_the_deployment_trusts_its_proxy(site):
    guard = AdmissionGuard(site, max_queue_seconds=1.0, trusted=False)
    status, _, _ = call(guard, "/favicon.ico", f"t={T - 60:.3f}")
    assert status == 200


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("stamp", ["", "t=", "t=soon", "t=nan", "t=-5", "0", "t=1e400x"])
def test_a_malformed_stamp_is_ignored(site, stamp):
    guard = AdmissionGuard(site, max_queue_seconds=1.0, trusted=True)
    status, _, _ = call(guard, "/favicon.ico", stamp)
    assert status == 200


@time_machine.travel(NOW, tick=False)
def test_a_stamp_without_the_t_prefix_and_a_proxy_clock_ahead_are_understood(site):
    guard = AdmissionGuard(site, max_queue_seconds=1.0, trusted=True)
    assert call(guard, "/favicon.ico", f"{T - 5:.3f}")[0] == 503
    assert call(guard, "/favicon.ico", f"t={T + 5:.3f}")[0] == 200


def test_the_guard_reads_its_limit_and_trust_from_the_settings(site, settings):
    settings.ADMISSION_MAX_QUEUE_SECONDS = 0.25
    settings.TRUST_REQUEST_START = True
    guard = AdmissionGuard(site)
    assert (guard.max_queue_seconds, guard.trusted) == (0.25, True)


def test_the_proxy_answers_overload_with_the_guards_own_words():
    path = Path(__file__).resolve().parents[3] / "deploy/render_nginx.py"
    spec = importlib.util.spec_from_file_location("render_nginx", path)
    renderer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(renderer)
    assert renderer.BUSY_JSON.encode() == admission.JSON_BODY
    assert renderer.BUSY_HTML.encode() == admission.HTML_BODY
