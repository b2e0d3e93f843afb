"""Submitting and deciding clearances. Each step is one transaction with its audit record; an
approval adds a version-scoped exemption and re-evaluates the person at once."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import districts_of, role_of
from fangkong.audit.actions import record
from fangkong.clearances.models import Clearance
from fangkong.codes.models import CodeChange, Exemption
from fangkong.codes.queries import explain
from fangkong.engine import clearances as machine
from fangkong.people.models import Person

DECIDERS = frozenset({Role.DISTRICT_REVIEWER, Role.COMMAND_CENTRE})


class ClearanceError(ValueError):
    """A request that cannot be made or a step that cannot be taken, said in Chinese."""


def _actor(user, person: Person) -> str:
    return user.get_username() if user is not None else f"居民#{person.pk}"


def _state(clearance: Clearance) -> machine.Clearance:
    steps = tuple(
        machine.Step(
            s["action"], s["status"], s["actor"], datetime.fromisoformat(s["at"]), s["reason"]
        )
        for s in clearance.steps
    )
    return machine.Clearance(clearance.status, steps[0].actor, steps)


def _store(clearance: Clearance, state: machine.Clearance) -> None:
    clearance.status = state.status
    clearance.steps = [asdict(s) | {"at": s.at.isoformat()} for s in state.steps]


def do_submit(
    person: Person,
    policy_id: str,
    channel: str,
    now: datetime,
    *,
    user=None,
    description="",
    batch=None,
):
    """Open a clearance of one reason the person holds now (the version in force). Inside a
    caller's transaction it joins it (an employer batch, an appeal with its files)."""
    reason = next((r for r in explain(person, now).reasons if r.policy == policy_id), None)
    if reason is None:
        raise ClearanceError("该居民当前没有因此政策被赋码,无需申请")
    state = machine.submit(_actor(user, person), now, description)
    clearance = Clearance(
        person=person,
        county_code=person.county_code,
        policy_id=policy_id,
        policy_version=reason.version,
        channel=channel,
        description=description,
        submitted_by=user,
        submitted_at=now,
        batch=batch,
    )
    _store(clearance, state)
    try:
        with transaction.atomic():
            clearance.save()
            record(
                user,
                "clearance.submit",
                "clearance",
                clearance.pk,
                {"person": person.pk, "policy": policy_id, "channel": channel},
                at=now,
            )
    except IntegrityError:
        raise ClearanceError("此原因已有进行中的申请,请等待审核结果") from None
    return clearance


def may_decide(user, clearance: Clearance) -> bool:
    if role_of(user) not in DECIDERS:
        return False
    districts = districts_of(user)
    return districts is None or clearance.county_code in districts


def do_review(clearance_id: int, action: str, user, now: datetime, reason: str = "") -> Clearance:
    """A reviewer's step: start review, approve, reject, or ask for more evidence."""
    with transaction.atomic():
        clearance = (
            Clearance.objects.select_for_update().select_related("person").get(pk=clearance_id)
        )
        if not may_decide(user, clearance):
            raise PermissionDenied("您无权审核此区县的申请")
        try:
            state = machine.transition(
                _state(clearance),
                action,
                actor=user.get_username(),
                side="reviewer",
                now=now,
                reason=reason,
            )
        except machine.TransitionError as error:
            raise ClearanceError(str(error)) from None
        _store(clearance, state)
        if action in (machine.APPROVE, machine.REJECT):
            clearance.decided_at, clearance.decided_by = now, user
            clearance.decision_reason = reason.strip()
        clearance.save()
        record(user, f"clearance.{action}", "clearance", clearance.pk, {"reason": reason}, at=now)
        if action == machine.APPROVE:
            Exemption.objects.create(
                person=clearance.person,
                policy_id=clearance.policy_id,
                policy_version=clearance.policy_version,
                approved_at=now,
                approved_by=user,
                reason=reason.strip()[:200],
            )
            from fangkong.codes.actions import do_reevaluate

            do_reevaluate(
                [clearance.person_id],
                now,
                cause=CodeChange.Cause.CLEARANCE,
                detail=f"解码申请 #{clearance.pk} 通过",
            )
    return clearance
