"""Limits on signing in, per client and per account: residents asking for a one-time code and
staff typing passwords. The counts live in the database (accounts.Throttle), so every app node
on the same PostgreSQL counts the same attempts; a row is locked while it is counted.

A rule allows `limit` attempts in a fixed window; past it the client or account is refused
until the window ends, and at least for `lockout`. The first refusal of an audited rule writes
a `signin.lockout` audit entry (once per lockout, not once per refused attempt).

The client is the address the request came from; X-Forwarded-For is believed only when it was
added by a proxy listed in settings.TRUSTED_PROXIES (addresses or networks), read from the
right so that what a client writes into the header itself is never taken for its address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fangkong.accounts.models import Throttle
from fangkong.audit.actions import record

# The scopes the sign-in pages count in, as the audit log names them.
SCOPE_LABELS = {
    "staff-account": "工作人员账号(密码错误)",
    "staff-client": "工作人员登录的来源地址(密码错误)",
    "resident-client": "居民获取验证码的来源地址",
    "resident-client-code": "居民输入验证码的来源地址(验证码错误)",
    "resident-id-hour": "居民身份证号(每小时获取验证码)",
}
# Rows whose window ended this long ago, and that are not locked, are forgotten.
STALE_AFTER = timedelta(days=1)
PURGE_BATCH = 500


@dataclass(frozen=True)
class Rule:
    scope: str
    limit: int
    window: timedelta
    lockout: timedelta = timedelta(0)
    audited: bool = True


def configured(scope: str, setting: str, default: int, window: timedelta, lockout=timedelta(0)):
    """A rule whose limit a setting may change (read when used, so tests and deployments can)."""
    return Rule(scope, getattr(settings, setting, default), window, lockout)


@dataclass(frozen=True)
class Refusal:
    rule: Rule
    until: datetime


def _key(rule: Rule, value: str) -> str:
    secret = settings.SECRET_KEY.encode()
    return hmac.new(secret, f"{rule.scope}:{value}".encode(), hashlib.sha256).hexdigest()


def locked(rule: Rule, value: str, now: datetime) -> Refusal | None:
    """The refusal in force for this client or account, without counting an attempt."""
    until = (
        Throttle.objects.filter(scope=rule.scope, key=_key(rule, value), locked_until__gt=now)
        .values_list("locked_until", flat=True)
        .first()
    )
    return Refusal(rule, until) if until else None


def hit(rule: Rule, value: str, now: datetime, label: str = "") -> Refusal | None:
    """Count an attempt before acting on it: the one past the limit is refused."""
    return _count(rule, value, now, label, lock_from=rule.limit + 1)


def fail(rule: Rule, value: str, now: datetime, label: str = "") -> Refusal | None:
    """Count a failed attempt after it: the limit-th failure locks (the next try is refused,
    right or wrong)."""
    return _count(rule, value, now, label, lock_from=rule.limit)


def forget(rule: Rule, value: str) -> None:
    """Start again from nothing (a staff member who signed in with the right password)."""
    Throttle.objects.filter(scope=rule.scope, key=_key(rule, value)).delete()


def _count(rule: Rule, value: str, now: datetime, label: str, lock_from: int) -> Refusal | None:
    key = _key(rule, value)
    with transaction.atomic():
        row = Throttle.objects.select_for_update().filter(scope=rule.scope, key=key).first()
        if row is None:
            _purge(rule, now)
            Throttle.objects.bulk_create(
                [Throttle(scope=rule.scope, key=key, window_start=now)], ignore_conflicts=True
            )
            row = Throttle.objects.select_for_update().get(scope=rule.scope, key=key)
        if row.locked_until and row.locked_until > now:
            return Refusal(rule, row.locked_until)
        # Only a window that has ended starts a new one: a request that began a moment before
        # the one that opened this window (another node, a slower thread) counts in it.
        if row.window_start + rule.window <= now:
            row.window_start, row.count, row.locked_until = now, 0, None
        row.count += 1
        if row.count < lock_from:
            row.save()
            return None
        row.locked_until = max(row.window_start + rule.window, now + rule.lockout)
        row.save()
        if rule.audited:
            until = timezone.localtime(row.locked_until)
            detail = {"scope": rule.scope, "who": label, "attempts": row.count, "until": until}
            record(None, "signin.lockout", detail=detail, at=now)
    return Refusal(rule, row.locked_until)


def _purge(rule: Rule, now: datetime) -> None:
    """Forget a batch of this scope's long-idle rows (one per client or account ever seen)."""
    stale = Throttle.objects.filter(scope=rule.scope, window_start__lt=now - STALE_AFTER).exclude(
        locked_until__gt=now
    )
    ids = list(stale.values_list("pk", flat=True)[:PURGE_BATCH])
    if ids:
        stale.filter(pk__in=ids).delete()


# -- who the client is ----------------------------------------------------------------------


def _networks() -> list:
    return [
        ipaddress.ip_network(item.strip(), strict=False)
        for item in getattr(settings, "TRUSTED_PROXIES", ())
        if item.strip()
    ]


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(request) -> str:
    """The address a request came from: REMOTE_ADDR, or the nearest address a trusted proxy
    reports in X-Forwarded-For. An IPv6 client counts as its /64 network (one subscriber's
    share, which it may rotate through freely)."""
    trusted = _networks()
    address = _address(request.META.get("REMOTE_ADDR", ""))
    if address is not None and any(address in network for network in trusted):
        hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        for hop in reversed(hops):
            nearer = _address(hop)
            if nearer is None:
                break  # not written by our proxy: the address before it stands
            address = nearer
            if not any(nearer in network for network in trusted):
                break
    if address is None:
        return "unknown"
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))
