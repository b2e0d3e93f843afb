"""Wrong passwords are limited per account and per client, with a lockout the audit log records
and a message that says when to try again (issue 11, item 6)."""

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.urls import reverse

from fangkong.accounts import forms
from fangkong.accounts.throttle import SCOPE_LABELS, client_address
from fangkong.audit.models import AuditEntry
from fangkong.residents import otp

pytestmark = pytest.mark.django_db
BJ = timezone(timedelta(hours=8))
NINE = datetime(2022, 4, 24, 9, tzinfo=BJ)
RIGHT = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _a_quick_password_hash(settings):
    # Dozens of sign-ins per test: the limits are the subject here, not the hash's cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def sign_in(client, username, password, url=None):
    return client.post(
        url or reverse("accounts:login"), {"username": username, "password": password}
    )


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(make_staff):
    make_staff("hotline", username="zhang")
    client = Client()
    with time_machine.travel(NINE, tick=False):
        answers = [sign_in(client, "zhang", f"guess-{i}").content.decode() for i in range(5)]
        right = sign_in(Client(REMOTE_ADDR="203.0.113.9"), "zhang", RIGHT)
    assert all("用户名或密码不正确" in a for a in answers[:4])
    assert "密码错误次数过多,登录已暂时锁定,请于 4月24日 09:15 后再试" in answers[4]
    assert right.status_code == 200 and "已暂时锁定" in right.content.decode()
    lockout = AuditEntry.objects.get(action="signin.lockout")
    assert lockout.detail == {
        "scope": "staff-account",
        "who": "zhang",
        "attempts": 5,
        "until": "2022-04-24 09:15:00+08:00",
    }


def test_the_account_opens_again_when_the_lockout_ends(make_staff):
    make_staff("hotline", username="zhang")
    with time_machine.travel(NINE, tick=False):
        for i in range(5):
            sign_in(Client(), "zhang", f"guess-{i}")
    with time_machine.travel(NINE + timedelta(minutes=15), tick=False):
        answer = sign_in(Client(), "zhang", RIGHT)
    assert answer.status_code == 302 and answer["Location"] == reverse("home")


def test_the_case_of_the_user_name_buys_no_more_tries(make_staff):
    make_staff("hotline", username="zhang")
    with time_machine.travel(NINE, tick=False):
        for name in ("zhang", "Zhang", "ZHANG", "zHang", "zhAng"):
            sign_in(Client(), name, "guess")
        assert "已暂时锁定" in sign_in(Client(), "zhang", RIGHT).content.decode()


def test_the_right_password_starts_the_count_again(make_staff):
    make_staff("hotline", username="zhang")
    with time_machine.travel(NINE, tick=False):
        for i in range(4):
            sign_in(Client(), "zhang", f"guess-{i}")
        assert sign_in(Client(), "zhang", RIGHT).status_code == 302
        for i in range(4):
            sign_in(Client(), "zhang", f"again-{i}")
        assert sign_in(Client(), "zhang", RIGHT).status_code == 302


def test_one_client_trying_many_accounts_is_locked_out(make_staff):
    make_staff("hotline", username="zhang")
    client = Client(REMOTE_ADDR="203.0.113.5")
    with time_machine.travel(NINE, tick=False):
        for i in range(20):
            sign_in(client, f"user-{i}", "123456")
        mine = sign_in(client, "zhang", RIGHT)
        elsewhere = sign_in(Client(REMOTE_ADDR="203.0.113.6"), "zhang", RIGHT)
    assert mine.status_code == 200 and "已暂时锁定" in mine.content.decode()
    assert elsewhere.status_code == 302
    lockout = AuditEntry.objects.get(action="signin.lockout")
    assert lockout.detail["scope"] == "staff-client" and lockout.detail["who"] == "203.0.113.5"


def test_an_unknown_user_name_is_locked_like_a_real_one(db):
    with time_machine.travel(NINE, tick=False):
        answers = [sign_in(Client(), "nobody", f"guess-{i}").content.decode() for i in range(6)]
    assert "已暂时锁定" in answers[4] and "已暂时锁定" in answers[5]


def test_the_admin_sign_in_is_limited_too(make_staff):
    user = make_staff("admin", username="root")
    user.is_staff = True
    user.save()
    url = reverse("admin:login")
    with time_machine.travel(NINE, tick=False):
        for i in range(5):
            sign_in(Client(), "root", f"guess-{i}", url)
        answer = sign_in(Client(), "root", RIGHT, url)
    assert answer.status_code == 200 and "已暂时锁定" in answer.content.decode()


@pytest.mark.parametrize(
    ("remote", "forwarded", "proxies", "client"),
    [
        ("203.0.113.5", "198.51.100.1", [], "203.0.113.5"),
        ("10.0.0.2", "198.51.100.1", ["10.0.0.0/8"], "198.51.100.1"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.1", ["10.0.0.0/8"], "198.51.100.1"),
        ("10.0.0.2", "198.51.100.1, 10.0.0.9", ["10.0.0.0/8"], "198.51.100.1"),
        ("10.0.0.2", "not-an-address, 10.0.0.9", ["10.0.0.0/8"], "10.0.0.9"),
        ("10.0.0.2", "", ["10.0.0.0/8"], "10.0.0.2"),
        ("2001:db8:1:2:3:4:5:6", "", [], "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.5", "", [], "203.0.113.5"),
    ],
)
def test_the_client_is_the_address_a_trusted_proxy_saw(
    settings, remote, forwarded, proxies, client
):
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == client


def test_an_auditor_reads_a_lockout_in_chinese(make_staff):
    make_staff("hotline", username="zhang")
    with time_machine.travel(NINE, tick=False):
        for i in range(5):
            sign_in(Client(), "zhang", f"guess-{i}")
        auditor = Client()
        auditor.force_login(make_staff("auditor"))
        html = auditor.get(reverse("audit:log")).content.decode()
    assert "工作人员账号(密码错误)" in html and "zhang" in html and "4月24日 09:15" in html


def test_every_audited_limit_is_named_for_the_audit_log():
    rules = [
        forms.per_account(),
        forms.per_client(),
        otp.per_client(),
        otp.per_client_wrong_codes(),
        otp.PER_ID_HOUR,
        otp.PER_ID_MINUTE,
    ]
    assert {r.scope for r in rules if r.audited} == set(SCOPE_LABELS)
