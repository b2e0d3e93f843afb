"""Clearing a reason from the phone: how it clears by itself, the three ways to ask, the online
appeal (线上申诉) with evidence, and following every request made for the resident — by their
employer, by the 12345 desk or by themselves."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from fangkong.audit.actions import record
from fangkong.clearances.actions import ClearanceError, _audit_actor, do_appeal, do_appellant_step
from fangkong.clearances.evidence import request_bytes, resident_may_read
from fangkong.clearances.evidence import response as evidence_response
from fangkong.clearances.models import OPEN_STATUSES, Channel, Clearance, Evidence
from fangkong.codes.queries import explain
from fangkong.engine import clearances as machine
from fangkong.ingest.limits import body_limit
from fangkong.policies.queries import published_policies
from fangkong.residents.page import code_page
from fangkong.residents.session import resident_required


@body_limit(request_bytes)
@never_cache
@resident_required
def clearing(request, policy_id: str):
    now = timezone.now()
    policy = next((p for p in published_policies(now) if p.id == policy_id), None)
    if policy is None:
        raise Http404
    person = request.resident
    if request.method == "POST":
        try:
            do_appeal(
                person,
                policy_id,
                request.POST.get("description", ""),
                request.FILES.getlist("files"),
                now,
            )
        except ClearanceError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "申诉已提交,区县审核后结果将在本页显示")
            return redirect("residents:clear", policy_id=policy_id)
    page = code_page(person, now)
    reason = next((r for r in page.code.reasons if r.policy == policy_id), None)
    # On demand, for this one reason: the facts behind it (the code page itself never
    # evaluates; a resident asking "why" is rare enough to afford it).
    explained = next((r for r in explain(person, now).reasons if r.policy == policy_id), None)
    requests = list(
        Clearance.objects.filter(person=person, policy_id=policy_id)
        .prefetch_related("evidence")
        .order_by("-submitted_at")
    )
    for item in requests:
        item.is_open = item.status in OPEN_STATUSES
        item.own_appeal = item.channel == Channel.APPEAL
        item.notes = [
            {
                "at": datetime.fromisoformat(s["at"]),
                "label": machine.ACTION_LABELS.get(s["action"], "提交说明"),
                "reason": s["reason"],
            }
            for s in item.steps
            if s["reason"]
        ]
    return render(
        request,
        "residents/clearing.html",
        {
            "policy": policy,
            "reason": reason,
            "facts": explained.facts if (reason and explained) else (),
            "requests": requests,
            "can_appeal": reason is not None and not any(r.is_open for r in requests),
            "description": request.POST.get("description", ""),
        },
    )


@body_limit(request_bytes)
@require_POST
@resident_required
def appeal_step(request, policy_id: str, pk: int):
    """Resubmit with more evidence, or withdraw, one's own appeal."""
    try:
        do_appellant_step(
            pk,
            request.resident,
            request.POST.get("action", ""),
            timezone.now(),
            note=request.POST.get("note", ""),
            files=request.FILES.getlist("files"),
        )
    except ClearanceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "已提交")
    return redirect("residents:clear", policy_id=policy_id)


@never_cache
@resident_required
def evidence(request, pk: int):
    item = Evidence.objects.select_related("clearance").filter(pk=pk).first()
    if item is None or not resident_may_read(request.resident, item):
        raise Http404
    record(
        _audit_actor(None, request.resident),
        "evidence.view",
        "evidence",
        item.pk,
        {"clearance": item.clearance_id},
    )
    return evidence_response(item)
