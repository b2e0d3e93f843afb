"""The hot path (fastpath.py, in front of Django in fangkong/wsgi.py) answers a device's verify
exactly as the Ninja route does: same status, same JSON, same headers; what it does not take
reaches Django untouched."""

import uuid
from datetime import datetime, timedelta

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from fangkong.checkpoints import gatelog
from fangkong.checkpoints.actions import do_create_checkpoint
from fangkong.checkpoints.models import GateScan
from fangkong.checkpoints.tests.support import call, token_for
from fangkong.engine import tokens
from fangkong.ingest.tests.support import BJ, policy_source, report_result, sample
from fangkong.policies.actions import do_publish
from fangkong.wsgi import application, django_application

pytestmark = pytest.mark.django_db
NOON = datetime(2022, 4, 24, 12, tzinfo=BJ)


@pytest.fixture(autouse=True)
def _served_in_this_test(settings, tmp_path):
    """The app called as gunicorn calls it, on the test's connection (Django would close it
    after each request), with a spool of the test's own that only flush() commits."""
    settings.GATE_LOG_SPOOL_DIR = tmp_path / "gatelog"
    settings.GATE_LOG_FLUSHER = False
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    gatelog.close()
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def gate(city):
    sample(city.nanguan[:10], "T-0423-1", "10", datetime(2022, 4, 23, 9, tzinfo=BJ))
    report_result("T-0423-1", "negative", datetime(2022, 4, 23, 20, tzinfo=BJ))
    checkpoint, key = do_create_checkpoint(
        None, name="商场入口", type_code="public_place", county_code="220102", now=NOON
    )
    _, other_key = do_create_checkpoint(
        None, name="工厂门口", type_code="factory_gate", county_code="220102", now=NOON
    )
    return city, checkpoint, key, other_key


def both(path, body, **request):
    """The hot path's answer and Django's to the same request (bodies as the two would get
    them; a generated scan id differs, so it is left out of the comparison)."""
    with time_machine.travel(NOON, tick=False):
        fast = call(application, path, body, **request)
        slow = call(django_application, path, body, **request)
    return fast, slow


def same(fast, slow, *, scan_ids_differ=False):
    assert fast.status == slow.status, (fast.body, slow.body)
    fast_body, slow_body = fast.json(), slow.json()
    if scan_ids_differ:
        assert uuid.UUID(fast_body.pop("scan_id")) != uuid.UUID(slow_body.pop("scan_id"))
    assert fast_body == slow_body
    headers = {"Content-Length"} if scan_ids_differ else set()
    assert _comparable(fast.headers, headers) == _comparable(slow.headers, headers)


def _comparable(headers, leave_out):
    return {k.lower(): v for k, v in headers.items() if k not in leave_out}


def foreign_token(now):
    claims = {"v": 1, "sub": "x", "iat": int(now.timestamp()), "exp": int(now.timestamp()) + 60}
    return tokens.sign(tokens.CODE, claims, "kforeign", Ed25519PrivateKey.generate())


def test_a_pass_and_a_deny_by_colour_are_answered_alike_and_logged_once_each(gate):
    city, checkpoint, key, _ = gate
    path = f"/api/checkpoints/{checkpoint.pk}/verify"
    with time_machine.travel(NOON, tick=False):
        green = token_for(city.nanguan[0], NOON)
        yellow = token_for(city.nanguan[15], NOON)  # issued green; the stored code is yellow
    passed = both(path, {"token": green}, key=key)
    do_publish(policy_source("cc-2022-0420-untested"), user=None, now=NOON - timedelta(hours=1))
    denied = both(path, {"token": yellow}, key=key)
    same(*passed, scan_ids_differ=True)
    same(*denied, scan_ids_differ=True)
    assert passed[0].json()["outcome"] == "pass" and passed[0].json()["recorded"] is True
    assert denied[0].json()["reasons"] == ["健康码为黄码,此处要求绿码"]
    # The route committed its two; the hot path answered from its spool, committed in a batch.
    assert GateScan.objects.filter(checkpoint=checkpoint).count() == 2
    gatelog.flush()
    assert GateScan.objects.filter(checkpoint=checkpoint).count() == 4


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda t: t[:-3] + ("AAA" if not t.endswith("AAA") else "BBB"), id="bad"),
        pytest.param(lambda t: "not a token", id="garbage"),
        pytest.param(lambda t: foreign_token(NOON), id="unknown-key"),
    ],
)
def test_a_spoilt_token_is_denied_alike(gate, spoil):
    city, checkpoint, key, _ = gate
    with time_machine.travel(NOON, tick=False):
        token = spoil(token_for(city.nanguan[0], NOON))
    fast, slow = both(f"/api/checkpoints/{checkpoint.pk}/verify", {"token": token}, key=key)
    same(fast, slow, scan_ids_differ=True)
    assert fast.json()["outcome"] == "deny"


