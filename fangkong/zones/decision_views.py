"""Zone decision pages: the list of notices, proposing one, and one notice with its entries, its
impact (residents affected) and the step its status allows — approve, reject, publish.

Reading: district reviewers see decisions touching their counties (another's is a 404), the
city-wide roles all. Acting: fangkong.zones.actions decides who may (roles, districts, and never
the proposer approving their own).
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from fangkong.accounts.scoping import districts_of, require_role, role_of
from fangkong.accounts.views import render_staff
from fangkong.places.models import Division, Level
from fangkong.policies.views import change_summary
from fangkong.zones.actions import (
    DECIDERS,
    can_approve,
    can_decide,
    counties_of,
    do_approve,
    do_propose,
    do_publish_decision,
    do_reject,
)
from fangkong.zones.forms import ProposalForm, RejectForm
from fangkong.zones.models import DecisionStatus, ZoneDecision
from fangkong.zones.queries import decision_impact
from fangkong.zones.views import ZONE_READERS

PER_PAGE = 30
ENTRIES_PER_PAGE = 100


def _scoped(user):
    decisions = ZoneDecision.objects.all()
    scope = districts_of(user)
    if scope is not None:
        decisions = decisions.filter(entries__community__county_code__in=sorted(scope)).distinct()
    return decisions


def _decision(user, pk: int) -> ZoneDecision:
    decision = _scoped(user).filter(pk=pk).first()
    if decision is None:
        raise Http404("没有这个调整决定,或不在您负责的区县")
    return decision


@login_required
def decisions(request):
    require_role(request.user, ZONE_READERS)
    status = request.GET.get("status", "")
    rows = _scoped(request.user).select_related("proposed_by", "approved_by", "published_by")
    if status in DecisionStatus.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    page = Paginator(rows.order_by("-proposed_at", "-pk"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render_staff(
        request,
        "zones/decisions.html",
        {
            "page": page,
            "status": status,
            "statuses": DecisionStatus.choices,
            "extra_query": f"status={status}" if status else "",
            "can_propose": role_of(request.user) in DECIDERS,
        },
    )


@login_required
def decision_new(request):
    require_role(request.user, DECIDERS)
    if request.method != "POST":
        initial = {}
        code = request.GET.get("community", "").strip()
        community = Division.objects.filter(code=code, level=Level.COMMUNITY).first()
        if community is not None and can_decide(request.user, [community.county_code]):
            initial = {
                "entries": f"{community.code} ",
                "title": f"关于调整{community.name}风险区划的通告",
            }
        return _proposal_page(request, ProposalForm(initial=initial))
    form = ProposalForm(request.POST)
    if not form.is_valid():
        return _proposal_page(request, form, status=400)
    now = timezone.now()
    data = form.cleaned_data
    try:
        decision = do_propose(
            request.user,
            number=data["number"],
            title=data["title"],
            scheme=data["scheme"],
            entries=data["entries"],
            effective_from=data["effective_from"] or now,
            effective_until=data["effective_until"],
            now=now,
        )
    except (ValidationError, PermissionDenied) as exc:
        for message in getattr(exc, "messages", None) or [str(exc)]:
            form.add_error(None, message)
        return _proposal_page(request, form, status=400)
    messages.success(request, f"已提出“{decision.title}”,待另一位负责人审核。")
    return redirect(reverse("zones:decision", args=[decision.pk]))


def _proposal_page(request, form, status=200):
    return render_staff(request, "zones/decision_new.html", {"form": form}, status=status)


def _detail(request, decision: ZoneDecision, reject_form=None, status=200):
    now = timezone.now()
    impact = decision_impact(decision, now)
    user = request.user
    may_act = can_decide(user, counties_of(decision))
    return render_staff(
        request,
        "zones/decision.html",
        {
            "decision": decision,
            "now": now,
            "impact": impact,
            "entries": Paginator(impact.rows, ENTRIES_PER_PAGE).get_page(request.GET.get("page")),
            "can_approve": can_approve(user, decision),
            "own_proposal": decision.proposed_by_id == user.pk,
            "can_reject": may_act
            and decision.status in (DecisionStatus.PROPOSED, DecisionStatus.APPROVED),
            "can_publish": may_act and decision.status == DecisionStatus.APPROVED,
            "reject_form": reject_form or RejectForm(),
            # The automatic proposal's evidence, as the rules wrote it, for the officer to check.
            "evidence": json.dumps(decision.evidence, ensure_ascii=False, indent=2, default=str)
            if decision.evidence
            else "",
        },
        status=status,
    )


@login_required
def decision(request, pk: int):
    require_role(request.user, ZONE_READERS)
    return _detail(request, _decision(request.user, pk))


def _step(request, pk: int, step):
    require_role(request.user, DECIDERS)
    found = _decision(request.user, pk)
    try:
        done = step(found)
    except (ValidationError, PermissionDenied) as exc:
        for message in getattr(exc, "messages", None) or [str(exc)]:
            messages.error(request, message)
        return redirect(reverse("zones:decision", args=[found.pk]))
    messages.success(request, done)
    return redirect(reverse("zones:decision", args=[found.pk]))


@login_required
@require_POST
def decision_approve(request, pk: int):
    def step(found):
        do_approve(request.user, found.pk, timezone.now())
        return "已批准,可以发布。"

    return _step(request, pk, step)


@login_required
@require_POST
def decision_reject(request, pk: int):
    require_role(request.user, DECIDERS)
    found = _decision(request.user, pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _detail(request, found, reject_form=form, status=400)

    def step(found):
        do_reject(request.user, found.pk, form.cleaned_data["reason"], timezone.now())
        return "已驳回。"

    return _step(request, pk, step)


@login_required
@require_POST
def decision_publish(request, pk: int):
    def step(found):
        published = do_publish_decision(request.user, found.pk, timezone.now())
        notice = published.decision.notice
        if published.codes is None:
            when = timezone.localtime(published.decision.effective_from)
            return f"已发布{notice},将于{when:%Y-%m-%d %H:%M}起生效。"
        return (
            f"已发布{notice},即时生效。重新判定{published.codes.evaluated}名居民的健康码,"
            f"{change_summary(published.codes)}"
        )

    return _step(request, pk, step)
