"""Who may verify at a checkpoint: its own device (bearer key) or staff on duty in its
district. Checkpoints are cached briefly so a busy gate does not read them on every scan."""

from __future__ import annotations

import time

from django.http import Http404

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import CHECKPOINT_VERIFIERS as VERIFIERS
from fangkong.accounts.scoping import districts_of, role_of
from fangkong.checkpoints.models import Checkpoint

CACHE_SECONDS = 30
_by_key: dict[str, tuple[float, Checkpoint | None]] = {}
_by_id: dict[int, tuple[float, Checkpoint | None]] = {}


def _cached(cache: dict, key, load):
    hit = cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = load()
    if len(cache) > 10_000:
        cache.clear()
    cache[key] = (time.monotonic(), value)
    return value


def clear_cache() -> None:
    _by_key.clear()
    _by_id.clear()


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
