"""Writing and checking the hash-chained audit log."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from fangkong.audit.models import AuditEntry

GENESIS = "0" * 64


def _digest(
    prev_hash: str,
    at: datetime,
    actor_name: str,
    action: str,
    target_type: str,
    target_id: str,
    detail: dict,
) -> str:
    body = json.dumps(
        [
            prev_hash,
            at.astimezone(UTC).isoformat(timespec="microseconds"),
            actor_name,
            action,
            target_type,
            target_id,
            detail,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    actor,
    action: str,
    target_type: str = "",
    target_id: str = "",
    detail: dict | None = None,
    *,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry. Runs inside the caller's transaction so the change and its record land
    together; the chain head is locked so concurrent writers cannot fork it."""
    at = at or timezone.now()
    detail = json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str))
    actor_name = getattr(actor, "username", "") or "system"
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(7347001)")
        last = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first()
        prev = last or GENESIS
        return AuditEntry.objects.create(
            at=at,
            actor=actor if getattr(actor, "pk", None) else None,
            actor_name=actor_name,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            detail=detail,
            prev_hash=prev,
            hash=_digest(prev, at, actor_name, action, target_type, str(target_id), detail),
        )


def verify_chain() -> tuple[bool, int | None]:
    """(True, None) if every entry hashes to its stored value and links to the one before;
    otherwise (False, id of the first bad entry)."""
    prev = GENESIS
    for entry in AuditEntry.objects.order_by("id").iterator(chunk_size=2000):
        expected = _digest(
            prev,
            entry.at,
            entry.actor_name,
            entry.action,
            entry.target_type,
            entry.target_id,
            entry.detail,
        )
        if entry.prev_hash != prev or entry.hash != expected:
            return False, entry.id
        prev = entry.hash
    return True, None
