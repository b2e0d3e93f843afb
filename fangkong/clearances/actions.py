"""Submitting and deciding clearances. Each step is one transaction with its audit record; an
approval adds a version-scoped exemption and re-evaluates the person at once."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import districts_of, role_of
from fangkong.audit.actions import record
from fangkong.clearances.evidence import EvidenceError, check, store
from fangkong.clearances.models import Channel, Clearance
from fangkong.codes.models import CodeChange, Exemption
from fangkong.codes.queries import explain
from fangkong.codes.seals import exemption_seal
from fangkong.engine import clearances as machine
from fangkong.people.models import Person

DECIDERS = frozenset({Role.DISTRICT_REVIEWER, Role.COMMAND_CENTRE})
MAX_TEXT = 2000  # a resident's description or note
MAX_REASON = Clearance._meta.get_field("decision_reason").max_length
# A reviewer's steps, in the order the desk offers them.
REVIEW_STEPS = (machine.START_REVIEW, machine.APPROVE, machine.REJECT, machine.REQUEST_EVIDENCE)
# Deciding a request nobody has started reviewing is reviewing it: the review starts with the
# decision, as two steps of one transaction (the bulk decision of a list has always done so).
_DECIDING = frozenset({machine.APPROVE, machine.REJECT, machine.REQUEST_EVIDENCE})


class ClearanceError(ValueError):
    """A request that cannot be made or a step that cannot be taken, said in Chinese."""


_ASK = object()


def _actor(user, person: Person) -> str:
    return user.get_username() if user is not None else f"居民#{person.pk}"


def _audit_actor(user, person: Person):
    """The staff user, or the resident acting for themselves (named in the log, no account)."""
    return user if user is not None else SimpleNamespace(username=_actor(None, person), pk=None)


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


def _take(clearance: Clearance, action: str, actor: str, side: str, now, reason="") -> None:
    """Move the request one step through the machine (not saved); ClearanceError says why not."""
    try:
        state = machine.transition(
            _state(clearance), action, actor=actor, side=side, now=now, reason=reason
        )
    except machine.TransitionError as error:
        raise ClearanceError(str(error)) from None
    _store(clearance, state)


def do_submit(
    person: Person,
    policy_id: str,
    channel: str,
    now: datetime,
    *,
    user=None,
    description="",
    batch=None,
    held=_ASK,
):
    """Open a clearance of one reason the person holds now (the version in force). Inside a
    caller's transaction it joins it (an employer batch, an appeal with its files). `held`: the
    reason as the caller just evaluated it (None: not held), to save asking again."""
    reason = (
        next((r for r in explain(person, now).reasons if r.policy == policy_id), None)
        if held is _ASK
        else held
    )
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
                _audit_actor(user, person),
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
    """Whether the decision form is offered; do_review also refuses the request's submitter."""
    if role_of(user) not in DECIDERS or clearance.submitted_by_id == user.pk:
        return False
    # An override is approved by the command centre: a second person above the district.
    if clearance.channel == Channel.OVERRIDE and role_of(user) != Role.COMMAND_CENTRE:
        return False
    districts = districts_of(user)
    return districts is None or clearance.county_code in districts


def review_steps(clearance: Clearance) -> list[str]:
    """The reviewer's steps the request can take now (who may take them: may_decide)."""
    return [a for a in REVIEW_STEPS if _path(clearance.status, a) and _answerable(clearance, a)]


def _path(status: str, action: str) -> tuple[str, ...] | None:
    """The machine's steps that take `action` from `status`, or None if none do."""
    if action not in machine.TRANSITIONS:
        return None
    if status in machine.TRANSITIONS[action][0]:
        return (action,)
    if action in _DECIDING and status in machine.TRANSITIONS[machine.START_REVIEW][0]:
        return (machine.START_REVIEW, action)
    return None


def _answerable(clearance: Clearance, action: str) -> bool:
    # Only the appellant has a way to answer a call for more evidence; the others are answered
    # by a new request.
    return action != machine.REQUEST_EVIDENCE or clearance.channel == Channel.APPEAL


