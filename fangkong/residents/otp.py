"""Sign-in by ID number and a one-time code sent to the registered phone.

Limits: a code lives 5 minutes and allows 5 attempts. An ID number gets at most one code a
minute and 5 an hour, and a client (its address: fangkong.accounts.throttle) 10 requests and
20 wrong codes in 10 minutes before it is refused for 30 minutes; the counts are shared by every
app node. Whether an ID number is registered is not revealed: a registered and an unknown one
get the same answer, count against the same limits and are refused in the same words; the
masked phone is shown only to whoever has signed in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F

from fangkong.accounts import throttle
from fangkong.base.display import when
from fangkong.engine.id_numbers import check_id_number, mask, normalise_id_number
from fangkong.people.models import Person
from fangkong.residents.models import OneTimeCode
from fangkong.residents.sms import sender

LIFETIME = timedelta(minutes=5)
MAX_ATTEMPTS = 5
PER_ID_MINUTE = throttle.Rule("resident-id-minute", 1, timedelta(minutes=1), audited=False)
PER_ID_HOUR = throttle.Rule("resident-id-hour", 5, timedelta(hours=1))
CLIENT_WINDOW = timedelta(minutes=10)
CLIENT_LOCKOUT = timedelta(minutes=30)
SENT = "若该身份证号已登记,验证码已发送至登记的手机,5分钟内有效。"


def per_client() -> throttle.Rule:
    return throttle.configured(
        "resident-client", "SIGNIN_CODES_PER_CLIENT", 10, CLIENT_WINDOW, CLIENT_LOCKOUT
    )


def per_client_wrong_codes() -> throttle.Rule:
    return throttle.configured(
        "resident-client-code", "SIGNIN_WRONG_CODES_PER_CLIENT", 20, CLIENT_WINDOW, CLIENT_LOCKOUT
    )


@dataclass(frozen=True)
class Sent:
    ok: bool
    message: str


def refused(refusal: throttle.Refusal) -> str:
    return f"操作过于频繁,请于 {when(refusal.until)} 后再试;急需查看健康码请拨打12345"


def _hash(person_id: int, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{person_id}:{code}".encode(), hashlib.sha256).hexdigest()


def request_code(id_number: str, client: str, now: datetime) -> Sent:
    """Send a code if the ID number is registered. The answer, and the limits it counts
    against, are the same whether it is or not."""
    problem = check_id_number(id_number)
    if problem:
        return Sent(False, f"身份证号有误: {problem}")
    id_number = normalise_id_number(id_number)
    for rule, value, label in (
        (per_client(), client, client),
        (PER_ID_MINUTE, id_number, ""),
        (PER_ID_HOUR, id_number, mask(id_number)),
    ):
        refusal = throttle.hit(rule, value, now, label)
        if refusal is not None:
            return Sent(False, refused(refusal))
    code = f"{secrets.randbelow(1_000_000):06d}"
    person = Person.objects.filter(id_number=id_number).first()
    if person is not None:
        OneTimeCode.objects.create(
            person=person,
            code_hash=_hash(person.pk, code),
            created_at=now,
            expires_at=now + LIFETIME,
        )
        sender().send(
            person.phone, f"【长春防控】您的登录验证码为{code},5分钟内有效,请勿告诉他人。", now
        )
    return Sent(True, SENT)


def check_code_from(client: str, id_number: str, code: str, now: datetime):
    """(the person, None) for the latest live code; (None, a refusal message or "") otherwise.
    A client that types wrong codes for any ID numbers, registered or not, is held back."""
    rule = per_client_wrong_codes()
    refusal = throttle.locked(rule, client, now)
    if refusal is not None:
        return None, refused(refusal)
    person = check_code(id_number, code, now)
    if person is None:
        refusal = throttle.fail(rule, client, now, client)
        return None, refused(refusal) if refusal else ""
    return person, ""


def check_code(id_number: str, code: str, now: datetime) -> Person | None:
    """The person if the code is the latest live one for them; each try counts."""
    if check_id_number(id_number):
        return None
    person = Person.objects.filter(id_number=normalise_id_number(id_number)).first()
    if person is None:
        return None
    with transaction.atomic():
        otp = (
            OneTimeCode.objects.select_for_update()
            .filter(person=person, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if otp is None or otp.attempts >= MAX_ATTEMPTS:
            return None
        OneTimeCode.objects.filter(pk=otp.pk).update(attempts=F("attempts") + 1)
        if not hmac.compare_digest(otp.code_hash, _hash(person.pk, code.strip())):
            return None
        OneTimeCode.objects.filter(pk=otp.pk).update(used_at=now)
    return person
