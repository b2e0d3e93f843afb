"""The vehicle-pass pages: the application form (an enterprise's account, or its district on its
behalf), the officers' queue with the 24-hour handling clock, one pass (its QR once issued, its
decision, revocation and checkpoint scans), issuing batches, and the figures.

Who sees what is `fangkong.passes.access`: a pass outside the user's scope is a 404; a step the
user may not take is a 403. The actions check again and audit. Drivers' names, ID numbers and
phones are masked everywhere here.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import districts_of, role_of
from fangkong.accounts.views import render_staff
from fangkong.engine.id_numbers import mask, mask_name, mask_phone
from fangkong.enterprises import access as enterprise_access
from fangkong.enterprises.models import Enterprise
from fangkong.passes import access
from fangkong.passes import actions as act
from fangkong.passes.forms import ApplyForm, DecideForm, RevokeForm
from fangkong.passes.models import Decision, PassBatch, VehiclePass
from fangkong.passes.queries import scans_of
from fangkong.passes.rules import PassError, clock_text, handling, overdue
from fangkong.passes.stats import figures
from fangkong.residents.qr import qr_svg

PER_PAGE = 50
STATUS_FILTERS = {
    "pending": ("待处理", {"decision": ""}),
    "approved": ("待发放", {"decision": Decision.APPROVED, "issued_at__isnull": True}),
    "issued": ("已发放", {"issued_at__isnull": False, "revoked_at__isnull": True}),
    "rejected": ("已驳回", {"decision": Decision.REJECTED}),
    "revoked": ("已吊销", {"revoked_at__isnull": False}),
    "all": ("全部", {}),
}


def _readable(user) -> None:
    if role_of(user) not in access.READERS:
        raise PermissionDenied("您的角色无权查看车辆通行证")


def _get(user, pk: int) -> VehiclePass:
    found = (
        access.visible_passes(user)
        .select_related("enterprise", "driver", "batch", "previous")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("没有这张通行证")
    return found


def _row(vp: VehiclePass, now) -> dict:
    return {
        "pass": vp,
        "driver": mask_name(vp.driver.name),
        "clock": clock_text(handling(vp.applied_at, vp.decided_at, now)),
        "overdue": overdue(vp.applied_at, vp.decided_at, now),
    }


@login_required
def queue(request):
    """The officers' queue: pending applications oldest first, each with its clock (elapsed time
    since it came in); those at 24 hours or more are marked overdue."""
    _readable(request.user)
    now = timezone.now()
    wanted = request.GET.get("status", "pending")
    if wanted not in STATUS_FILTERS:
        wanted = "pending"
    qs = access.visible_passes(request.user).filter(**STATUS_FILTERS[wanted][1])
    qs = qs.select_related("enterprise", "driver").order_by(
        "applied_at" if wanted == "pending" else "-applied_at", "pk"
    )
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    pending = access.visible_passes(request.user).filter(decision="")
    return render_staff(
        request,
        "passes/queue.html",
        {
            "rows": [_row(vp, now) for vp in page.object_list],
            "page": page,
            "extra_query": f"status={wanted}",
            "filters": [(k, v[0]) for k, v in STATUS_FILTERS.items()],
            "wanted": wanted,
            "pending_count": pending.count(),
            "overdue_count": sum(
                1 for a in pending.values_list("applied_at", flat=True) if overdue(a, None, now)
            ),
            "officer": access.is_officer(request.user),
            "may_apply": role_of(request.user) in access.APPLICANTS,
            "now": now,
        },
    )


def _applicable(user):
    if role_of(user) == Role.EMPLOYER:
        own = enterprise_access.own_enterprise_id(user)
        return Enterprise.objects.filter(pk=own) if own else Enterprise.objects.none()
    if role_of(user) not in access.APPLICANTS:
        return Enterprise.objects.none()
    qs = Enterprise.objects.order_by("name")
    scope = districts_of(user)
    return qs if scope is None else qs.filter(county_code__in=sorted(scope))


@login_required
@require_http_methods(["GET", "POST"])
def apply(request):
    """Apply for a vehicle pass; `?previous=ID` re-applies after that application's rejection."""
    enterprises = list(_applicable(request.user)[:500])
    if not enterprises:
        raise PermissionDenied("您的角色无权申请车辆通行证")
    previous = None
    if request.GET.get("previous"):
        try:
            previous = _get(request.user, int(request.GET["previous"]))
        except ValueError:
            raise Http404("没有这张通行证") from None
    initial = {}
    if previous is not None:
        initial = {
            "enterprise": previous.enterprise_id,
            "plate": previous.plate,
            "vehicle_type": previous.vehicle_type,
            "driver_id_number": previous.driver.id_number,
            "driver_phone": previous.driver_phone,
            "origin": previous.origin,
            "origin_code": previous.origin_code,
            "destination": previous.destination,
            "destination_code": previous.destination_code,
            "cargo": previous.cargo,
        }
    form = ApplyForm(request.POST or None, initial=initial, enterprises=enterprises)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        enterprise = next(e for e in enterprises if e.pk == data.pop("enterprise"))
        try:
            vp = act.do_apply(
                request.user, enterprise=enterprise, now=timezone.now(), previous=previous, **data
            )
        except PassError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "申请已提交,专人将在24小时内处理。")
            return redirect("passes:detail", vp.pk)
    return render_staff(
        request, "passes/apply.html", {"form": form, "previous": previous}, status=200
    )


