"""At the compound gate: may this exit pass go out (or come back) here now, and recording it.

The token itself (shape, key, signature, kind, validity window) is verified before this by
fangkong.signing.keys.verify; `check_pass_at_gate` is the online check on top, against the
stored pass. A return is never refused because of the zone level: whoever is out must be let
back in, even if the compound was placed under control meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db import transaction

from fangkong.audit.actions import record
from fangkong.engine.gate_rules import Decision, check_exit_pass
from fangkong.exits.actions import still_usable_for_exit
from fangkong.exits.models import ExitPass
from fangkong.signing import keys
from fangkong.zones.queries import current_level

EXIT, RETURN = "exit", "return"
DIRECTIONS = {EXIT: "出门", RETURN: "返回"}
Status = ExitPass.Status


def check_pass_at_gate(
    claims: Mapping, checkpoint_community_code: str, direction: str, now: datetime
) -> Decision:
    """Pass or deny an exit pass (verified claims) at the gate of a community."""
    if direction not in DIRECTIONS:
        return Decision.of(["请选择出门或返回"])
    zone = current_level(checkpoint_community_code, now) if direction == EXIT else None
    reasons = list(
        check_exit_pass(claims, community_code=checkpoint_community_code, zone_level=zone).reasons
    )
    pid = claims.get("pid")
    person_id = keys.person_from_ref(claims.get("sub"))
    row = None
    if isinstance(pid, int) and not isinstance(pid, bool) and person_id is not None:
        row = ExitPass.objects.filter(pk=pid, person_id=person_id).first()
    if row is None or row.community_id != claims.get("com"):
        reasons.append("查无此通行码,或通行码与持码人不符")
        return Decision.of(reasons)
    if row.status == Status.CANCELLED:
        reasons.append("通行码已作废")
    elif direction == EXIT:
        if row.status == Status.OUT:
            reasons.append("此通行码已登记出门,尚未返回")
        elif row.status == Status.RETURNED:
            reasons.append("此通行码已使用(已出门并返回),如需再次外出请重新申请")
        elif now >= row.valid_until:
            reasons.append("通行码已过有效期")
        else:
            # The zone was checked above; what is left is the holder's code colour now.
            reasons += [r for r in still_usable_for_exit(row, now) if r not in reasons]
    elif row.status == Status.ISSUED:
        reasons.append("此通行码尚未登记出门")
    elif row.status == Status.RETURNED:
        reasons.append("此通行码已登记返回")
    return Decision.of(reasons)


def do_record_passage(
    pass_id: int, direction: str, at: datetime, checkpoint_id, *, user=None
) -> ExitPass | None:
    """Record going out or coming back through a gate. Idempotent: recording the same
    direction again changes nothing, so a scan synced twice (or late) is harmless. Scans that
    arrive out of order (a return synced before its exit) are kept, not lost. Returns the
    pass, or None if there is no such pass."""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}")
    with transaction.atomic():
        row = ExitPass.objects.select_for_update().filter(pk=pass_id).first()
        if row is None or row.status == Status.CANCELLED:
            return row
        checkpoint = "" if checkpoint_id is None else str(checkpoint_id)[:64]
        changed = []
        if direction == EXIT and row.exited_at is None:
            row.exited_at, row.exit_checkpoint = at, checkpoint
            changed += ["exited_at", "exit_checkpoint"]
            if row.status == Status.ISSUED:
                row.status = Status.OUT
                changed.append("status")
        elif direction == RETURN and row.returned_at is None:
            row.returned_at, row.return_checkpoint = at, checkpoint
            row.status = Status.RETURNED
            changed += ["returned_at", "return_checkpoint", "status"]
        if not changed:
            return row
        row.save(update_fields=changed)
        record(
            user,
            f"exit_pass.{direction}",
            "exit_pass",
            row.pk,
            {"person": row.person_id, "checkpoint": checkpoint, "at": at},
        )
    return row
