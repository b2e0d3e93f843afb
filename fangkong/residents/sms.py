"""Sending text messages. The sender is an interface (settings.SMS_SENDER names a class with
`send(phone, text, now)`); the demo's sender keeps the message in the dev outbox, the one place
a code may be read outside the phone it was sent to: never in the log."""

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
    """Keeps the message for the dev outbox page (/r/outbox/); the log says only that it did."""

    def send(self, phone: str, text: str, now: datetime) -> None:
        from fangkong.residents.models import OutboxMessage

        message = OutboxMessage.objects.create(phone=phone, text=text, sent_at=now)
        log.info("SMS to %s kept in the dev outbox as #%s", mask_phone(phone), message.pk)


def sender() -> Sender:
    return import_string(settings.SMS_SENDER)()