def test_an_expired_code_is_denied_alike(gate):
    city, checkpoint, key, _ = gate
    with time_machine.travel(NOON - timedelta(minutes=10), tick=False):
        token = token_for(city.nanguan[0], NOON - timedelta(minutes=10))
    fast, slow = both(f"/api/checkpoints/{checkpoint.pk}/verify", {"token": token}, key=key)
    same(fast, slow, scan_ids_differ=True)
    assert fast.json()["reasons"][0].startswith("二维码已过期")


def test_a_retried_scan_gets_its_first_answer_whichever_path_took_it_first(gate):
    city, checkpoint, key, _ = gate
    path = f"/api/checkpoints/{checkpoint.pk}/verify"
    with time_machine.travel(NOON, tick=False):
        token = token_for(city.nanguan[0], NOON)
    through_fast, through_django = str(uuid.uuid4()), str(uuid.uuid4())
    with time_machine.travel(NOON, tick=False):
        body = {"token": token, "scan_id": through_fast}
        first_fast = call(application, path, body, key=key)
        retried_spooled = call(application, path, body, key=key)
        first_django = call(
            django_application, path, {"token": token, "scan_id": through_django}, key=key
        )
    gatelog.flush()
    again = {"token": "not a token"}  # a retry is answered as first, whatever it carries now
    a_fast, a_slow = both(path, {**again, "scan_id": through_fast}, key=key)
    b_fast, b_slow = both(path, {**again, "scan_id": through_django}, key=key)
    same(a_fast, a_slow)
    same(b_fast, b_slow)
    assert first_fast.json()["recorded"] and first_django.json()["recorded"]
    for retry in (retried_spooled, a_fast, b_fast):
        assert retry.json()["outcome"] == "pass" and retry.json()["recorded"] is False
    assert GateScan.objects.filter(checkpoint=checkpoint).count() == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param({"token": "x", "scan_id": "not-a-uuid"}, 422, id="bad-scan-id"),
        pytest.param({"token": "x" * (tokens.MAX_TOKEN_LENGTH + 1)}, 422, id="oversized"),
        pytest.param({"token": 7}, 422, id="not-a-string"),
        pytest.param({"token": "x", "pool_size": 3}, 422, id="bad-pool"),
        pytest.param(b"{not json", 400, id="not-json"),
    ],
)
def test_a_malformed_request_is_refused_alike(gate, body, status):
    _, checkpoint, key, _ = gate
    fast, slow = both(f"/api/checkpoints/{checkpoint.pk}/verify", body, key=key)
    same(fast, slow)
    assert fast.status == status


def test_a_device_at_a_checkpoint_not_its_own_is_refused_alike(gate):
    _, checkpoint, _, other_key = gate
    fast, slow = both(f"/api/checkpoints/{checkpoint.pk}/verify", {"token": "x"}, key=other_key)
    same(fast, slow)
    assert fast.status == 404


def test_a_device_with_a_wrong_key_is_told_it_is_unauthorized_alike(gate):
    """A request carrying a bearer key means to be a device: a wrong key is 401 (not a fall
    through to the staff session's CSRF check)."""
    _, checkpoint, _, _ = gate
    fast, slow = both(f"/api/checkpoints/{checkpoint.pk}/verify", {"token": "x"}, key="fkd_wrong")
    assert fast.status == slow.status == 401
    assert fast.json() == slow.json() == {"detail": "Unauthorized"}


def test_a_request_with_no_key_is_left_to_the_staff_session_check(gate):
    """No key: Ninja tries the staff session, whose CSRF check refuses a request carrying
    neither: 403 and a CSRF cookie (a new one each time, so that header is not compared)."""
    _, checkpoint, _, _ = gate
    fast, slow = both(f"/api/checkpoints/{checkpoint.pk}/verify", {"token": "x"}, key=None)
    assert fast.status == slow.status == 403
    assert fast.json() == slow.json() == {"detail": "CSRF check Failed"}
    assert fast.headers.keys() == slow.headers.keys()


def test_a_host_django_does_not_serve_is_refused_with_400(gate):
    _, checkpoint, key, _ = gate
    fast, slow = both(
        f"/api/checkpoints/{checkpoint.pk}/verify", {"token": "x"}, key=key, host="evil.example"
    )
    assert fast.status == slow.status == 400


def test_a_checkpoint_scanning_faster_than_a_gate_can_is_told_to_wait(gate, settings):
    city, checkpoint, key, _ = gate
    settings.CHECKPOINT_SCANS_PER_SECOND = 3
    path = f"/api/checkpoints/{checkpoint.pk}/verify"
    with time_machine.travel(NOON, tick=False):
        token = token_for(city.nanguan[0], NOON)
        answers = [call(application, path, {"token": token}, key=key) for _ in range(5)]
    assert [a.status for a in answers] == [200, 200, 200, 429, 429]
    assert answers[3].headers["Retry-After"] == "1"
    assert "每秒最多扫码3次" in answers[3].json()["detail"]
    gatelog.flush()
    assert GateScan.objects.filter(checkpoint=checkpoint).count() == 3
