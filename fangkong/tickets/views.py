"""The ticket pages (issue 16): the list of tickets in scope, raising one (the enterprise itself,
the hotline on a caller's behalf, the liaison or the district), one ticket with its history and
the steps the user may take (assign, note, solve, reopen, close), the daily dispatch (日调度) with
its Excel export, and the task force of each district.

Who sees what is `fangkong.tickets.access`: a ticket outside the user's scope is a 404; a step
the user may not take is refused by the action with the reason. Contacts are masked in lists.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import districts_of, role_of
from fangkong.accounts.scoping import require_role as must_have
from fangkong.accounts.views import render_staff
from fangkong.audit.actions import record
from fangkong.engine.id_numbers import mask_name, mask_phone
from fangkong.enterprises import access as enterprise_access
from fangkong.enterprises.models import Enterprise
from fangkong.places.queries import counties
from fangkong.policies.forms import parse_local_time
from fangkong.tickets import access, rules, stats
from fangkong.tickets import actions as act
from fangkong.tickets.export import workbook
from fangkong.tickets.forms import AssignForm, ListFilter, RaiseForm, TextForm
from fangkong.tickets.models import GroupMember, TaskGroup, Ticket

PER_PAGE = 50
DISPATCH_DAYS = 7
BADGES = {rules.NEW: "warn", rules.ASSIGNED: "info", rules.SOLVED: "ok", rules.CLOSED: ""}
STEP_TITLES = {
    rules.NOTE: "补充记录",
    rules.SOLVE: "办结(填写办理结果)",
    rules.REOPEN: "重新打开(填写原因)",
    rules.CLOSE: "确认关闭",
}


def _names() -> dict[str, str]:
    return {c.code: c.name for c in counties()}


def _ticket(user, pk: int) -> Ticket:
    found = (
        access.visible_tickets(user)
        .select_related("enterprise", "group", "raised_by")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("没有这个工单,或不在您负责的范围内")
    return found


def _raisable(user):
    if role_of(user) == Role.EMPLOYER:
        return enterprise_access.visible_enterprises(user).order_by("name")
    qs = Enterprise.objects.order_by("county_code", "name")
    scope = districts_of(user)
    return qs if scope is None else qs.filter(county_code__in=sorted(scope))


@login_required
def ticket_list(request):
    must_have(request.user, access.READERS)
    now = timezone.now()
    filters = ListFilter(request.GET or None)
    rows = access.visible_tickets(request.user).select_related("enterprise", "group")
    chosen = filters.cleaned_data if filters.is_valid() else {}
    if chosen.get("status"):
        rows = rows.filter(status=chosen["status"])
    if chosen.get("group"):
        rows = rows.filter(group__kind=chosen["group"])
    if chosen.get("overdue"):
        rows = rows.filter(status__in=sorted(rules.OPEN), due_at__lt=now)
    page = Paginator(rows.order_by("-raised_at", "-id"), PER_PAGE).get_page(request.GET.get("page"))
    names = _names()
    shown = [
        {
            "t": t,
            "county": names.get(t.county_code, t.county_code),
            "badge": BADGES[t.status],
            "overdue": rules.is_overdue(t.status, t.due_at, now),
            "contact": f"{mask_name(t.contact_name)} {mask_phone(t.contact_phone)}",
        }
        for t in page
    ]
    return render_staff(
        request,
        "tickets/list.html",
        {
            "rows": shown,
            "page": page,
            "filters": filters,
            "may_raise": role_of(request.user) in access.RAISERS,
            "may_dispatch": role_of(request.user) in access.DISPATCH_READERS,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def ticket_new(request):
    must_have(request.user, access.RAISERS)
    enterprises = list(_raisable(request.user)[:2000])
    initial = {"category": request.GET.get("category", "")} if request.GET else None
    form = RaiseForm(request.POST or None, enterprises=enterprises, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        enterprise = next((e for e in enterprises if e.pk == data["enterprise"]), None)
        try:
            if enterprise is None:
                raise act.TicketError("企业:不在您可以提出问题的范围内")
            ticket = act.do_raise_ticket(
                request.user,
                enterprise,
                category=data["category"],
                description=data["description"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                priority=data.get("priority") or "",
                now=timezone.now(),
            )
        except (act.TicketError, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已提交问题,工单编号 {ticket.number}")
            return redirect(reverse("tickets:detail", args=[ticket.pk]))
    return render_staff(
        request,
        "tickets/new.html",
        {"form": form, "hotline": role_of(request.user) == Role.HOTLINE},
        status=400 if form.is_bound else 200,
    )


def _detail_context(user, ticket: Ticket, **forms) -> dict:
    now = timezone.now()
    allowed = access.allowed_actions(user, ticket)
    suggested = rules.SUGGESTED_GROUP.get(ticket.category, rules.COORDINATION)
    assign = forms.get("assign") or AssignForm(
        initial={
            "group": ticket.group.kind if ticket.group_id else suggested,
            "priority": ticket.priority or rules.NORMAL,
        }
    )
    steps = [
        {"s": s, "label": rules.ACTION_LABELS[s.action], "status": rules.STATUS_LABELS[s.status]}
        for s in ticket.steps.select_related("group").order_by("at", "id")
    ]
    text_forms = [
        (action, STEP_TITLES[action], forms.get(action) or TextForm(prefix=action))
        for action in (rules.NOTE, rules.SOLVE, rules.REOPEN, rules.CLOSE)
        if action in allowed
    ]
    return {
        "t": ticket,
        "status": rules.STATUS_LABELS[ticket.status],
        "badge": BADGES[ticket.status],
        "overdue": rules.is_overdue(ticket.status, ticket.due_at, now),
        "group": rules.GROUP_LABELS.get(ticket.group.kind, "") if ticket.group_id else "",
        "suggested": rules.GROUP_LABELS[suggested],
        "priority": rules.PRIORITY_LABELS.get(ticket.priority, "未定"),
        "steps": steps,
        "may_assign": rules.ASSIGN in allowed,
        "assign": assign,
        "text_forms": text_forms,
        "contact": f"{mask_name(ticket.contact_name)} {mask_phone(ticket.contact_phone)}",
    }


@login_required
def ticket_detail(request, pk: int):
    must_have(request.user, access.READERS)
    ticket = _ticket(request.user, pk)
    return render_staff(request, "tickets/detail.html", _detail_context(request.user, ticket))


@login_required
def ticket_contact(request, pk: int):
    """The contact in clear, for those who handle the ticket; every opening is audited."""
    must_have(request.user, access.READERS - {Role.AUDITOR})
    ticket = _ticket(request.user, pk)
    record(request.user, "tickets.contact_view", "ticket", ticket.pk, {"number": ticket.number})
    return HttpResponse(
        f"{ticket.contact_name} {ticket.contact_phone}",
        content_type="text/plain; charset=utf-8",
        headers={"Cache-Control": "private, no-store"},
    )


@login_required
@require_POST
def ticket_assign(request, pk: int):
    must_have(request.user, access.READERS)
    ticket = _ticket(request.user, pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            act.do_assign(
                request.user,
                ticket,
                data["group"],
                priority=data["priority"],
                due=data["due"],
                note=data["note"],
                now=timezone.now(),
            )
        except act.TicketError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已分派给{rules.GROUP_LABELS[data['group']]}")
            return redirect(reverse("tickets:detail", args=[ticket.pk]))
    context = _detail_context(request.user, ticket, assign=form)
    return render_staff(request, "tickets/detail.html", context, status=400)


def _text_step(action: str):
    do = {
        rules.NOTE: act.do_note,
        rules.SOLVE: act.do_solve,
        rules.REOPEN: act.do_reopen,
        rules.CLOSE: act.do_close,
    }[action]

    @login_required
    @require_POST
    def view(request, pk: int):
        must_have(request.user, access.READERS)
        ticket = _ticket(request.user, pk)
        form = TextForm(request.POST, prefix=action)
        if form.is_valid():
            try:
                done = do(request.user, ticket, form.cleaned_data["text"], now=timezone.now())
            except act.TicketError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    f"已{rules.ACTION_LABELS[action]},当前状态:{rules.STATUS_LABELS[done.status]}",
                )
                return redirect(reverse("tickets:detail", args=[ticket.pk]))
        context = _detail_context(request.user, ticket, **{action: form})
        return render_staff(request, "tickets/detail.html", context, status=400)

    view.__name__ = f"ticket_{action}"
    return view


ticket_note = _text_step(rules.NOTE)
ticket_solve = _text_step(rules.SOLVE)
ticket_reopen = _text_step(rules.REOPEN)
ticket_close = _text_step(rules.CLOSE)


# --- the daily dispatch ----------------------------------------------------------------------


def _dispatch_args(request) -> tuple[dict, date, object, list[str]]:
    """(scope, day, as_of, errors) from ?county=&day=&as_of=."""
    errors = []
    county = (request.GET.get("county") or "").strip() or None
    if county and county not in _names():
        errors.append(f"区县:未知的区县代码 {county[:10]}")
        county = None
    scope = stats.reader_scope(request.user, county)
    today = timezone.now().astimezone(rules.LOCAL).date()
    raw_day = (request.GET.get("day") or "").strip()
    day = today
    if raw_day:
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            errors.append(f"日期:“{raw_day[:20]}”不是有效的日期,应如 2022-04-20;已显示今天")
    as_of = stats.default_as_of(day)
    raw_as_of = (request.GET.get("as_of") or "").strip()
    if raw_as_of:
        try:
            as_of = parse_local_time(raw_as_of)
        except ValueError:
            errors.append(f"数据截至:“{raw_as_of[:20]}”不是有效的时间,应如 2022-04-21T08:00")
    return scope, day, as_of, errors


def _scope_name(scope: dict) -> str:
    names = _names()
    if scope["county"]:
        return names.get(scope["county"], scope["county"])
    if scope["counties"] is not None:
        return "、".join(names.get(c, c) for c in scope["counties"])
    return "长春市"


@login_required
def dispatch(request):
    must_have(request.user, access.DISPATCH_READERS)
    scope, day, as_of, errors = _dispatch_args(request)
    days = stats.days_until(day, DISPATCH_DAYS)
    totals = stats.figures(as_of, **scope)
    per_day = stats.dispatch(days, as_of, **scope)
    morning = stats.morning_list(as_of, **scope)
    mine = districts_of(request.user)
    return render_staff(
        request,
        "tickets/dispatch.html",
        {
            "scope_name": _scope_name(scope),
            "scope": scope,
            "day": day,
            "as_of": as_of,
            "totals": totals,
            "days": list(reversed(per_day)),
            "today": per_day[-1] if per_day and per_day[-1]["date"] == day.isoformat() else None,
            "morning": [{**r, "contact": mask_name(r["ticket"].contact_name)} for r in morning],
            "errors": errors,
            "counties": [(c.code, c.name) for c in counties() if mine is None or c.code in mine],
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "query": request.GET.urlencode(),
        },
    )


@login_required
def dispatch_export(request):
    must_have(request.user, access.DISPATCH_READERS)
    scope, day, as_of, errors = _dispatch_args(request)
    if errors:
        return HttpResponse("\n".join(errors), status=400, content_type="text/plain; charset=utf-8")
    totals = stats.figures(as_of, **scope)
    per_day = stats.dispatch(stats.days_until(day, DISPATCH_DAYS), as_of, **scope)
    morning = stats.morning_list(as_of, **scope)
    record(
        request.user,
        "tickets.dispatch_export",
        "dispatch",
        day.isoformat(),
        {"county": scope["county"], "as_of": as_of.isoformat()},
    )
    body = workbook(_scope_name(scope), as_of, totals, per_day, morning)
    reply = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    reply["Content-Disposition"] = f'attachment; filename="dispatch-{day.isoformat()}.xlsx"'
    reply["Cache-Control"] = "private, no-store"
    return reply


@login_required
@require_http_methods(["GET", "POST"])
def task_force(request):
    """The groups of the districts one sees and their members; the command centre and a
    district's reviewers form a district's task force and staff its groups here."""
    must_have(request.user, access.DISPATCH_READERS)
    error, status = "", 200
    may_staff = role_of(request.user) in access.CENTRE | {Role.DISTRICT_REVIEWER}
    if request.method == "POST":
        if not may_staff:
            raise PermissionDenied("只有指挥部或区县可以调整工作专班")
        try:
            _staff_task_force(request)
            return redirect("tickets:task_force")
        except (act.TicketError, PermissionDenied) as problem:
            error, status = str(problem), 400
    scope = districts_of(request.user)
    groups = TaskGroup.objects.order_by("county_code", "id")
    if scope is not None:
        groups = groups.filter(county_code__in=sorted(scope))
    members = GroupMember.objects.filter(group__in=groups).select_related("user", "user__staff")
    by_group: dict[int, list] = {}
    for m in members.order_by("-lead", "user__username"):
        by_group.setdefault(m.group_id, []).append(m)
    names = _names()
    rows = [
        {
            "g": g,
            "county": names.get(g.county_code, g.county_code),
            "label": rules.GROUP_LABELS[g.kind],
            "members": by_group.get(g.pk, []),
        }
        for g in groups
    ]
    counties_seen = sorted(c for c in names if scope is None or c in scope)
    return render_staff(
        request,
        "tickets/task_force.html",
        {
            "rows": rows,
            "may_staff": may_staff,
            "error": error,
            "counties": [(c, names[c]) for c in counties_seen],
        },
        status=status,
    )


def _staff_task_force(request) -> None:
    """Form a district's task force, or put an account in one of its groups."""
    from django.contrib.auth import get_user_model

    now = timezone.now()
    data = request.POST
    if data.get("form") == "form":
        act.do_create_task_force(request.user, data.get("county", ""), now=now)
        return
    group = TaskGroup.objects.filter(pk=data.get("group") or 0).first()
    if group is None:
        raise act.TicketError("工作组:请选择")
    username = (data.get("username") or "").strip()
    member = get_user_model().objects.filter(username=username).select_related("staff").first()
    if member is None:
        raise act.TicketError(f"组员:没有用户名为“{username[:40]}”的账号")
    act.do_add_member(request.user, group, member, lead=data.get("lead") == "on", now=now)
