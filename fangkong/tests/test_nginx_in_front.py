"""The repo's nginx (deploy/nginx.conf) in front of two app nodes on one database: requests are
spread over both, a sign-in through one is honoured by the other, static files come from nginx
itself, limits and overload are answered 503 with Retry-After, and the request stamp nginx adds
lets the app shed what waited too long (issue 13)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connections

from fangkong.base import admission
from fangkong.base.admission import AdmissionGuard

PROJECT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
STATIC = Path(settings.STATICFILES_DIRS[0])


def load_renderer():
    spec = importlib.util.spec_from_file_location(
        "render_nginx", PROJECT / "deploy/render_nginx.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Node:
    """An app node: Django's live server in a thread, its app wrapped by the overload guard as
    fangkong.wsgi wraps it, trusting the stamp as a deployment behind nginx does."""

    def __init__(self):
        from django.contrib.staticfiles.handlers import StaticFilesHandler
        from django.test.testcases import LiveServerThread

        shared = {
            c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()
        }
        for connection in shared.values():
            connection.inc_thread_sharing()
        self.thread = LiveServerThread(
            "127.0.0.1",
            static_handler=lambda app: AdmissionGuard(
                StaticFilesHandler(app), max_queue_seconds=1.0, trusted=True
            ),
            connections_override=shared,
        )
        self.thread.daemon = True
        self.thread.start()
        self.thread.is_ready.wait()
        if self.thread.error:
            raise self.thread.error
        self.address = f"127.0.0.1:{self.thread.port}"

    def stop(self):
        if not self.thread.is_alive():
            return
        self.thread.terminate()
        self.thread.join(timeout=5)
        for connection in self.thread.connections_override.values():
            connection.dec_thread_sharing()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_nginx():
    if not os.path.exists(NGINX):
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed (.ci/run installs it)")
        pytest.skip("nginx is not installed (Debian's `nginx` package; CI installs it)")


@pytest.fixture
def proxy(tmp_path, transactional_db):
    """nginx on a free port in front of two nodes; the nodes' threads read what the test wrote,
    so the test's writes are committed (transactional_db)."""
    need_nginx()
    nodes = [Node(), Node()]
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        load_renderer().render(
            [n.address for n in nodes],
            f"127.0.0.1:{port}",
            tmp_path,
            STATIC,
            daemon=False,
            worker_processes=1,
            worker_connections=256,
            pages_rate="1r/m",
            pages_burst=2,
            checkpoint_rate="1r/m",
            checkpoint_burst=0,
            signin_rate=None,
        )
    )
    process = subprocess.Popen(  # noqa: S603 — Debian's nginx with the rendered config
        [NGINX, "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() < deadline, "nginx did not start listening"
                time.sleep(0.02)
        yield Proxy(f"http://127.0.0.1:{port}", tmp_path / "access.log", nodes)
    finally:
        process.terminate()
        process.wait(timeout=10)
        for node in nodes:
            node.stop()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Proxy:
    def __init__(self, url, access_log, nodes):
        self.url, self.access_log, self.nodes = url, access_log, nodes
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect
        )

    def request(self, path, data=None, headers=None):
        """(status, headers, body) of one request through nginx."""
        url = self.url + path  # http://127.0.0.1:PORT, the test's own nginx
        request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def upstreams(self, path_prefix):
        """The node that served each logged request for the path, in order ("-": nginx)."""
        found = []
        for line in self.access_log.read_text().splitlines():
            request = re.search(r'"[A-Z]+ (\S+) ', line)
            if request and request.group(1).startswith(path_prefix):
                found.append(re.search(r" up=(.*) scan=", line).group(1))
        return found


@pytest.fixture(params=["db", "redis"])
def session_store(request, settings):
    """The two stores FANGKONG_SESSION_STORE chooses between, as fangkong/settings.py sets them."""
    if request.param == "redis":
        import redis

        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1).ping()
        except redis.RedisError:
            if os.environ.get("CI") == "true":
                pytest.fail(f"Redis at {settings.REDIS_URL} is not reachable, and CI needs it")
            pytest.skip(f"Redis at {settings.REDIS_URL} is not reachable")
        settings.CACHES = {
            **settings.CACHES,
            "sessions": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": settings.REDIS_URL,
                "KEY_PREFIX": "fangkong-test",
            },
        }
        settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
        settings.SESSION_CACHE_ALIAS = "sessions"
    return request.param


