"""Sign-in by ID number and a one-time code sent to the registered phone.

Limits: a code lives 5 minutes and allows 5 attempts; a person gets at most one code a minute
and 5 an hour. Whether an ID number is registered is not revealed by the answers.
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

from fangkong.engine.id_numbers import check_id_number, mask_phone, normalise_id_number
from fangkong.people.models import Person
from fangkong.residents.models import OneTimeCode
from fangkong.residents.sms import sender

LIFETIME = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RESEND_AFTER = timedelta(minutes=1)
PER_HOUR = 5


@dataclass(frozen=True)
class Sent:
    ok: bool
    message: str


def _hash(person_id: int, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{person_id}:{code}".encode(), hashlib.sha256).hexdigest()


def request_code(id_number: str, now: datetime) -> Sent:
    problem = check_id_number(id_number)
    if problem:
        return Sent(False, f"身份证号有误: {problem}")
    person = Person.objects.filter(id_number=normalise_id_number(id_number)).first()
    generic = "若该身份证号已登记,验证码已发送至登记的手机号,5分钟内有效。"
    if person is None:
        return Sent(True, generic)
    recent = OneTimeCode.objects.filter(person=person, created_at__gt=now - timedelta(hours=1))
    if recent.filter(created_at__gt=now - RESEND_AFTER).exists():
        return Sent(False, "验证码发送过于频繁,请1分钟后再试")
    if recent.count() >= PER_HOUR:
        return Sent(False, "1小时内验证码已发送5次,请稍后再试或拨打12345")
    code = f"{secrets.randbelow(1_000_000):06d}"
    OneTimeCode.objects.create(
        person=person, code_hash=_hash(person.pk, code), created_at=now, expires_at=now + LIFETIME
    )
    sender().send(
        person.phone, f"【长春防控】您的登录验证码为{code},5分钟内有效,请勿告诉他人。", now
    )
    return Sent(True, f"验证码已发送至 {mask_phone(person.phone)},5分钟内有效。")


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