def do_review(
    clearance_id: int,
    action: str,
    user,
    now: datetime,
    reason: str = "",
    *,
    reevaluate: bool = True,
) -> Clearance:
    """A reviewer's step: start review, approve, reject, or ask for more evidence; a decision
    on a request still "submitted" starts its review first. An approval re-evaluates the person
    in the same transaction, unless the caller (a bulk decision) does it once for everybody
    afterwards (`reevaluate=False`)."""
    with transaction.atomic():
        clearance = (
            Clearance.objects.select_for_update().select_related("person").get(pk=clearance_id)
        )
        if role_of(user) in DECIDERS and clearance.submitted_by_id == user.pk:
            raise ClearanceError("不能审核本人提交的申请")
        if not may_decide(user, clearance):
            if clearance.channel == Channel.OVERRIDE:
                raise PermissionDenied("人工复核须由指挥部的另一名工作人员批准")
            raise PermissionDenied("您无权审核此区县的申请")
        if not _answerable(clearance, action):
            raise ClearanceError(
                "只有线上申诉可以要求补充材料,其他渠道请决定通过或不通过并写明理由"
            )
        if len(reason.strip()) > MAX_REASON:
            raise ClearanceError(f"理由最多 {MAX_REASON} 字")
        # No way there: the one step, which the machine refuses saying why.
        steps = _path(clearance.status, action) or (action,)
        for step in steps:
            reason_here = reason if step == action else ""
            _take(clearance, step, user.get_username(), "reviewer", now, reason_here)
        if action in (machine.APPROVE, machine.REJECT):
            clearance.decided_at, clearance.decided_by = now, user
            clearance.decision_reason = reason.strip()
        clearance.save()
        exemption = None
        if action == machine.APPROVE:
            exemption = Exemption.objects.create(
                person=clearance.person,
                policy_id=clearance.policy_id,
                policy_version=clearance.policy_version,
                approved_at=now,
                approved_by=user,
                reason=reason.strip()[:200],
            )
            if reevaluate:
                from fangkong.codes.actions import do_reevaluate

                do_reevaluate(
                    [clearance.person_id],
                    now,
                    cause=CodeChange.Cause.CLEARANCE,
                    detail=f"解码申请 #{clearance.pk} 通过",
                )
        # Last: the audit record takes the chain's lock until commit; nothing slow after it.
        for step in steps:
            detail = {"reason": reason if step == action else ""}
            if step == machine.APPROVE and exemption is not None:
                detail |= {"exemption": exemption.pk, "seal": exemption_seal(exemption)}
            record(user, f"clearance.{step}", "clearance", clearance.pk, detail, at=now)
    return clearance


# -- the resident's own appeal (线上申诉) ---------------------------------------------------------


def _check_files(files) -> None:
    if len(files) > settings.EVIDENCE_FILES_PER_REQUEST:
        raise ClearanceError(f"最多上传 {settings.EVIDENCE_FILES_PER_REQUEST} 个文件")
    try:
        for upload in files:  # every file is checked before anything is written
            check(upload)
            upload.seek(0)
    except EvidenceError as error:
        raise ClearanceError(str(error)) from None


def _within_rate(person: Person, now: datetime) -> None:
    """Refuse past settings.APPEALS_PER_DAY appeals and resubmissions in 24 hours. Call inside
    the transaction that adds one: it holds the person's row until that commits, so two posts
    at once are counted one after the other (no key lock: facts naming them may still land)."""
    Person.objects.select_for_update(no_key=True).filter(pk=person.pk).first()
    since = now - timedelta(days=1)
    recent = sum(
        1
        for steps in Clearance.objects.filter(
            person=person, channel=Channel.APPEAL, submitted_at__gte=since - timedelta(days=60)
        ).values_list("steps", flat=True)
        for s in steps
        if s["action"] in ("submit", machine.RESUBMIT) and datetime.fromisoformat(s["at"]) >= since
    )
    if recent >= settings.APPEALS_PER_DAY:
        raise ClearanceError(f"24小时内最多提交 {settings.APPEALS_PER_DAY} 次申诉,请稍后再试")


