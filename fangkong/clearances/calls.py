"""Logging a call to the 12345 code desk (赋码工作专席), and opening a clearance on the caller's
behalf. The operator only opens the request: a reviewer of the caller's district decides it, and
the state machine forbids the submitter deciding (fangkong.engine.clearances)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import require_role
from fangkong.audit.actions import record
from fangkong.clearances.actions import ClearanceError, do_submit
from fangkong.clearances.models import OPEN_STATUSES, Channel, Clearance, HotlineCall
from fangkong.people.models import Person

# Who works the hotline desk: its operators and the command centre (both city-wide).
HOTLINE_DESK = frozenset({Role.HOTLINE, Role.COMMAND_CENTRE})
MAX_NOTES = 4000

# What became of the clearance asked for with a call (HotlineCall.outcome, not stored).
NO_REQUEST = ""
OPENED = "opened"
ALREADY_OPEN = "already_open"


def do_log_call(
    person: Person, operator, notes: str, now: datetime, policy_id: str | None = None
) -> HotlineCall:
    """Log one call, and with `policy_id` open a hotline clearance of that reason, in one
    transaction with its audit record.

    If the caller already has an open request for that reason (from any channel), the call is
    still logged and linked to that request: the caller is told it is being reviewed. Otherwise
    a reason the caller does not hold now is refused (ClearanceError) and nothing is logged, so
    the operator can correct the form. The returned call carries `outcome`: NO_REQUEST, OPENED or
    ALREADY_OPEN."""
    require_role(operator, HOTLINE_DESK)
    notes = (notes or "").strip()
    if not notes:
        raise ClearanceError("请填写通话记录")
    if len(notes) > MAX_NOTES:
        raise ClearanceError(f"通话记录不能超过{MAX_NOTES}字")
    policy_id = (policy_id or "").strip() or None
    outcome = NO_REQUEST
    clearance = None
    with transaction.atomic():
        if policy_id is not None:
            clearance = _open_request(person, policy_id)
            if clearance is not None:
                outcome = ALREADY_OPEN
            else:
                try:
                    clearance = do_submit(
                        person, policy_id, Channel.HOTLINE, now, user=operator, description=notes
                    )
                    outcome = OPENED
                except ClearanceError:
                    # A request opened by another channel a moment ago (do_submit's savepoint
                    # rolled back); otherwise the reason is not held now: refuse.
                    clearance = _open_request(person, policy_id)
                    if clearance is None:
                        raise
                    outcome = ALREADY_OPEN
        call = HotlineCall.objects.create(
            operator=operator, person=person, at=now, notes=notes, clearance=clearance
        )
        record(
            operator,
            "hotline.call",
            "person",
            person.pk,
            {
                "call": call.pk,
                "policy": policy_id or "",
                "clearance": clearance.pk if clearance else None,
                "outcome": outcome,
            },
            at=now,
        )
    call.outcome = outcome
    return call


def _open_request(person: Person, policy_id: str) -> Clearance | None:
    return (
        Clearance.objects.filter(person=person, policy_id=policy_id, status__in=OPEN_STATUSES)
        .order_by("-submitted_at", "-id")
        .first()
    )
