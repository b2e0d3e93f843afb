"""Reading vehicle passes: whether one is in force, the officers' queue, a pass's scans."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from fangkong.checkpoints.models import GateScan
from fangkong.engine import tokens
from fangkong.passes.models import VehiclePass


def out_of_force(pass_id, now: datetime) -> bool:
    """True for a pass that is revoked (by `now`), never issued, or unknown: a checkpoint
    denies it."""
    if not isinstance(pass_id, int) or isinstance(pass_id, bool):
        return True
    return not VehiclePass.objects.filter(
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=now),
        pk=pass_id,
        issued_at__isnull=False,
    ).exists()


def revoked_ids(now: datetime) -> list[int]:
    """Issued passes revoked by `now` whose validity has not ended: what offline devices must
    refuse (a pass past its validity is refused for that already)."""
    return list(
        VehiclePass.objects.filter(
            revoked_at__lte=now, issued_at__isnull=False, valid_until__gt=now
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def scans_of(vehicle_pass: VehiclePass) -> QuerySet:
    """Gate-log scans of this pass: vehicle-pass scans of its driver within its validity. The
    gate log keeps the holder, not the pass id, so two passes of one driver with overlapping
    validity share their scans (docs/passes.md)."""
    return (
        GateScan.objects.filter(
            kind=tokens.VEHICLE,
            person_id=vehicle_pass.driver_id,
            scanned_at__gte=vehicle_pass.valid_from,
            scanned_at__lt=vehicle_pass.valid_until,
        )
        .select_related("checkpoint")
        .order_by("-scanned_at")
    )
