"""Pages of plant gates and closed loops: the gate desk (一人一登记、出厂、一车一消杀), an
enterprise's buffer zone (缓冲区) and its closed-loop compliance of a day, and the overview of
the closed-loop plants one can see.

The desk: staff who operate the enterprise's gates (fangkong.enterprises.access.can_operate_gate);
the buffer and the loop pages: whoever sees the enterprise (can_see). Another's gate or
enterprise is a 404. Names and ID numbers are always masked here.
"""

from __future__ import annotations

import re
import uuid
from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.utils import timezone

from fangkong.accounts.views import county_names, render_staff
from fangkong.engine.id_numbers import mask_name
from fangkong.enterprises import gate as actions
from fangkong.enterprises.access import can_operate_gate, can_see, visible_enterprises
from fangkong.enterprises.models import (
    AntigenAtGate,
    Enterprise,
    ExitPurpose,
    GateExit,
    PlantGate,
    VehicleDisinfection,
)
from fangkong.people.models import Person

ID_NUMBER_SHAPE = re.compile(r"^\s*\d{17}[\dXx]\s*$")
FORMS = ("entry", "exit", "vehicle")


def _gate_for(user, checkpoint_id: int) -> PlantGate:
    gate = (
        PlantGate.objects.select_related("enterprise", "checkpoint")
        .filter(checkpoint_id=checkpoint_id)
        .first()
    )
    if gate is None or not can_operate_gate(user, gate.enterprise):
        raise Http404
    return gate


def _enterprise_for(user, pk: int) -> Enterprise:
    enterprise = Enterprise.objects.filter(pk=pk).first()
    if enterprise is None or not can_see(user, enterprise):
        raise Http404
    return enterprise


def _who(scan: str) -> dict:
    """What the scan field holds: an ID number typed by staff, or a scanned health code."""
    scan = (scan or "").strip()
    if ID_NUMBER_SHAPE.match(scan):
        return {"id_number": scan, "token": ""}
    return {"id_number": "", "token": scan}


def _register(request, gate: PlantGate, form: str, now) -> dict:
    data = request.POST
    if form == "entry":
        mask = data.get("mask", "")
        if mask not in ("yes", "no"):
            raise actions.GateError("口罩:请选择是否规范佩戴")
        if not data.get("antigen"):
            raise actions.GateError("入厂抗原:请选择检测结果")
        verdict = actions.do_register_entry(
            gate,
            now=now,
            antigen=data.get("antigen", ""),
            temperature=data.get("temperature", ""),
            mask=mask == "yes",
            origin_code=data.get("origin_code", ""),
            scan_id=data.get("scan_id") or None,
            user=request.user,
            **_who(data.get("scan", "")),
        )
        return {"verdict": verdict}
    if form == "exit":
        leaving = actions.do_register_exit(
            gate,
            now=now,
            purpose=data.get("purpose", ""),
            note=data.get("note", ""),
            scan_id=data.get("scan_id") or None,
            user=request.user,
            **_who(data.get("scan", "")),
        )
        return {"exit_done": leaving, "active": "exit"}
    vehicle, created = actions.do_record_vehicle(
        gate,
        now=now,
        plate=data.get("plate", ""),
        method=data.get("method", ""),
        disinfected_by=data.get("disinfected_by", ""),
        driver_name=data.get("driver_name", ""),
        entry_id=data.get("scan_id") or None,
        user=request.user,
    )
    return {"vehicle_done": vehicle, "vehicle_created": created, "active": "vehicle"}


