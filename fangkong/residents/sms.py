"""Sending text messages. The sender is an interface (settings.SMS_SENDER names a class with
`send(phone, text, now)`); the demo's sender logs and keeps the message in a dev outbox."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from fangkong.engine.id_numbers import mask_phone

log = logging.getLogger("fangkong.sms")


class Sender(Protocol):
    def send(self, phone: str, text: str, now: datetime) -> None: ...


class OutboxSender:
    """Writes the message to the server log and to the dev outbox page (/r/outbox/)."""

    def send(self, phone: str, text: str, now: datetime) -> None:
        from fangkong.residents.models import OutboxMessage

        log.info("SMS to %s: %s", mask_phone(phone), text)
        OutboxMessage.objects.create(phone=phone, text=text, sent_at=now)


def sender() -> Sender:
    return import_string(settings.SMS_SENDER)()
