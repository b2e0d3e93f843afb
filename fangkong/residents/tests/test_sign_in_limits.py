"""Asking for a sign-in code tells nobody whether an ID number is registered, and neither one
client nor one ID number can ask without limit; codes never reach the log (issue 11, item 6)."""

import logging
import re
import time
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from fangkong.audit.models import AuditEntry
from fangkong.engine.id_numbers import make_id_number
from fangkong.ingest.tests.support import BJ
from fangkong.residents.models import OutboxMessage

pytestmark = pytest.mark.django_db
MORNING = datetime(2022, 4, 24, 10, tzinfo=BJ)
STRANGER = make_id_number("220102", date(1990, 5, 5), 777)


@pytest.fixture(autouse=True)
def _answers_at_once(settings):
    settings.SIGNIN_ANSWER_SECONDS = 0


def ask(client, id_number, **headers):
    return client.post("/r/login/", {"id_number": id_number}, **headers).content.decode()


def page_of(html: str) -> str:
    """The page as the visitor reads it: without its per-request CSRF tokens."""
    return re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")\w+', r"\1", html)


def strangers(count: int) -> list[str]:
    return [make_id_number("220104", date(1985, 1, 1), 300 + i) for i in range(count)]


def test_a_registered_and_an_unknown_id_number_get_the_same_page(city):
    with time_machine.travel(MORNING, tick=False):
        registered = ask(Client(), city.nanguan[0])
        unknown = ask(Client(), STRANGER)
    assert page_of(registered).replace(city.nanguan[0], STRANGER) == page_of(unknown)
    assert "若该身份证号已登记,验证码已发送至登记的手机" in registered
    assert "139****" not in registered
    assert OutboxMessage.objects.count() == 1  # the registered one's phone, nobody else's


def test_asking_again_too_soon_is_refused_in_the_same_words_for_either(city):
    answers = []
    for id_number in (city.nanguan[0], STRANGER):
        client = Client()
        with time_machine.travel(MORNING, tick=False):
            ask(client, id_number)
            answers.append(page_of(ask(client, id_number)).replace(id_number, "ID"))
    assert answers[0] == answers[1]
    assert "操作过于频繁,请于 4月24日 10:01 后再试" in answers[0]


def test_an_unknown_id_number_is_answered_no_sooner_than_a_registered_one(city, settings):
    settings.SIGNIN_ANSWER_SECONDS = 0.4
    took = {city.nanguan[0]: [], STRANGER: []}
    ask(Client(), city.nanguan[1])  # the first request of a process loads what it needs
    for minute in range(3):
        with time_machine.travel(MORNING + timedelta(minutes=2 * minute), tick=False):
            for id_number, times in took.items():
                started = time.perf_counter()
                ask(Client(), id_number)
                times.append(time.perf_counter() - started)
    registered, unknown = (sorted(times)[1] for times in took.values())
    assert min(took[STRANGER]) >= 0.4 and min(took[city.nanguan[0]]) >= 0.4
    assert abs(unknown - registered) < 0.1, took


def test_one_client_asking_for_many_id_numbers_is_refused_past_ten(city):
    client = Client()
    with time_machine.travel(MORNING, tick=False):
        answers = [ask(client, id_number) for id_number in city.nanguan[:10]]
        eleventh = ask(client, city.nanguan[10])
    assert all("验证码已发送" in answer for answer in answers)
    assert "操作过于频繁,请于 4月24日 10:30 后再试" in eleventh
    assert OutboxMessage.objects.count() == 10
    lockout = AuditEntry.objects.get(action="signin.lockout")
    assert lockout.detail["scope"] == "resident-client" and lockout.detail["who"] == "127.0.0.1"
    with time_machine.travel(MORNING + timedelta(minutes=31), tick=False):
        assert "验证码已发送" in ask(client, city.nanguan[10])


def test_another_address_is_not_held_back_by_a_refused_one(city):
    with time_machine.travel(MORNING, tick=False):
        for id_number in strangers(11):
            ask(Client(REMOTE_ADDR="203.0.113.7"), id_number)
        answer = ask(Client(REMOTE_ADDR="203.0.113.8"), city.nanguan[0])
    assert "验证码已发送" in answer


def test_a_forwarded_for_header_is_not_believed_from_a_client(city):
    client = Client(REMOTE_ADDR="203.0.113.7")
    with time_machine.travel(MORNING, tick=False):
        for i, id_number in enumerate(strangers(10)):
            ask(client, id_number, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
        answer = ask(client, city.nanguan[0], HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert "操作过于频繁" in answer and not OutboxMessage.objects.exists()


def test_behind_a_trusted_proxy_each_forwarded_client_counts_apart(city, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    with time_machine.travel(MORNING, tick=False):
        for id_number in strangers(11):
            ask(proxy, id_number, HTTP_X_FORWARDED_FOR="198.51.100.1")
        refused = ask(proxy, city.nanguan[0], HTTP_X_FORWARDED_FOR="198.51.100.1")
        # What the client wrote into the header before the proxy's own entry is not believed.
        spoofed = ask(proxy, city.nanguan[0], HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1")
        other = ask(proxy, city.nanguan[0], HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert "操作过于频繁" in refused and "操作过于频繁" in spoofed
    assert "验证码已发送" in other


def test_an_id_number_gets_five_codes_an_hour_from_any_number_of_clients(city):
    for minute in range(6):
        with time_machine.travel(MORNING + timedelta(minutes=2 * minute), tick=False):
            answer = ask(Client(REMOTE_ADDR=f"203.0.113.{minute}"), city.nanguan[0])
    assert "操作过于频繁,请于 4月24日 11:00 后再试" in answer
    assert OutboxMessage.objects.count() == 5
    with time_machine.travel(MORNING + timedelta(hours=1), tick=False):
        assert "验证码已发送" in ask(Client(), city.nanguan[0])
    assert OutboxMessage.objects.count() == 6


def test_one_client_typing_wrong_codes_is_held_back(city):
    client = Client()
    with time_machine.travel(MORNING, tick=False):
        ask(client, city.nanguan[0])
        code = re.search(r"\d{6}", OutboxMessage.objects.get().text).group()
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for id_number in [city.nanguan[0]] * 4 + strangers(15) + [STRANGER]:
            answer = client.post("/r/login/", {"id_number": id_number, "code": wrong})
        assert "验证码不正确" not in answer.content.decode()
        assert "操作过于频繁,请于 4月24日 10:30 后再试" in answer.content.decode()
        right = client.post("/r/login/", {"id_number": city.nanguan[0], "code": code})
    assert right.status_code == 200 and client.get("/r/").status_code == 302


def test_no_code_reaches_the_log(city, caplog):
    with caplog.at_level(logging.DEBUG), time_machine.travel(MORNING, tick=False):
        ask(Client(), city.nanguan[0])
    code = re.search(r"\d{6}", OutboxMessage.objects.get().text).group()
    logged = [record.getMessage() for record in caplog.records]
    assert any("dev outbox" in line for line in logged)
    assert not any(code in line for line in logged)
