"""JSON API of plant gates (/api/plant-gates/...): a gate's entries (一人一登记), exits and
vehicles (一车一消杀) — from the gate's device (`Authorization: Bearer fkd_…`, like checkpoints')
or a staff session with CSRF — and, for staff, an enterprise's buffer zone and its closed-loop
compliance of a day."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.http import Http404
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from fangkong.api_errors import refusals
from fangkong.checkpoints.api import DeviceKey
from fangkong.engine import tokens
from fangkong.enterprises import gate as actions
from fangkong.enterprises.access import can_operate_gate, can_see
from fangkong.enterprises.models import Enterprise, PlantGate

router = Router(tags=["企业厂门"])
AUTH = [DeviceKey(), django_auth]


def gate_for_request(request, checkpoint_id: int) -> PlantGate:
    """The plant gate, if this request may act at it (its own device, or staff who operate the
    enterprise's gates); 404 otherwise, so existence is not leaked."""
    gate = (
        PlantGate.objects.select_related("enterprise", "checkpoint")
        .filter(checkpoint_id=checkpoint_id)
        .first()
    )
    if gate is None:
        raise Http404
    device = getattr(request, "auth_checkpoint", None)
    if device is not None:
        if device.pk != checkpoint_id:
            raise Http404
        return gate
    if not can_operate_gate(request.user, gate.enterprise):
        raise Http404
    return gate


def enterprise_for_request(request, pk: int) -> Enterprise:
    enterprise = Enterprise.objects.filter(pk=pk).first()
    if enterprise is None or not can_see(request.user, enterprise):
        raise Http404
    return enterprise


class EntryIn(Schema):
    token: str = Field("", max_length=tokens.MAX_TOKEN_LENGTH, description="扫到的健康码(二者之一)")
    id_number: str = Field("", max_length=32, description="工作人员录入的身份证号(二者之一)")
    origin_code: str = Field("", max_length=12, description="来源社区代码,空为居住社区")
    antigen: Literal["negative", "positive", "invalid"] = Field(description="入厂抗原检测结果")
    temperature: Decimal = Field(description="体温(℃),如36.5")
    mask: bool = Field(description="是否规范佩戴口罩")
    scan_id: uuid.UUID | None = Field(None, description="设备生成的扫码编号;重发同一编号只登记一次")


class EntryOut(Schema):
    entry_id: int
    admitted: bool
    reasons: list[str]
    repeated: bool = Field(description="已有登记作答(同一扫码编号,或人员已在厂内)")
    new_returnee: bool
    name: str
    id_number: str
    colour: str
    origin: str
    pcr_sampled_at: datetime | None
    scan_id: str
    at: datetime


def _entry_out(verdict: actions.EntryVerdict) -> dict:
    return {
        "entry_id": verdict.entry.pk,
        "admitted": verdict.admitted,
        "reasons": verdict.reasons,
        "repeated": verdict.repeated,
        "new_returnee": verdict.new_returnee,
        "name": verdict.name,
        "id_number": verdict.id_number,
        "colour": verdict.colour,
        "origin": verdict.origin_name,
        "pcr_sampled_at": verdict.pcr_sampled_at,
        "scan_id": verdict.scan_id,
        "at": verdict.at,
    }


@router.post(
    "/{checkpoint_id}/entries",
    response={200: EntryOut, **refusals(401, 403, 404, 422)},
    auth=AUTH,
    summary="Register a returning worker at the plant gate (一人一登记)",
    url_name="plant_gate_register_entry",
)
def register_entry(request, checkpoint_id: int, payload: EntryIn):
    """Checks the live code, a negative PCR sampled within 48 h, the origin's risk level, the
    antigen test at the gate, temperature and mask; a refusal names every reason. One
    registration per scan id, and per person while inside."""
    gate = gate_for_request(request, checkpoint_id)
    try:
        verdict = actions.do_register_entry(
            gate,
            now=timezone.now(),
            antigen=payload.antigen,
            temperature=payload.temperature,
            mask=payload.mask,
            token=payload.token,
            id_number=payload.id_number,
            origin_code=payload.origin_code,
            scan_id=payload.scan_id,
            user=request.user,
        )
    except actions.GateError as error:
        raise HttpError(422, str(error)) from None
    return _entry_out(verdict)


class ExitIn(Schema):
    token: str = Field("", max_length=tokens.MAX_TOKEN_LENGTH)
    id_number: str = Field("", max_length=32)
    purpose: Literal["testing", "supplies", "other"] = Field(
        description="testing 参加核酸检测 / supplies 领取生活物资 / other 其他"
    )
    note: str = Field("", max_length=200)
    scan_id: uuid.UUID | None = None


class ExitOut(Schema):
    exit_id: int
    scan_id: str
    at: datetime
    purpose: str
    breaks_loop: bool = Field(description="闭环生产企业人员因检测、领物资以外事由出厂")


@router.post(
    "/{checkpoint_id}/exits",
    response={200: ExitOut, **refusals(401, 403, 404, 422)},
    auth=AUTH,
    summary="Register a person leaving the plant",
    url_name="plant_gate_register_exit",
)
def register_exit(request, checkpoint_id: int, payload: ExitIn):
    gate = gate_for_request(request, checkpoint_id)
    try:
        leaving = actions.do_register_exit(
            gate,
            now=timezone.now(),
            purpose=payload.purpose,
            token=payload.token,
            id_number=payload.id_number,
            note=payload.note,
            scan_id=payload.scan_id,
            user=request.user,
        )
    except actions.GateError as error:
        raise HttpError(422, str(error)) from None
    return {
        "exit_id": leaving.pk,
        "scan_id": str(leaving.scan_id),
        "at": leaving.at,
        "purpose": leaving.purpose,
        "breaks_loop": leaving.breaks_loop,
    }


class VehicleIn(Schema):
    plate: str = Field(max_length=16, description="车牌号,如吉A12345")
    method: str = Field(max_length=64, description="消杀方式")
    disinfected_by: str = Field(max_length=64, description="消杀人员")
    driver_name: str = Field("", max_length=64)
    entry_id: uuid.UUID | None = Field(None, description="设备生成的登记编号;重发只登记一次")


class VehicleOut(Schema):
    vehicle_id: int
    entry_id: str
    plate: str
    at: datetime
    method: str
    disinfected_by: str
    driver_name: str
    recorded: bool = Field(description="本次新登记(false: 同一登记编号已有记录)")


@router.post(
    "/{checkpoint_id}/vehicles",
    response={200: VehicleOut, **refusals(401, 403, 404, 422)},
    auth=AUTH,
    summary="Log a vehicle's disinfection at the gate (一车一消杀)",
    url_name="plant_gate_record_vehicle",
)
def record_vehicle(request, checkpoint_id: int, payload: VehicleIn):
    gate = gate_for_request(request, checkpoint_id)
    try:
        vehicle, created = actions.do_record_vehicle(
            gate,
            now=timezone.now(),
            plate=payload.plate,
            method=payload.method,
            disinfected_by=payload.disinfected_by,
            driver_name=payload.driver_name,
            entry_id=payload.entry_id,
            user=request.user,
        )
    except actions.GateError as error:
        raise HttpError(422, str(error)) from None
    return {
        "vehicle_id": vehicle.pk,
        "entry_id": str(vehicle.entry_id),
        "plate": vehicle.plate,
        "at": vehicle.at,
        "method": vehicle.method,
        "disinfected_by": vehicle.disinfected_by,
        "driver_name": vehicle.driver_name,
        "recorded": created,
    }


class BufferRowOut(Schema):
    entry_id: int
    name: str
    id_number: str
    entered_at: datetime
    hours: float
    state: str
    positive: bool


class BufferOut(Schema):
    enterprise: int
    at: datetime
    people: list[BufferRowOut]


@router.get(
    "/enterprises/{pk}/buffer",
    response={200: BufferOut, **refusals(401, 403, 404)},
    auth=django_auth,
    summary="New returnees still in the buffer zone (缓冲区)",
    url_name="plant_gate_buffer",
)
def buffer(request, pk: int):
    enterprise = enterprise_for_request(request, pk)
    now = timezone.now()
    return {
        "enterprise": enterprise.pk,
        "at": now,
        "people": [
            {
                "entry_id": row.entry.pk,
                "name": row.name,
                "id_number": row.id_number,
                "entered_at": row.entered_at,
                "hours": row.hours,
                "state": row.state,
                "positive": row.positive,
            }
            for row in actions.buffer_zone(enterprise, now)
        ],
    }


class MissedOut(Schema):
    name: str
    id_number: str
    antigen: bool = Field(description="漏做抗原")
    pcr: bool = Field(description="漏做核酸")
    last_antigen_at: datetime | None
    last_pcr_at: datetime | None


class BreakingExitOut(Schema):
    name: str
    id_number: str
    at: datetime
    purpose: str
    note: str


class LoopOut(Schema):
    enterprise: int
    day: date
    pcr_every_days: int
    antigen_every_days: int
    members: int
    compliant: int
    rate: float | None
    missed: list[MissedOut]
    breaking_exits: list[BreakingExitOut] = Field(description="前一日破环出厂")
    alert: bool


@router.get(
    "/enterprises/{pk}/loop",
    response={200: LoopOut, **refusals(401, 403, 404, 422)},
    auth=django_auth,
    summary="Closed-loop compliance of a plant on a day (闭环管理)",
    url_name="plant_gate_loop",
)
def loop(request, pk: int, day: date | None = None):
    enterprise = enterprise_for_request(request, pk)
    now = timezone.now()
    day = day or now.astimezone(actions.LOCAL).date()
    compliance, rows = actions.loop_compliance(enterprise, day, now)
    return {
        "enterprise": enterprise.pk,
        "day": day,
        "pcr_every_days": enterprise.pcr_every_days,
        "antigen_every_days": enterprise.antigen_every_days,
        "members": compliance.members,
        "compliant": compliance.compliant,
        "rate": compliance.rate,
        "missed": [
            {
                "name": m.name,
                "id_number": m.id_number,
                "antigen": m.antigen,
                "pcr": m.pcr,
                "last_antigen_at": m.last_antigen_at,
                "last_pcr_at": m.last_pcr_at,
            }
            for m in rows.missed
        ],
        "breaking_exits": [
            {
                "name": x.name,
                "id_number": x.id_number,
                "at": x.at,
                "purpose": x.purpose,
                "note": x.exit.note,
            }
            for x in rows.breaking_exits
        ],
        "alert": rows.alert,
    }
