"""Who may verify at a checkpoint: its own device (bearer key) or staff on duty in its
district.

Checkpoints (with their parsed requirements) are cached per process until something a verifier
caches changes: a change bumps the CacheGeneration row in its own transaction and clears this
process's caches at once; every other process compares the generation at most once a second, so
a new type, a replaced device key or a revoked signing key reaches every node within about a
second (docs/verify-hot-path.md). An unknown key is remembered only briefly, so a checkpoint just
created is found without waiting for the next change.
"""

from __future__ import annotations

import threading
import time

from django.db import connection, transaction
from django.db.models import F
from django.http import Http404

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import CHECKPOINT_VERIFIERS as VERIFIERS
from fangkong.accounts.scoping import districts_of, role_of
from fangkong.checkpoints.models import CacheGeneration, Checkpoint
from fangkong.signing import keys

CHECK_GENERATION_SECONDS = 1.0
UNKNOWN_KEY_SECONDS = 5.0
MAX_ENTRIES = 10_000
_lock = threading.Lock()
_by_key: dict[str, tuple[float, Checkpoint | None]] = {}
_by_id: dict[int, tuple[float, Checkpoint | None]] = {}
_generation: list = [None, 0.0]  # [the generation the caches hold, when it was last compared]


def current_generation() -> int:
    table = connection.ops.quote_name(CacheGeneration._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {table} WHERE id = 1")  # noqa: S608 - the model's table
        row = cursor.fetchone()
    return row[0] if row else 0


def bump_generation() -> None:
    """Called in the transaction that changes a cached thing; the caches of this process are
    dropped now and again at commit (a reader in between may have cached the old row)."""
    updated = CacheGeneration.objects.filter(pk=1).update(value=F("value") + 1)
    if not updated:
        CacheGeneration.objects.get_or_create(pk=1, defaults={"value": 1})
    clear_cache()
    transaction.on_commit(clear_cache)


def clear_cache() -> None:
    with _lock:
        _by_key.clear()
        _by_id.clear()
        _generation[0] = None
    keys.clear_cache()


def _fresh() -> None:
    """Drop the caches if another process changed something since they were filled."""
    now = time.monotonic()
    if _generation[0] is not None and now - _generation[1] < CHECK_GENERATION_SECONDS:
        return
    generation = current_generation()
    with _lock:
        if _generation[0] is not None and generation != _generation[0]:
            _by_key.clear()
            _by_id.clear()
            keys.clear_cache()
        _generation[0], _generation[1] = generation, now


def _cached(cache: dict, key, load):
    _fresh()
    hit = cache.get(key)
    if hit is not None and (hit[1] is not None or time.monotonic() < hit[0]):
        return hit[1]
    value = load()
    if value is not None:
        # Parsed once per load, not per scan.
        value.requirements = value.type.parsed
    with _lock:
        if len(cache) > MAX_ENTRIES:
            cache.clear()
        cache[key] = (time.monotonic() + UNKNOWN_KEY_SECONDS, value)
    return value


def checkpoint_by_id(checkpoint_id: int) -> Checkpoint | None:
    return _cached(
        _by_id,
        checkpoint_id,
        lambda: Checkpoint.objects.select_related("type").filter(pk=checkpoint_id).first(),
    )


def checkpoint_for_device(device_key: str) -> Checkpoint | None:
    digest = Checkpoint.hash_key(device_key)
    return _cached(
        _by_key,
        digest,
        lambda: Checkpoint.objects.select_related("type").filter(device_key_hash=digest).first(),
    )


def staff_may_use(user, checkpoint: Checkpoint) -> bool:
    role = role_of(user)
    if role not in VERIFIERS:
        return False
    if role == Role.SAMPLER and checkpoint.type_id != "testing_site":
        return False
    districts = districts_of(user)
    return districts is None or checkpoint.county_code in districts


def visible_checkpoints(user):
    """The checkpoints a staff member may verify at (scoped by district and role)."""
    role = role_of(user)
    if role not in VERIFIERS:
        return Checkpoint.objects.none()
    qs = Checkpoint.objects.select_related("type").order_by("county_code", "name")
    if role == Role.SAMPLER:
        qs = qs.filter(type_id="testing_site")
    districts = districts_of(user)
    return qs if districts is None else qs.filter(county_code__in=districts)


def checkpoint_for_request(request, checkpoint_id: int) -> Checkpoint:
    """The checkpoint, if this request may act at it; 404 otherwise (existence is not leaked)."""
    device = getattr(request, "auth_checkpoint", None)
    if device is not None:
        if device.pk != checkpoint_id:
            raise Http404
        return device
    checkpoint = checkpoint_by_id(checkpoint_id)
    if checkpoint is None or not staff_may_use(request.user, checkpoint):
        raise Http404
    return checkpoint
