"""The review desk as JSON (解码审核台接口): the queue, one request with its history and evidence,
and a reviewer's decision. Same roles and districts as the web desk (fangkong.clearances.views):
the hotline and the command centre read the whole city, district reviewers their districts; only
reviewers of the person's district and the command centre decide. A request outside one's
districts is 404, never 403, so its existence is not revealed. Names and ID numbers are masked;
the full ID number and the phone number never leave here. Staff authenticate with their session
(the CSRF token is required on POST)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth
from pydantic import field_validator

from fangkong.accounts.scoping import require_role, scope_queryset
from fangkong.audit.actions import record
from fangkong.clearances.actions import (
    REVIEW_STEPS,
    ClearanceError,
    do_review,
    may_decide,
    review_steps,
)
from fangkong.clearances.evidence import evidence_of, staff_may_read
from fangkong.clearances.models import OPEN_STATUSES, Channel, Clearance
from fangkong.clearances.views import DESK_READERS
from fangkong.engine import clearances as machine
from fangkong.engine.id_numbers import mask, mask_name

router = Router(tags=["clearances"], auth=django_auth)

MAX_LIMIT = 200
# Past this an offset pages nothing real, and PostgreSQL refuses an OFFSET beyond a bigint.
MAX_OFFSET = 10_000_000
NOT_FOUND = "没有这个申请,或不在您负责的区县"

StatusName = Literal[tuple(machine.STATUS_LABELS)]  # type: ignore[valid-type]
ChannelName = Literal[tuple(Channel.values)]  # type: ignore[valid-type]
DecisionName = Literal[REVIEW_STEPS]  # type: ignore[valid-type]
STATUS_DOC = "; ".join(f"{k} {v}" for k, v in machine.STATUS_LABELS.items())
CHANNEL_DOC = "; ".join(f"{value} {label}" for value, label in Channel.choices)
DECISION_DOC = "; ".join(f"{a} {machine.ACTION_LABELS[a]}" for a in REVIEW_STEPS)


# ── schemas ─────────────────────────────────────────────────────────────────────────────────


class ErrorOut(Schema):
    detail: str = Field(description="Why the request was refused, in Chinese (中文说明)")


class DecisionErrorOut(Schema):
    detail: str | list[dict[str, Any]] = Field(
        description="The step cannot be taken (a string in Chinese, e.g. 通过须写明理由), or the "
        "body failed validation (a list of field errors)"
    )


class QueueFilters(Schema):
    state: Literal["open", "overdue", "all"] = Field(
        "open",
        description="open: not yet decided (未办结); overdue: open longer than the service-time "
        "target (超时); all: every request",
    )
    channel: ChannelName | None = Field(
        None, description=f"Only this channel (渠道): {CHANNEL_DOC}"
    )
    policy: str | None = Field(
        None,
        pattern=r"^[a-z0-9][a-z0-9-]{1,62}$",
        description="Only requests against this policy id (申诉的赋码政策)",
    )
    county: str | None = Field(
        None,
        pattern=r"^[0-9]{6}$",
        description="Only this county-level district (区县代码); outside your districts the list "
        "is empty",
    )
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip")


class ClearanceItem(Schema):
    id: int
    channel: ChannelName = Field(description=f"渠道: {CHANNEL_DOC}")
    channel_label: str = Field(description="The channel in Chinese, e.g. 线上申诉")
    status: StatusName = Field(description=f"状态: {STATUS_DOC}")
    status_label: str = Field(description="The status in Chinese, e.g. 审核中")
    policy_id: str = Field(description="The policy the request is against (申诉的赋码政策)")
    policy_version: int = Field(description="Its version in force when submitted (政策版本)")
    county_code: str = Field(description="The person's district when submitted (所属区县)")
    submitted_at: datetime = Field(description="提交时间 (Asia/Shanghai)")
    decided_at: datetime | None = Field(description="决定时间 (approved or rejected)")
    age_hours: int = Field(description="Whole hours since submission (已等待小时数)")
    overdue: bool = Field(
        description="Still open and older than the service-time target (超时未办结)"
    )
    masked_name: str = Field(description="The person's name, masked (e.g. *三)")
    masked_id_number: str = Field(description="The ID number, masked (220102********123X)")


class ClearancePage(Schema):
    count: int = Field(description="Items matching the filters, over all pages")
    limit: int
    offset: int
    target_hours: int = Field(description="The service-time target in hours (办理时限)")
    items: list[ClearanceItem]


class StepOut(Schema):
    action: str = Field(description="submit, or a review / applicant action")
    action_label: str = Field(description="The action in Chinese, e.g. 开始审核")
    status: StatusName = Field(description="The status after the step")
    status_label: str
    actor: str = Field(description="Staff username, or 居民#<n> for the resident")
    at: datetime
    reason: str = Field(
        description="The reason given (the resident reads it); for submit, the note"
    )


class EvidenceOut(Schema):
    id: int
    original_name: str = Field(description="The uploaded file's name (文件名)")
    content_type: str = Field(description="Detected from the file's content")
    size: int = Field(description="Bytes")
    uploaded_at: datetime
    attached_to: Literal["clearance", "batch"] = Field(
        description="This request's own file, or its employer list's (单位集中申请材料)"
    )
    url: str = Field(description="The staff evidence view; every opening is audited")


class ClearanceDetail(ClearanceItem):
    description: str = Field(description="情况说明: the applicant's account")
    decision_reason: str = Field(description="决定理由: shown to the resident")
    batch_id: int | None = Field(description="The employer list this came from (单位集中申请)")
    steps: list[StepOut] = Field(description="处理经过: every step, oldest first")
    evidence: list[EvidenceOut] = Field(
        description="申诉材料 you may open (district reviewers, the command centre)"
    )
    evidence_total: int = Field(description="All evidence files, including ones you may not open")
    can_decide: bool = Field(description="Whether you may take a review step on it now")


class DecisionIn(Schema):
    action: DecisionName = Field(description=f"审核操作: {DECISION_DOC}")
    reason: str = Field(
        "",
        max_length=500,
        description="理由, shown to the resident; required to approve, reject or request evidence",
    )

    @field_validator("reason")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
            raise ValueError("理由不能包含控制字符")
        return value


# ── helpers ─────────────────────────────────────────────────────────────────────────────────


def _readable(request):
    """The requests this user may read, or 403 for a role that reads none."""
    try:
        require_role(request.user, DESK_READERS)
    except PermissionDenied as error:
        raise HttpError(403, str(error)) from None
    return scope_queryset(Clearance.objects.select_related("person"), request.user)


def _get(request, clearance_id: int) -> Clearance:
    clearance = _readable(request).filter(pk=clearance_id).first()
    if clearance is None:
        raise HttpError(404, NOT_FOUND)
    return clearance


def _item(clearance: Clearance, now: datetime) -> dict:
    target = settings.CLEARANCE_TARGET_HOURS
    age = now - clearance.submitted_at
    return {
        "id": clearance.pk,
        "channel": clearance.channel,
        "channel_label": clearance.get_channel_display(),
        "status": clearance.status,
        "status_label": machine.STATUS_LABELS[clearance.status],
        "policy_id": clearance.policy_id,
        "policy_version": clearance.policy_version,
        "county_code": clearance.county_code,
        "submitted_at": timezone.localtime(clearance.submitted_at),
        "decided_at": clearance.decided_at and timezone.localtime(clearance.decided_at),
        "age_hours": int(age.total_seconds() // 3600),
        "overdue": clearance.status in OPEN_STATUSES and age.total_seconds() > target * 3600,
        "masked_name": mask_name(clearance.person.name),
        "masked_id_number": mask(clearance.person.id_number),
    }


def _step(step: dict) -> dict:
    action = step["action"]
    return {
        "action": action,
        "action_label": "提交" if action == "submit" else machine.ACTION_LABELS.get(action, action),
        "status": step["status"],
        "status_label": machine.STATUS_LABELS[step["status"]],
        "actor": step["actor"],
        "at": timezone.localtime(datetime.fromisoformat(step["at"])),
        "reason": step.get("reason", ""),
    }


def _detail(request, clearance: Clearance, now: datetime) -> dict:
    evidence = list(evidence_of(clearance))
    return _item(clearance, now) | {
        "description": clearance.description,
        "decision_reason": clearance.decision_reason,
        "batch_id": clearance.batch_id,
        "steps": [_step(s) for s in clearance.steps],
        "evidence": [
            {
                "id": e.pk,
                "original_name": e.original_name,
                "content_type": e.content_type,
                "size": e.size,
                "uploaded_at": timezone.localtime(e.uploaded_at),
                "attached_to": "clearance" if e.clearance_id else "batch",
                "url": reverse("clearances:evidence", args=[e.pk]),
            }
            for e in evidence
            if staff_may_read(request.user, e)
        ],
        "evidence_total": len(evidence),
        "can_decide": may_decide(request.user, clearance) and bool(review_steps(clearance)),
    }


# ── routes ──────────────────────────────────────────────────────────────────────────────────


@router.get(
    "/",
    response={200: ClearancePage, 401: ErrorOut, 403: ErrorOut},
    summary="The review queue (解码审核队列)",
    operation_id="clearances_queue",
)
def queue(request, filters: Query[QueueFilters]):
    """The clearance requests of your districts (the whole city for the hotline, the command
    centre, auditors and administrators), oldest first, as on the web desk. Names and ID numbers
    are masked. `overdue` marks open requests older than the service-time target.

    您负责区县的解码申请,按提交时间排序;姓名与身份证号已脱敏。"""
    now = timezone.now()
    rows = _readable(request)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    if filters.policy:
        rows = rows.filter(policy_id=filters.policy)
    if filters.county:
        rows = rows.filter(county_code=filters.county)
    if filters.state == "open":
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif filters.state == "overdue":
        cutoff = now - timedelta(hours=settings.CLEARANCE_TARGET_HOURS)
        rows = rows.filter(status__in=OPEN_STATUSES, submitted_at__lt=cutoff)
    rows = rows.order_by("submitted_at", "id")
    page = rows[filters.offset : filters.offset + filters.limit]
    return {
        "count": rows.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "target_hours": settings.CLEARANCE_TARGET_HOURS,
        "items": [_item(c, now) for c in page],
    }


@router.get(
    "/{clearance_id}",
    response={200: ClearanceDetail, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="One clearance request (解码申请详情)",
    operation_id="clearances_detail",
)
def detail(request, clearance_id: int = Path(..., ge=1, description="The request's id")):
    """A request with its history (处理经过), decision reason and the evidence files you may
    open. Outside your districts it is 404, whether or not it exists. Every opening is written
    to the audit log (clearance.view), as on the web desk."""
    clearance = _get(request, clearance_id)
    record(
        request.user,
        "clearance.view",
        "clearance",
        clearance.pk,
        {"person": clearance.person_id, "via": "api"},
    )
    return _detail(request, clearance, timezone.now())


@router.post(
    "/{clearance_id}/decision",
    response={
        200: ClearanceDetail,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        422: DecisionErrorOut,
    },
    summary="Take a review step (审核:开始审核、通过、不通过、要求补充材料)",
    operation_id="clearances_decide",
)
def decide(
    request,
    payload: DecisionIn,
    clearance_id: int = Path(..., ge=1, description="The request's id"),
):
    """Start the review, approve, reject or ask for more evidence. Approving, rejecting and asking
    for evidence need a reason, which the resident reads; taken on a request still submitted,
    they start its review too. An approval exempts the person from that policy version and
    re-evaluates their code at once.

    - 400: the body is not JSON;
    - 404: the request is not in your districts (or does not exist);
    - 403: you may read it but not decide it (the hotline, auditors, a reviewer of another
      district), or the session's CSRF token is missing;
    - 422: the step cannot be taken now, said in Chinese (e.g. 通过须写明理由(居民可见)).

    Answers the request as it is after the step."""
    clearance = _get(request, clearance_id)
    now = timezone.now()
    try:
        clearance = do_review(clearance.pk, payload.action, request.user, now, payload.reason)
    except PermissionDenied as error:
        raise HttpError(403, str(error)) from None
    except ClearanceError as error:
        raise HttpError(422, str(error)) from None
    return _detail(request, clearance, now)