def do_appeal(person: Person, policy_id: str, description: str, files, now: datetime) -> Clearance:
    """A resident's appeal with evidence: the request and its files land together or not at all."""
    description = description.strip()
    if len(description) > MAX_TEXT:
        raise ClearanceError(f"情况说明最多 {MAX_TEXT} 字")
    if len(description) < 5:
        raise ClearanceError("请说明情况(何时何地采样、为何没有记录),至少5个字")
    if not files:
        raise ClearanceError("请上传至少一份证明材料(采样凭证截图、单位证明等)")
    _check_files(files)
    with transaction.atomic():
        _within_rate(person, now)
        clearance = do_submit(person, policy_id, Channel.APPEAL, now, description=description)
        for upload in files:
            store(upload, now, clearance=clearance)
    return clearance


def _own_appeal(clearance_id: int, person: Person) -> Clearance:
    clearance = (
        Clearance.objects.select_for_update()
        .filter(pk=clearance_id, person=person, channel=Channel.APPEAL)
        .first()
    )
    if clearance is None:
        raise ClearanceError("没有这个申诉")
    return clearance


def do_appellant_step(
    clearance_id: int, person: Person, action: str, now: datetime, note: str = "", files=()
) -> Clearance:
    """The appellant resubmits with more evidence, or withdraws."""
    if action not in (machine.RESUBMIT, machine.WITHDRAW):
        raise ClearanceError("未知的操作")
    if action == machine.WITHDRAW:
        files, note = (), ""
    if len(note) > MAX_TEXT:
        raise ClearanceError(f"说明最多 {MAX_TEXT} 字")
    if action == machine.RESUBMIT:
        if not files and not note.strip():
            raise ClearanceError("请补充说明或上传材料后再提交")
        _check_files(files)
    with transaction.atomic():
        clearance = _own_appeal(clearance_id, person)
        if action == machine.RESUBMIT:
            _within_rate(person, now)
        _take(clearance, action, _actor(None, person), "applicant", now, note)
        clearance.save()
        for upload in files:
            store(upload, now, clearance=clearance)
        record(
            _audit_actor(None, person),
            f"clearance.{action}",
            "clearance",
            clearance.pk,
            {"person": person.pk, "files": len(files)},
            at=now,
        )
    return clearance


# -- the exceptional manual override (人工复核解除, two people) -----------------------------------


def do_propose_override(person: Person, policy_id: str, user, now: datetime, reason: str):
    """Propose exempting a person from one reason outside the channels above. It takes effect
    only when another staff member of the command centre approves it on the review desk; the
    reason is shown to the resident. It removes a reason; nothing here can add one or set a
    colour."""
    if role_of(user) not in DECIDERS:
        raise PermissionDenied("只有区县审核员和指挥部可以提出人工复核")
    districts = districts_of(user)
    if districts is not None and person.county_code not in districts:
        raise PermissionDenied("此居民不在您负责的区县")
    reason = reason.strip()
    if len(reason) < 10:
        raise ClearanceError("请写明人工复核的理由(至少10个字,居民可见)")
    return do_submit(person, policy_id, Channel.OVERRIDE, now, user=user, description=reason)


def may_withdraw(user, clearance: Clearance) -> bool:
    """Whether the withdraw button is offered: to the staff member who proposed an override,
    until the approver starts reviewing it."""
    return (
        clearance.channel == Channel.OVERRIDE
        and user is not None
        and clearance.submitted_by_id == user.pk
        and clearance.status in machine.TRANSITIONS[machine.WITHDRAW][0]
    )


def do_withdraw_override(clearance_id: int, user, now: datetime, reason: str = "") -> Clearance:
    """The proposer takes back an override nobody has approved yet (a mistake, or the resident
    has cleared another way). The request stays on record, withdrawn, with who and why."""
    reason = reason.strip()
    if len(reason) > MAX_TEXT:
        raise ClearanceError(f"撤回理由最多 {MAX_TEXT} 字")
    with transaction.atomic():
        clearance = (
            Clearance.objects.select_for_update()
            .filter(pk=clearance_id, channel=Channel.OVERRIDE)
            .first()
        )
        if clearance is None:
            raise ClearanceError("没有这个人工复核")
        if clearance.submitted_by_id != user.pk:
            raise PermissionDenied("只有提出人工复核的工作人员可以撤回")
        _take(clearance, machine.WITHDRAW, user.get_username(), "applicant", now, reason)
        clearance.save()
        record(
            user,
            "clearance.withdraw",
            "clearance",
            clearance.pk,
            {"person": clearance.person_id, "reason": reason},
            at=now,
        )
    return clearance