def test_requests_are_spread_over_both_nodes_and_one_sign_in_holds_on_each(
    session_store, proxy, make_staff
):
    make_staff("command_centre", username="zhang-wei")
    status, _, form = proxy.request("/accounts/login/")
    assert status == 200
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1).decode()
    body = f"csrfmiddlewaretoken={token}&username=zhang-wei&password=correct-horse-battery"
    status, headers, _ = proxy.request(
        "/accounts/login/", body.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 302, "the sign-in was refused"
    if session_store == "redis":
        # Every read is answered by Redis: the database's copy is only for a Redis restart.
        Session.objects.all().delete()

    pages = [proxy.request("/") for _ in range(6)]

    assert all(status == 200 and "zhang-wei" in body.decode() for status, _, body in pages)
    assert set(proxy.upstreams("/")[-6:]) == {node.address for node in proxy.nodes}


def test_static_files_are_served_by_nginx_itself(proxy):
    status, headers, body = proxy.request("/static/fangkong/site.css")
    assert status == 200
    assert body == (STATIC / "fangkong/site.css").read_bytes()
    assert "max-age=3600" in headers["Cache-Control"]
    assert proxy.upstreams("/static/") == ["-"]


def test_past_the_per_address_limit_a_resident_is_asked_to_retry_later(proxy):
    answers = [proxy.request("/r/") for _ in range(4)]  # the test's limit: 3 at once
    status, headers, body = answers[-1]
    assert [a[0] for a in answers[:3]] == [302, 302, 302]  # to the sign-in page: let through
    assert status == 503
    assert 2 <= int(headers["Retry-After"]) <= 5
    assert headers["Cache-Control"] == "no-store"
    assert "系统繁忙,请稍后重试" in body.decode()
    status, headers, body = proxy.request("/r/code.json")
    assert status == 503
    assert json.loads(body) == {"detail": "系统繁忙,请稍后重试"}


def test_a_busy_checkpoint_is_limited_without_holding_up_another(proxy):
    def verify(checkpoint):
        return proxy.request(
            f"/api/checkpoints/{checkpoint}/verify",
            b"{}",
            {
                "Content-Type": "application/json",
                "Authorization": "Bearer not-a-device-key",
                "X-Scan-Id": f"scan-{checkpoint}",
            },
        )

    first, second, elsewhere = verify(41), verify(41), verify(42)

    assert first[0] in (401, 403)  # the app refuses a key it does not know
    assert second[0] == 503
    assert "Retry-After" in second[1]
    assert json.loads(second[2]) == {"detail": "系统繁忙,请稍后重试"}
    assert elsewhere[0] in (401, 403)
    nodes = {node.address for node in proxy.nodes}
    served_by = proxy.upstreams("/api/checkpoints/41/")
    assert served_by[0] in nodes and served_by[1] == "-"  # the second never reached a node
    assert "scan=scan-41" in proxy.access_log.read_text()  # the bench matches scans by it


def test_when_a_node_goes_away_its_scans_are_answered_by_the_other(proxy):
    proxy.nodes[1].stop()
    answers = [
        proxy.request(
            f"/api/checkpoints/{checkpoint}/verify",
            b"{}",
            {"Content-Type": "application/json", "Authorization": "Bearer not-a-device-key"},
        )
        for checkpoint in range(51, 55)
    ]
    assert [status in (401, 403) for status, _, _ in answers] == [True] * 4  # from the app
    served_by = proxy.upstreams("/api/checkpoints/5")
    retried = f"{proxy.nodes[1].address}, {proxy.nodes[0].address}"  # tried, then sent on
    assert retried in served_by
    assert set(served_by) == {proxy.nodes[0].address, retried}


def test_the_stamp_nginx_adds_lets_a_node_shed_a_request_that_waited_too_long(proxy):
    # A client's own stamp is overwritten: an old one does not get it refused.
    status, _, _ = proxy.request("/r/login/", headers={"X-Request-Start": "t=1000000000.000"})
    assert status == 200
    shed_before = admission.shed_total()
    # The nodes' clock 5 s ahead of nginx's: every request looks 5 s old when a node gets it.
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=5)):
        status, headers, body = proxy.request("/r/login/")
    assert status == 503
    assert 2 <= int(headers["Retry-After"]) <= 6
    assert "系统繁忙,请稍后重试" in body.decode()
    assert admission.shed_total() == shed_before + 1


def test_the_production_configuration_with_every_limit_on_is_accepted_by_nginx(tmp_path):
    need_nginx()
    conf = tmp_path / "nginx.conf"
    renderer = load_renderer()
    conf.write_text(renderer.render(["10.0.0.11:8000", "10.0.0.12:8000"], 80, tmp_path, STATIC))
    checked = subprocess.run(  # noqa: S603 — Debian's nginx checking the rendered file
        [NGINX, "-t", "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    assert "server 10.0.0.12:8000 max_conns=24;" in conf.read_text()
    assert conf.read_text().count("limit_req zone=") == 5


def test_a_capacity_run_can_turn_every_limit_off():
    off = {name: None for name in load_renderer().LIMITS if not name.endswith("_burst")}
    text = load_renderer().render(["127.0.0.1:8001"], 8080, None, STATIC, **off)
    assert "limit_req zone=" not in text
    assert "limit_conn per_address" not in text
    assert "server 127.0.0.1:8001;" in text  # no max_conns
