"""A resident signs in with a one-time code and sees their code, QR, latest test and reasons."""

import re
from datetime import datetime, timedelta

import pytest
import time_machine

from fangkong.ingest.tests.support import BJ, policy_source, report_result, sample
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish
from fangkong.residents.models import OutboxMessage
from fangkong.signing import keys

pytestmark = pytest.mark.django_db
MORNING = datetime(2022, 4, 24, 10, tzinfo=BJ)


def sign_in(client, id_number):
    client.post("/r/login/", {"id_number": id_number})
    text = OutboxMessage.objects.order_by("-id").first().text
    code = re.search(r"\d{6}", text).group()
    return client.post("/r/login/", {"id_number": id_number, "code": code})


def test_a_resident_signs_in_with_the_code_sent_to_their_phone(client, city):
    with time_machine.travel(MORNING, tick=False):
        first = client.post("/r/login/", {"id_number": city.nanguan[0]}).content.decode()
        # The phone is not shown: that would tell anyone who types the number it is registered.
        assert "若该身份证号已登记,验证码已发送至登记的手机" in first and "0001" not in first
        answer = sign_in_after_a_minute(client, city.nanguan[0])
    assert answer.status_code == 302 and answer["Location"] == "/r/"


def sign_in_after_a_minute(client, id_number):
    with time_machine.travel(MORNING + timedelta(minutes=2), tick=False):
        return sign_in(client, id_number)


def test_a_wrong_code_does_not_sign_in_and_five_tries_burn_the_code(client, city):
    with time_machine.travel(MORNING, tick=False):
        client.post("/r/login/", {"id_number": city.nanguan[0]})
        code = re.search(r"\d{6}", OutboxMessage.objects.get().text).group()
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(5):
            answer = client.post("/r/login/", {"id_number": city.nanguan[0], "code": wrong})
            assert "验证码不正确" in answer.content.decode()
        late = client.post("/r/login/", {"id_number": city.nanguan[0], "code": code})
    assert late.status_code == 200  # the right code no longer works
    assert client.get("/r/").status_code == 302


def test_an_unregistered_id_number_gets_the_same_answer_and_no_message(client, city):
    from datetime import date

    from fangkong.engine.id_numbers import make_id_number

    stranger = make_id_number("220102", date(1990, 5, 5), 777)
    with time_machine.travel(MORNING, tick=False):
        answer = client.post("/r/login/", {"id_number": stranger}).content.decode()
    assert "若该身份证号已登记" in answer
    assert not OutboxMessage.objects.exists()


def test_codes_cannot_be_requested_more_than_once_a_minute(client, city):
    with time_machine.travel(MORNING, tick=False):
        client.post("/r/login/", {"id_number": city.nanguan[0]})
        again = client.post("/r/login/", {"id_number": city.nanguan[0]}).content.decode()
    assert "操作过于频繁,请于 4月24日 10:01 后再试" in again
    assert OutboxMessage.objects.count() == 1


def test_a_green_resident_sees_the_colour_a_signed_qr_and_a_recent_negative(client, city):
    sample(city.nanguan[:10], "T-0423-1", "10", datetime(2022, 4, 23, 9, tzinfo=BJ))
    report_result("T-0423-1", "negative", datetime(2022, 4, 23, 20, tzinfo=BJ))
    with time_machine.travel(MORNING, tick=False):
        sign_in(client, city.nanguan[0])
        page = client.get("/r/").content.decode()
    assert 'data-colour="green"' in page and "绿码" in page
    assert "48小时内核酸阴性" in page and "25小时前" in page and "10混1" in page
    assert "js-qr" in page and "2022-04-24 10:00:00" in page
    token = re.search(r'data-token="([^"]+)"', page).group(1)
    claims = keys.verify(token, MORNING).claims
    assert claims["col"] == "green" and claims["idm"].startswith("220102********")
    assert city.nanguan[0] not in token


def test_a_yellow_resident_sees_why_and_how_to_clear(client, city):
    do_publish(policy_source("cc-2022-0420-untested"), user=None, now=MORNING)
    with time_machine.travel(MORNING + timedelta(minutes=5), tick=False):
        sign_in(client, city.nanguan[20])
        page = client.get("/r/").content.decode()
        history = client.get("/r/history/").content.decode()
    assert 'data-colour="yellow"' in page and "为什么是黄码" in page
    assert "如何转绿" in page and "核酸检测结果为阴性" in page
    assert "/r/clear/cc-2022-0420-untested/" in page and "查看依据与解码" in page
    assert "绿码 → " in history and "黄码" in history


def test_the_qr_renewal_returns_a_new_token_for_the_signed_in_resident_only(client, city):
    signed_out = client.get("/r/code.json")
    assert signed_out.status_code == 401 and signed_out.json()["login"].startswith("/r/login/")
    with time_machine.travel(MORNING, tick=False):
        sign_in(client, city.nanguan[0])
    with time_machine.travel(MORNING + timedelta(minutes=3), tick=False):
        token = client.get("/r/code.json").json()["token"]
        person = keys.person_from_ref(
            keys.verify(token, MORNING + timedelta(minutes=3)).claims["sub"]
        )
    assert person == Person.objects.get(id_number=city.nanguan[0]).pk


def test_a_reported_antigen_test_reaches_the_next_qr(client, city):
    with time_machine.travel(MORNING, tick=False):
        sign_in(client, city.nanguan[0])
        client.post("/r/antigen/", {"result": "negative", "tested_at": "2022-04-24T09:30"})
        page = client.get("/r/").content.decode()
    token = re.search(r'data-token="([^"]+)"', page).group(1)
    assert keys.verify(token, MORNING).claims["ag"] == int(
        datetime(2022, 4, 24, 9, 30, tzinfo=BJ).timestamp()
    )
