"""The registry pages (issue 15): the list of enterprises with their resumption status as of
now, one enterprise — its officers, supply links, staff, filing history and recent reports —
registering and editing it, the filing steps (一企一策: file, on-site check, approve or reject,
resume, suspend), the checked download of a filed plan, the liaison's daily report form and the
list of enterprises that have not reported today.

Who sees what is `fangkong.enterprises.access`: an enterprise outside the user's scope is a
404; a step the user may not take there is a 403. The actions check again and audit. Names of
staff are always masked here.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import (
    ENTERPRISE_KEEPERS,
    ENTERPRISE_READERS,
    INGEST_ROLES,
    PLANT_GATE_STAFF,
    districts_of,
    role_of,
)
from fangkong.accounts.scoping import require_role as must_have
from fangkong.accounts.views import render_staff
from fangkong.audit.actions import record
from fangkong.engine.id_numbers import mask_name
from fangkong.enterprises import access
from fangkong.enterprises import actions as act
from fangkong.enterprises.forms import (
    CheckForm,
    DecideForm,
    EnterpriseForm,
    FileForm,
    RegistryFilter,
    ReportForm,
    ResumeForm,
    SuspendForm,
)
from fangkong.enterprises.models import (
    Employee,
    EmployeeRole,
    Enterprise,
    ResumptionStatus,
    ResumptionStep,
)
from fangkong.enterprises.queries import history, standing_reports, status_at
from fangkong.places.queries import counties

S = ResumptionStatus
PER_PAGE = 50
RECENT_DAYS = 7
STAFF_SHOWN = 50
BADGES = {
    S.NOT_STARTED: "",
    S.FILED: "warn",
    S.APPROVED: "info",
    S.RESUMED: "ok",
    S.SUSPENDED: "bad",
}


def _names() -> dict[str, str]:
    return {c.code: c.name for c in counties()}


def _enterprise(user, pk: int) -> Enterprise:
    found = (
        access.visible_enterprises(user)
        .select_related("community", "liaison_officer")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("没有这家企业,或不在您负责的范围内")
    return found


def _status(enterprise: Enterprise, now) -> str:
    return status_at([enterprise.pk], now).get(enterprise.pk, S.NOT_STARTED)


def _today(now) -> date:
    return act.local_day(now)


def _detail(enterprise: Enterprise):
    return redirect(reverse("enterprises:detail", args=[enterprise.pk]))


def may_read_documents(user, enterprise: Enterprise) -> bool:
    """The plan is the enterprise's own: itself, the district that keeps it, the command
    centre and auditors; not the checkpoint staff at its gate."""
    return role_of(user) in ENTERPRISE_READERS and access.can_see(user, enterprise)


def allowed_steps(user, enterprise: Enterprise, status: str) -> list[tuple[str, str]]:
    """(url name, label) of the filing steps this user may take now."""
    keep, report = access.can_keep(user, enterprise), access.can_report(user, enterprise)
    steps = []
    if report and status in (S.NOT_STARTED, S.FILED):
        steps.append(
            ("enterprises:file", "重新提交复工方案" if status == S.FILED else "提交复工方案")
        )
    if keep and status == S.FILED:
        steps += [("enterprises:check", "登记现场检查"), ("enterprises:decide", "批准或退回")]
    if report and status in (S.APPROVED, S.SUSPENDED):
        steps.append(("enterprises:resume", "登记复工"))
    if keep and status in (S.APPROVED, S.RESUMED):
        steps.append(("enterprises:suspend", "停工"))
    return steps


# --- the registry ----------------------------------------------------------------------------


@login_required
def enterprise_list(request):
    must_have(request.user, ENTERPRISE_READERS | PLANT_GATE_STAFF)
    now = timezone.now()
    scope = districts_of(request.user)
    filters = RegistryFilter(request.GET or None, scope=scope)
    rows = access.visible_enterprises(request.user).order_by("county_code", "name")
    chosen = filters.cleaned_data if filters.is_valid() else {}
    if chosen.get("county"):
        rows = rows.filter(county_code=chosen["county"])
    if chosen.get("industry"):
        rows = rows.filter(industry=chosen["industry"])
    if chosen.get("scale"):
        rows = rows.filter(above_scale=chosen["scale"] == "above")
    if chosen.get("q"):
        rows = rows.filter(Q(name__icontains=chosen["q"]) | Q(uscc__iexact=chosen["q"]))
    wanted = chosen.get("status")
    if wanted:
        statuses = status_at(rows.values_list("pk", flat=True), now)
        if wanted == S.NOT_STARTED:
            rows = rows.exclude(pk__in=[e for e, s in statuses.items() if s != wanted])
        else:
            rows = rows.filter(pk__in=[e for e, s in statuses.items() if s == wanted])
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    statuses = status_at([e.pk for e in page.object_list], now)
    names = _names()
    shown = []
    for enterprise in page.object_list:
        status = statuses.get(enterprise.pk, S.NOT_STARTED)
        shown.append(
            {
                "enterprise": enterprise,
                "county": names.get(enterprise.county_code, enterprise.county_code),
                "status": S(status).label,
                "badge": BADGES[status],
            }
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render_staff(
        request,
        "enterprises/registry/list.html",
        {
            "filters": filters,
            "page": page,
            "rows": shown,
            "extra_query": query.urlencode(),
            "may_register": role_of(request.user) in ENTERPRISE_KEEPERS,
            "may_remind": role_of(request.user) in ENTERPRISE_READERS,
        },
    )


def _staff(enterprise: Enterprise) -> dict:
    counts = dict(
        Employee.objects.filter(enterprise=enterprise)
        .values("role")
        .annotate(n=Count("pk"))
        .values_list("role", "n")
    )
    people = (
        Employee.objects.filter(enterprise=enterprise)
        .select_related("person")
        .order_by("role", "person__name", "pk")[:STAFF_SHOWN]
    )
    return {
        "counts": [{"label": r.label, "count": counts.get(r.value, 0)} for r in EmployeeRole],
        "total": sum(counts.values()),
        "people": [
            {"name": mask_name(e.person.name), "role": e.get_role_display(), "since": e.since}
            for e in people
        ],
    }


def _recent(enterprise: Enterprise, now) -> list:
    today = _today(now)
    reports = []
    for back in range(RECENT_DAYS):
        day = today - timedelta(days=back)
        report = standing_reports(day, now, [enterprise.pk]).get(enterprise.pk)
        reports.append({"day": day, "report": report})
    return reports


@login_required
def enterprise_detail(request, pk: int):
    must_have(request.user, ENTERPRISE_READERS | PLANT_GATE_STAFF)
    enterprise = _enterprise(request.user, pk)
    now = timezone.now()
    status = _status(enterprise, now)
    customers = list(enterprise.supplies_to.select_related("customer").order_by("customer__name"))
    suppliers = list(enterprise.supplied_by.select_related("supplier").order_by("supplier__name"))
    linked = {x.customer_id for x in customers} | {x.supplier_id for x in suppliers}
    # Which linked enterprises the user may open (a link, or just the name).
    visible = set(
        access.visible_enterprises(
            request.user, Enterprise.objects.filter(pk__in=linked)
        ).values_list("pk", flat=True)
    )
    today = _today(now)
    return render_staff(
        request,
        "enterprises/registry/detail.html",
        {
            "e": enterprise,
            "county": _names().get(enterprise.county_code, enterprise.county_code),
            "status": S(status).label,
            "badge": BADGES[status],
            "customers": [(x.customer, x.note, x.customer_id in visible) for x in customers],
            "suppliers": [(x.supplier, x.note, x.supplier_id in visible) for x in suppliers],
            "staff": _staff(enterprise),
            "steps": history(enterprise.pk),
            "may_documents": may_read_documents(request.user, enterprise),
            "recent": _recent(enterprise, now),
            "reported_today": standing_reports(today, now, [enterprise.pk]).get(enterprise.pk),
            "actions": allowed_steps(request.user, enterprise, status),
            "may_edit": access.can_keep(request.user, enterprise),
            "may_report": access.can_report(request.user, enterprise),
            **_linked(request.user, enterprise),
        },
    )


def _linked(user, enterprise: Enterprise) -> dict:
    """What the registry ties to the enterprise: its plant gates, its own accounts and its
    employer lists (解码集中申请)."""
    gates = enterprise.gates.select_related("checkpoint").order_by("checkpoint__name")
    return {
        "gates": list(gates),
        "may_operate_gates": access.can_operate_gate(user, enterprise),
        "may_add_gate": access.can_keep(user, enterprise)
        or access.own_enterprise_id(user) == enterprise.pk,
        "accounts": list(enterprise.accounts.select_related("user").order_by("user__username")),
        "clearance_batches": list(enterprise.clearance_batches.order_by("-uploaded_at")[:5]),
        "clearance_batch_count": enterprise.clearance_batches.count(),
    }


def _registry_form(request, form, enterprise=None):
    return render_staff(
        request,
        "enterprises/registry/form.html",
        {"form": form, "e": enterprise},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_new(request):
    must_have(request.user, ENTERPRISE_KEEPERS)
    scope = districts_of(request.user)
    form = EnterpriseForm(
        request.POST or None, scope=scope, initial={"pcr_every_days": 3, "antigen_every_days": 1}
    )
    if request.method == "POST" and form.is_valid():
        try:
            enterprise = act.do_register_enterprise(
                request.user, now=timezone.now(), **form.cleaned_data
            )
        except act.FilingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已登记企业:{enterprise.name}")
            return _detail(enterprise)
    return _registry_form(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_edit(request, pk: int):
    must_have(request.user, ENTERPRISE_KEEPERS)
    enterprise = _enterprise(request.user, pk)
    access.require(access.can_keep(request.user, enterprise))
    current = act.registry_fields(enterprise)
    form = EnterpriseForm(
        request.POST or None, scope=districts_of(request.user), editing=True, initial=current
    )
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        reason = fields.pop("reason")
        changed = {k: v for k, v in fields.items() if v != current.get(k)}
        try:
            act.do_update_enterprise(
                request.user, enterprise, now=timezone.now(), reason=reason, **changed
            )
        except act.FilingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "已保存修改。")
            return _detail(enterprise)
    return _registry_form(request, form, enterprise)


# --- the filing ------------------------------------------------------------------------------

STEP_PAGES = {
    "file": ("提交复工方案及承诺书", FileForm),
    "check": ("登记现场检查", CheckForm),
    "decide": ("批准或退回", DecideForm),
    "resume": ("登记复工", ResumeForm),
    "suspend": ("停工", SuspendForm),
}


def _take(user, enterprise, step: str, data: dict, now):
    at = data.get("at")
    if step == "file":
        return act.do_file_plan(
            user,
            enterprise,
            note=data["note"],
            now=now,
            at=at,
            document=data.get("document") or None,
        )
    if step == "check":
        return act.do_record_check(
            user,
            enterprise,
            check_team=data["check_team"],
            findings=data["findings"],
            disinfected=data["disinfected"],
            now=now,
            at=at,
        )
    if step == "decide" and data["decision"] == "approve":
        return act.do_approve(user, enterprise, now=now, note=data["note"], at=at)
    if step == "decide":
        return act.do_reject(user, enterprise, reason=data["note"], now=now, at=at)
    if step == "resume":
        return act.do_resume(user, enterprise, now=now, at=at, note=data["note"])
    return act.do_suspend(user, enterprise, reason=data["reason"], now=now, at=at)


def _step_view(step: str):
    title, form_class = STEP_PAGES[step]
    keeper_step = step in ("check", "decide", "suspend")

    @login_required
    @require_http_methods(["GET", "POST"])
    def view(request, pk: int):
        must_have(request.user, ENTERPRISE_READERS)
        enterprise = _enterprise(request.user, pk)
        check = access.can_keep if keeper_step else access.can_report
        access.require(check(request.user, enterprise))
        now = timezone.now()
        form = form_class(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                done = _take(request.user, enterprise, step, form.cleaned_data, now)
            except act.FilingError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    f"已登记:{done.get_kind_display()},当前状态:{done.get_status_display()}",
                )
                return _detail(enterprise)
        return render_staff(
            request,
            "enterprises/registry/step.html",
            {
                "e": enterprise,
                "title": title,
                "form": form,
                "status": S(_status(enterprise, now)).label,
                "action": reverse(f"enterprises:{step}", args=[enterprise.pk]),
                "multipart": step == "file",
            },
            status=400 if form.is_bound else 200,
        )

    view.__name__ = f"enterprise_{step}"
    return view


enterprise_file = _step_view("file")
enterprise_check = _step_view("check")
enterprise_decide = _step_view("decide")
enterprise_resume = _step_view("resume")
enterprise_suspend = _step_view("suspend")


@login_required
def step_document(request, pk: int, step: int):
    """A filed plan, for those who may read it; every opening is audited."""
    enterprise = _enterprise(request.user, pk)
    item = ResumptionStep.objects.filter(pk=step, enterprise=enterprise).first()
    if item is None or not item.document or not may_read_documents(request.user, enterprise):
        raise Http404("没有这个文件,或您无权查看")
    try:
        path = act.document_path(item)
        handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    except FileNotFoundError as exc:
        raise Http404("文件已不存在") from exc
    record(request.user, "enterprise.document_view", "enterprise", enterprise.pk, {"step": item.pk})
    content_type = act.document_type(item)
    reply = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=not content_type.startswith("image/"),
        filename=item.document_name or item.document,
    )
    reply["X-Content-Type-Options"] = "nosniff"
    reply["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    reply["Cache-Control"] = "private, no-store"
    return reply


# --- daily reports ---------------------------------------------------------------------------


def _day(raw: str, today: date) -> tuple[date, str]:
    raw = (raw or "").strip()
    if not raw:
        return today, ""
    try:
        return date.fromisoformat(raw), ""
    except ValueError:
        return today, f"日期:“{raw[:20]}”不是有效的日期,应如 2022-04-20;已显示今天"


def _initial(report, day: date) -> dict:
    if report is None:
        return {"day": day}
    return {
        "day": day,
        "staff_on_duty": report.staff_on_duty,
        "returning_staff": report.returning_staff,
        "capacity_percent": report.capacity_percent,
        "closed_loop": report.closed_loop,
    }


@login_required
@require_http_methods(["GET", "POST"])
def daily_report(request, pk: int):
    """The liaison's report of a day (today by default), prefilled from the day before; a day
    already reported is corrected, with the reason."""
    must_have(request.user, ENTERPRISE_READERS)
    enterprise = _enterprise(request.user, pk)
    access.require(access.can_report(request.user, enterprise))
    now = timezone.now()
    day, problem = _day(request.GET.get("day", ""), _today(now))
    if problem:
        messages.error(request, problem)
    standing = standing_reports(day, now, [enterprise.pk]).get(enterprise.pk)
    before = standing_reports(day - timedelta(days=1), now, [enterprise.pk]).get(enterprise.pk)
    initial = _initial(standing or before, day)
    if standing is not None:
        initial["problems"] = standing.problems
    form = ReportForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = act.do_submit_report(request.user, enterprise, now=now, **data)
        except act.FilingError as exc:
            form.add_error(None, str(exc))
        else:
            word = "更正" if report.supersedes_id else "报送"
            messages.success(request, f"已{word} {report.day:%Y-%m-%d} 的日报。")
            return _detail(enterprise)
    return render_staff(
        request,
        "enterprises/registry/report.html",
        {
            "e": enterprise,
            "form": form,
            "day": day,
            "standing": standing,
            "prefilled_from": before if standing is None else None,
        },
        status=400 if form.is_bound else 200,
    )


@login_required
def reminder_list(request):
    must_have(request.user, ENTERPRISE_READERS)
    now = timezone.now()
    day, problem = _day(request.GET.get("day", ""), _today(now))
    if problem:
        messages.error(request, problem)
    names = _names()
    rows = [
        {"r": r, "county": names.get(r.enterprise.county_code, r.enterprise.county_code)}
        for r in act.reminders(request.user, day, now)
    ]
    return render_staff(
        request,
        "enterprises/registry/reminders.html",
        {
            "rows": rows,
            "day": day,
            "may_import": role_of(request.user) in INGEST_ROLES["daily_reports"],
            "is_enterprise": role_of(request.user) == Role.EMPLOYER,
        },
    )