@login_required
def detail(request, pk: int):
    _readable(request.user)
    vp = _get(request.user, pk)
    now = timezone.now()
    officer = access.can_decide(request.user, vp.county_code)
    scans = [{"scan": s, "checkpoint": s.checkpoint.name} for s in scans_of(vp)[:50]]
    chain = []
    earlier = vp.previous
    while earlier is not None and len(chain) < 10:
        chain.append(earlier)
        earlier = earlier.previous
    reapplied = VehiclePass.objects.filter(previous=vp).first()
    return render_staff(
        request,
        "passes/detail.html",
        {
            "vp": vp,
            "row": _row(vp, now),
            "driver_name": mask_name(vp.driver.name),
            "driver_id": mask(vp.driver.id_number),
            "driver_phone": mask_phone(vp.driver_phone),
            "qr": qr_svg(vp.token, title=f"车辆通行证 {vp.number_text}") if vp.token else "",
            "in_force": vp.issued_at is not None and vp.revoked_at is None,
            "decide_form": DecideForm() if officer and not vp.decision else None,
            "revoke_form": RevokeForm() if officer and vp.status == "issued" else None,
            "may_reapply": vp.decision == Decision.REJECTED
            and reapplied is None
            and access.can_apply(request.user, vp.enterprise),
            "reapplied": reapplied,
            "chain": chain,
            "scans": scans,
        },
    )


@login_required
@require_POST
def decide(request, pk: int):
    vp = _get(request.user, pk)
    form = DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, "处理结果:请选择批准或驳回")
        return redirect("passes:detail", pk)
    try:
        act.do_decide(
            request.user,
            vp,
            approve=form.cleaned_data["decision"] == "approve",
            reason=form.cleaned_data["reason"],
            now=timezone.now(),
        )
    except PassError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            "已批准,待下一批发放。" if form.cleaned_data["decision"] == "approve" else "已驳回。",
        )
    return redirect("passes:detail", pk)


@login_required
@require_POST
def revoke(request, pk: int):
    vp = _get(request.user, pk)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "吊销原因:不能为空")
        return redirect("passes:detail", pk)
    try:
        act.do_revoke(request.user, vp, reason=form.cleaned_data["reason"], now=timezone.now())
    except PassError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "已吊销:联网核验即时拒绝,离线设备更新名单后拒绝。")
    return redirect("passes:detail", pk)


@login_required
@require_http_methods(["GET", "POST"])
def batches(request):
    """Issuing batches: the approved passes waiting, and closing the current batch."""
    if not access.is_officer(request.user):
        raise PermissionDenied("您的角色无权发放车辆通行证")
    now = timezone.now()
    if request.method == "POST":
        try:
            batch = act.do_issue_batch(request.user, now=now)
        except PassError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"第{batch.number}批已发放 {batch.passes.count()} 个通行证。")
        return redirect("passes:batches")
    waiting = access.visible_passes(request.user).filter(
        decision=Decision.APPROVED,
        issued_at__isnull=True,
        revoked_at__isnull=True,
        valid_until__gt=now,
    )
    scope = districts_of(request.user)
    shown = []
    for batch in PassBatch.objects.order_by("-number")[:100]:
        in_scope = access.visible_passes(request.user, batch.passes.all())
        count = in_scope.count()
        if count or scope is None:
            shown.append({"batch": batch, "issued": count})
    return render_staff(
        request, "passes/batches.html", {"waiting": waiting.count(), "batches": shown}
    )


@login_required
def stats(request):
    _readable(request.user)
    if role_of(request.user) == Role.EMPLOYER:
        raise PermissionDenied("您的角色无权查看通行证统计")
    shown = figures(timezone.now(), districts_of(request.user))
    return render_staff(request, "passes/stats.html", {"f": shown})