@login_required
def gate_desk(request, checkpoint_id: int):
    """The gate desk: scan or type the ID number, record antigen, temperature and mask, and see
    the verdict with its reasons; exits and vehicles on the same page."""
    gate = _gate_for(request.user, checkpoint_id)
    now = timezone.now()
    context: dict = {"active": "entry"}
    status = 200
    if request.method == "POST":
        form = request.POST.get("form", "entry")
        if form not in FORMS:
            form = "entry"
        context["active"] = form
        try:
            context.update(_register(request, gate, form, now))
        except actions.GateError as error:
            context["error"] = str(error)
            context["posted"] = request.POST
            status = 422
    exits = list(GateExit.objects.filter(gate=gate, at__lte=now).order_by("-at", "-pk")[:10])
    people = Person.objects.in_bulk({x.person_id for x in exits})
    for x in exits:
        person = people.get(x.person_id)
        x.masked_name = mask_name(person.name) if person else "—"
    context.update(
        {
            "gate": gate,
            "enterprise": gate.enterprise,
            "scan_ids": {form: uuid.uuid4() for form in FORMS},
            "antigen_choices": AntigenAtGate.choices,
            "purposes": ExitPurpose.choices,
            "recent": actions.recent_entries(gate, now),
            "exits": exits,
            "vehicles": VehicleDisinfection.objects.filter(gate=gate, at__lte=now).order_by(
                "-at", "-pk"
            )[:10],
        }
    )
    return render_staff(request, "enterprises/gate/desk.html", context, status=status)


@login_required
def buffer_page(request, pk: int):
    enterprise = _enterprise_for(request.user, pk)
    now = timezone.now()
    rows = actions.buffer_zone(enterprise, now)
    return render_staff(
        request,
        "enterprises/gate/buffer.html",
        {"enterprise": enterprise, "rows": rows, "now": now},
    )


def _day(request, now) -> tuple[date, str]:
    raw = request.GET.get("day", "").strip()
    today = now.astimezone(actions.LOCAL).date()
    if not raw:
        return today, ""
    try:
        return date.fromisoformat(raw), ""
    except ValueError:
        return today, f"日期“{raw}”格式不正确,应为YYYY-MM-DD,已显示今天"


@login_required
def loop_page(request, pk: int):
    enterprise = _enterprise_for(request.user, pk)
    now = timezone.now()
    day, problem = _day(request, now)
    compliance, rows = actions.loop_compliance(enterprise, day, now)
    return render_staff(
        request,
        "enterprises/gate/loop.html",
        {
            "enterprise": enterprise,
            "day": day,
            "problem": problem,
            "compliance": compliance,
            "rate_percent": None if compliance.rate is None else round(compliance.rate * 100, 1),
            "rows": rows,
        },
    )


@login_required
def loop_overview(request):
    now = timezone.now()
    day, problem = _day(request, now)
    plants = actions.closed_loop_plants(
        visible_enterprises(request.user).order_by("county_code", "name"), day, now
    )
    table = []
    for enterprise in plants:
        compliance, rows = actions.loop_compliance(enterprise, day, now)
        table.append(
            {
                "enterprise": enterprise,
                "compliance": compliance,
                "rate_percent": None
                if compliance.rate is None
                else round(compliance.rate * 100, 1),
                "missed": len(rows.missed),
                "breaking_exits": len(rows.breaking_exits),
                "alert": rows.alert,
            }
        )
    names = county_names(e.county_code for e in plants)
    for row in table:
        row["county"] = names.get(row["enterprise"].county_code, row["enterprise"].county_code)
    return render_staff(
        request,
        "enterprises/gate/loop_overview.html",
        {"day": day, "problem": problem, "table": table},
    )


@login_required
def gate_new(request, pk: int):
    """Set up a plant gate (POST from the enterprise page): its device key is shown once."""
    enterprise = _enterprise_for(request.user, pk)
    if request.method != "POST":
        raise Http404
    try:
        gate, device_key = actions.do_create_plant_gate(
            request.user, enterprise, name=request.POST.get("name", ""), now=timezone.now()
        )
    except actions.GateError as error:
        return render_staff(
            request,
            "enterprises/gate/created.html",
            {"enterprise": enterprise, "error": str(error)},
            status=422,
        )
    return render_staff(
        request,
        "enterprises/gate/created.html",
        {"enterprise": enterprise, "gate": gate, "device_key": device_key},
    )
