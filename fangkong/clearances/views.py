"""The review desk (解码审核台): the queue of a reviewer's districts with the service-time clock,
and one request with its history and the decision form. Hotline and command centre see the
whole city; only district reviewers of the person's district and the command centre decide."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import CITY_WIDE, require_role, scope_queryset
from fangkong.accounts.views import render_staff
from fangkong.audit.actions import record
from fangkong.clearances.actions import (
    MAX_REASON,
    MAX_TEXT,
    REVIEW_STEPS,
    ClearanceError,
    do_propose_override,
    do_review,
    do_withdraw_override,
    may_decide,
    may_withdraw,
    review_steps,
)
from fangkong.clearances.evidence import evidence_of, staff_may_read
from fangkong.clearances.evidence import response as evidence_response
from fangkong.clearances.models import OPEN_STATUSES, Channel, Clearance, Evidence
from fangkong.engine import clearances as machine
from fangkong.engine.id_numbers import mask, mask_name
from fangkong.people.models import Person
from fangkong.policies.models import PolicyVersion

DESK_READERS = CITY_WIDE | {Role.DISTRICT_REVIEWER}
MAX_MINE = 50


def _target() -> timedelta:
    return timedelta(hours=settings.CLEARANCE_TARGET_HOURS)


def _policy_choices() -> list[tuple[str, str]]:
    """Every policy ever published, by its latest title."""
    titles = dict(
        PolicyVersion.objects.order_by("policy_id", "version").values_list("policy_id", "title")
    )
    return sorted(titles.items(), key=lambda item: item[1])


@login_required
def queue(request):
    require_role(request.user, DESK_READERS)
    now = timezone.now()
    rows = scope_queryset(
        Clearance.objects.with_policy_title().select_related("person"), request.user
    )
    # The overrides this member proposed wait for somebody else: shown here, where they look.
    mine = list(
        rows.filter(
            channel=Channel.OVERRIDE, submitted_by=request.user, status__in=OPEN_STATUSES
        ).order_by("submitted_at", "id")[:MAX_MINE]
    )
    for item in mine:
        item.masked_name = mask_name(item.person.name)
    channel = request.GET.get("channel", "")
    policy = request.GET.get("policy", "").strip()
    state = request.GET.get("state", "open")
    if channel in Channel.values:
        rows = rows.filter(channel=channel)
    if policy:
        rows = rows.filter(policy_id=policy)
    if state == "open":
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif state == "overdue":
        rows = rows.filter(status__in=OPEN_STATUSES, submitted_at__lt=now - _target())
    waited = request.GET.get("waited", "").strip()
    if not (waited.isascii() and waited.isdecimal()):
        waited = ""
    if waited:
        rows = rows.filter(submitted_at__lte=now - timedelta(hours=int(waited[:5])))
    page = Paginator(rows.order_by("submitted_at", "id"), 50).get_page(request.GET.get("page"))
    filters = request.GET.copy()
    filters.pop("page", None)
    for item in page:
        age = now - item.submitted_at
        item.age_hours = int(age.total_seconds() // 3600)
        item.overdue = item.status in OPEN_STATUSES and age > _target()
        item.masked_name = mask_name(item.person.name)
        item.masked_id = mask(item.person.id_number)
    return render_staff(
        request,
        "clearances/queue.html",
        {
            "page": page,
            "mine": mine,
            "extra_query": filters.urlencode(),
            "policies": _policy_choices(),
            "channels": Channel.choices,
            "channel": channel,
            "policy": policy,
            "state": state,
            "waited": waited,
            "target_hours": settings.CLEARANCE_TARGET_HOURS,
        },
    )


@login_required
def detail(request, pk: int):
    require_role(request.user, DESK_READERS)
    clearance = (
        scope_queryset(
            Clearance.objects.with_policy_title().select_related("person", "batch", "submitted_by"),
            request.user,
        )
        .filter(pk=pk)
        .first()
    )
    if clearance is None:
        raise Http404("没有这个申请,或不在您负责的区县")
    now = timezone.now()
    typed = {"action": "", "reason": ""}
    status = 200
    if request.method == "POST":
        # Whatever happens, the reviewer's typed reason comes back to them.
        typed = {k: request.POST.get(k, "")[:MAX_TEXT] for k in typed}
        status = _decide(request, clearance, typed, now)
        if status == 302:
            return redirect("clearances:detail", pk=pk)
    # Opening a request shows a person's record: audited like any other view of it.
    record(
        request.user, "clearance.view", "clearance", clearance.pk, {"person": clearance.person_id}
    )
    offered = review_steps(clearance) if may_decide(request.user, clearance) else []
    return render_staff(
        request,
        "clearances/detail.html",
        {
            "clearance": clearance,
            "masked_name": mask_name(clearance.person.name),
            "masked_id": mask(clearance.person.id_number),
            "status_label": machine.STATUS_LABELS[clearance.status],
            "steps": [s | {"when": datetime.fromisoformat(s["at"])} for s in clearance.steps],
            # The request's own files and its employer list's document, to those who may open them.
            "evidence": [e for e in evidence_of(clearance) if staff_may_read(request.user, e)],
            "action_labels": machine.ACTION_LABELS,
            "decisions": [(a, machine.ACTION_LABELS[a]) for a in offered],
            "typed": typed,
            "max_reason": MAX_REASON,
            "can_withdraw": may_withdraw(request.user, clearance),
            "age_hours": int((now - clearance.submitted_at).total_seconds() // 3600),
        },
        status=status,
    )


def _decide(request, clearance: Clearance, typed: dict, now: datetime) -> int:
    """The decision form: 302 when the step was taken, else the status of the page that says why."""
    action = typed["action"]
    if action not in REVIEW_STEPS:
        messages.error(request, "请选择审核操作")
        return 400
    try:
        do_review(clearance.pk, action, request.user, now, typed["reason"])
    except ClearanceError as error:
        messages.error(request, str(error))
        return 400
    except PermissionDenied as error:
        messages.error(request, str(error))
        return 403
    messages.success(request, f"已{machine.ACTION_LABELS[action]}")
    return 302


@login_required
def evidence(request, pk: int):
    """One evidence file, for the reviewers who may see it; every opening is audited."""
    item = Evidence.objects.select_related("clearance", "batch").filter(pk=pk).first()
    if item is None or not staff_may_read(request.user, item):
        raise Http404("没有这个材料,或您无权查看")
    record(
        request.user,
        "evidence.view",
        "evidence",
        item.pk,
        {"clearance": item.clearance_id, "batch": item.batch_id},
    )
    return evidence_response(item)


@login_required
@require_POST
def propose_override(request, person_pk: int):
    """From the person page: propose a two-person override of one reason."""
    subject = scope_queryset(Person.objects.all(), request.user).filter(pk=person_pk).first()
    if subject is None:
        raise Http404
    try:
        clearance = do_propose_override(
            subject,
            request.POST.get("policy", ""),
            request.user,
            timezone.now(),
            request.POST.get("reason", ""),
        )
    except (ClearanceError, PermissionDenied) as error:
        messages.error(request, str(error))
        return redirect(f"{reverse('people:person', args=[subject.pk])}#code")
    messages.success(request, "已提出人工复核,须由指挥部另一名工作人员批准后生效")
    return redirect("clearances:detail", pk=clearance.pk)


@login_required
@require_POST
def withdraw_override(request, pk: int):
    """The proposer takes back an override not yet approved, from the person page or the request."""
    clearance = scope_queryset(Clearance.objects.all(), request.user).filter(pk=pk).first()
    if clearance is None:
        raise Http404("没有这个申请,或不在您负责的区县")
    try:
        do_withdraw_override(
            clearance.pk, request.user, timezone.now(), request.POST.get("reason", "")
        )
    except (ClearanceError, PermissionDenied) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"已撤回人工复核 #{clearance.pk}")
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect("clearances:detail", pk=clearance.pk)
