"""JSON API of vehicle passes (/api/passes/...). Staff authenticate with their session (with
CSRF); GET /revoked also answers a checkpoint device's bearer key, like its bundle.

- POST /apply — an application (the enterprise's account, or its district on its behalf)
- POST /{id}/decide — approve or reject with a reason (vehicle-pass officers)
- POST /batches — close the current issuing batch
- POST /{id}/revoke — revoke an issued pass
- GET /stats — the figures (the JSON of `fangkong passes stats --json`)
- GET /revoked — ids of revoked passes still within their validity, for offline verifiers
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import districts_of, role_of
from fangkong.api_errors import refusals
from fangkong.checkpoints.api import AUTH as DEVICE_OR_STAFF
from fangkong.enterprises.models import Enterprise
from fangkong.passes import access
from fangkong.passes import actions as act
from fangkong.passes.models import VehiclePass, VehicleType
from fangkong.passes.queries import revoked_ids
from fangkong.passes.rules import LOCAL, PassError
from fangkong.passes.stats import figures

router = Router(tags=["车辆通行证"], auth=django_auth)
VehicleTypeName = Literal[tuple(VehicleType.values)]  # type: ignore[valid-type]


class ApplyIn(Schema):
    enterprise: int = Field(description="企业 id")
    plate: str = Field(max_length=16, description="车牌号, e.g. 吉A12345")
    vehicle_type: VehicleTypeName = Field(
        description="; ".join(f"{v} {label}" for v, label in VehicleType.choices)
    )
    driver_id_number: str = Field(max_length=18, description="驾驶员身份证号 (a registered person)")
    driver_phone: str = Field(max_length=20)
    origin: str = Field(max_length=40)
    origin_code: str = Field("", max_length=12, description="起点区划代码, if known")
    destination: str = Field(max_length=40)
    destination_code: str = Field("", max_length=12)
    cargo: str = Field(max_length=100)
    valid_from: dt.datetime = Field(description="ISO 8601; Beijing time without an offset")
    valid_until: dt.datetime = Field(description="at most 14 days after valid_from")
    previous: int | None = Field(None, description="the rejected application this re-applies")


class PassOut(Schema):
    id: int
    enterprise: int
    county_code: str
    plate: str
    vehicle_type: str
    status: Literal["pending", "approved", "rejected", "issued", "revoked"]
    applied_at: dt.datetime
    decided_at: dt.datetime | None
    handling_hours: float | None = Field(description="申请至处理的经过小时数; null while pending")
    decision_reason: str
    previous: int | None
    batch: int | None = Field(description="发放批次号")
    number: str = Field(description="通行证编号, once issued")
    valid_from: dt.datetime
    valid_until: dt.datetime
    token: str = Field(description="the signed QR (fk-vehicle), once issued and not revoked")


def _out(vp: VehiclePass) -> dict:
    vp.refresh_from_db()
    return {
        "id": vp.pk,
        "enterprise": vp.enterprise_id,
        "county_code": vp.county_code,
        "plate": vp.plate,
        "vehicle_type": vp.vehicle_type,
        "status": vp.status,
        "applied_at": vp.applied_at,
        "decided_at": vp.decided_at,
        "handling_hours": None
        if vp.decided_at is None
        else round((vp.decided_at - vp.applied_at).total_seconds() / 3600, 2),
        "decision_reason": vp.decision_reason,
        "previous": vp.previous_id,
        "batch": vp.batch.number if vp.batch_id else None,
        "number": vp.number_text,
        "valid_from": vp.valid_from,
        "valid_until": vp.valid_until,
        "token": vp.token if vp.revoked_at is None else "",
    }


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=LOCAL)


def _visible(request, pk: int) -> VehiclePass:
    vp = access.visible_passes(request.user).filter(pk=pk).first()
    if vp is None:
        raise HttpError(404, "没有这张通行证")
    return vp


@router.post("/apply", response={200: PassOut, **refusals(401, 403, 404, 422)})
def apply(request, payload: ApplyIn):
    """申请车辆通行证 (or re-apply after a rejection with `previous`)."""
    enterprise = Enterprise.objects.filter(pk=payload.enterprise).first()
    if enterprise is None:
        raise HttpError(404, "没有这家企业")
    previous = _visible(request, payload.previous) if payload.previous else None
    data = payload.dict()
    for name in ("enterprise", "previous"):
        data.pop(name)
    data["valid_from"], data["valid_until"] = (
        _aware(data["valid_from"]),
        _aware(data["valid_until"]),
    )
    try:
        vp = act.do_apply(
            request.user, enterprise=enterprise, previous=previous, now=timezone.now(), **data
        )
    except PassError as error:
        raise HttpError(422, str(error)) from None
    return _out(vp)


class DecideIn(Schema):
    decision: Literal["approve", "reject"]
    reason: str = Field("", max_length=200, description="处理意见; required to reject")


@router.post("/{pass_id}/decide", response={200: PassOut, **refusals(401, 403, 404, 422)})
def decide(request, pass_id: int, payload: DecideIn):
    vp = _visible(request, pass_id)
    try:
        vp = act.do_decide(
            request.user,
            vp,
            approve=payload.decision == "approve",
            reason=payload.reason,
            now=timezone.now(),
        )
    except PassError as error:
        raise HttpError(422, str(error)) from None
    return _out(vp)


class RevokeIn(Schema):
    reason: str = Field(max_length=200, description="吊销原因")


@router.post("/{pass_id}/revoke", response={200: PassOut, **refusals(401, 403, 404, 422)})
def revoke(request, pass_id: int, payload: RevokeIn):
    vp = _visible(request, pass_id)
    try:
        vp = act.do_revoke(request.user, vp, reason=payload.reason, now=timezone.now())
    except PassError as error:
        raise HttpError(422, str(error)) from None
    return _out(vp)


class BatchOut(Schema):
    number: int
    issued: int
    closed_at: dt.datetime
    first: str = Field(description="first pass number of the batch")
    last: str


@router.post("/batches", response={200: BatchOut, **refusals(401, 403, 422)})
def issue_batch(request):
    """Close the current batch: approved passes in your districts get numbers and become valid."""
    try:
        batch = act.do_issue_batch(request.user, now=timezone.now())
    except PassError as error:
        raise HttpError(422, str(error)) from None
    numbers = list(batch.passes.order_by("number").values_list("number", flat=True))
    return {
        "number": batch.number,
        "issued": len(numbers),
        "closed_at": batch.closed_at,
        "first": f"吉车证{numbers[0]:06d}",
        "last": f"吉车证{numbers[-1]:06d}",
    }


class BatchFigures(Schema):
    number: int
    issued: int
    closed_at: str


class DistrictFigures(Schema):
    county_code: str
    name: str
    applied: int
    approved: int
    rejected: int
    issued: int
    pending: int


class DayFigures(Schema):
    date: str
    applied: int
    approved: int
    rejected: int
    issued: int


class Stats(Schema):
    as_of: str
    applied: int
    reapplied: int
    decided: int
    approved: int
    rejected: int
    issued: int
    revoked: int
    pending: int
    overdue_pending: int = Field(description="待处理且已超过24小时")
    batches: list[BatchFigures]
    median_handling_hours: float | None
    within_24h: float | None = Field(description="处理用时不足24小时的比例 (of decided)")
    by_district: list[DistrictFigures]
    by_day: list[DayFigures]


class StatsQuery(Schema):
    as_of: dt.datetime | None = Field(None, description="数据截至 (ISO 8601); default now")


@router.get("/stats", response={200: Stats, **refusals(401, 403, 422)})
def stats(request, query: Query[StatsQuery]):
    """Figures as of a moment, limited to your districts."""
    if role_of(request.user) not in access.READERS - {Role.EMPLOYER}:
        raise HttpError(403, "您的角色无权查看通行证统计")
    as_of = _aware(query.as_of) if query.as_of else timezone.now()
    return figures(as_of, districts_of(request.user))


class RevokedPasses(Schema):
    revoked: list[int] = Field(description="ids (`pid`) of revoked passes still within validity")
    issued_at: str


@router.get("/revoked", response={200: RevokedPasses, **refusals(401, 403)}, auth=DEVICE_OR_STAFF)
def revoked(request):
    """What an offline verifier downloads with its bundle: passes it must refuse."""
    now = timezone.now()
    return {"revoked": revoked_ids(now), "issued_at": now.isoformat()}
