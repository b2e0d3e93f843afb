"""JSON API of problem tickets (/api/tickets/...). Staff authenticate with their session (and
send the CSRF token on POST). Who sees and does what: fangkong.tickets.access; a ticket outside
the user's scope is 404, a step they may not take 403, bad input 400 with the field and reason.

POST /                raise a ticket           GET /           list (contacts masked)
POST /{id}/assign     assign to a group        GET /{id}       one ticket with its history
POST /{id}/note       add a note               GET /stats      the dispatch figures (the JSON
POST /{id}/solve      solve, with the result                   contract of `fangkong tickets
POST /{id}/reopen     reopen, with the reason                  stats --json`)
POST /{id}/close      confirm and close
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status
from ninja.security import django_auth

from fangkong.accounts.scoping import role_of
from fangkong.api_errors import refusals
from fangkong.engine.id_numbers import mask_name, mask_phone
from fangkong.enterprises import access as enterprise_access
from fangkong.enterprises.models import Enterprise
from fangkong.tickets import access, rules, stats
from fangkong.tickets import actions as act
from fangkong.tickets.models import Ticket

router = Router(tags=["问题工单与日调度"], auth=django_auth)
TICKET_ID = Path(..., ge=1, description="The ticket's id")

GroupName = Literal[tuple(kind for kind, _ in rules.GROUPS)]  # type: ignore[valid-type]
CategoryName = Literal[tuple(rules.CATEGORY_LABELS)]  # type: ignore[valid-type]
PriorityName = Literal[tuple(rules.PRIORITY_LABELS)]  # type: ignore[valid-type]
StatusName = Literal[rules.STATES]  # type: ignore[valid-type]
GROUP_DOC = "; ".join(f"{k} {v}" for k, v in rules.GROUPS)
CATEGORY_DOC = "; ".join(f"{k} {v}" for k, v, _ in rules.CATEGORIES)
AS_OF_DOC = (
    "数据截至: ISO 8601, Beijing time when it has no offset; exclusive (2022-04-20T24:00 is the "
    "whole of 20 April). Default: now"
)


class RaiseIn(Schema):
    enterprise_id: int = Field(description="企业 (registry id)")
    category: CategoryName = Field(description=f"问题类别: {CATEGORY_DOC}")
    description: str = Field(description="问题描述")
    contact_name: str = Field(description="联系人")
    contact_phone: str = Field(description="联系电话")
    priority: PriorityName | None = Field(None, description="urgent 紧急; high 较急; normal 一般")


class AssignIn(Schema):
    group: GroupName = Field(description=f"承办组: {GROUP_DOC}")
    priority: PriorityName = Field("normal", description="urgent 4h; high 24h; normal 72h")
    due: dt.datetime | None = Field(None, description="办结时限 (overrides the priority's)")
    note: str = Field("", description="分派说明")


class TextIn(Schema):
    text: str = Field(description="内容: the note, the resolution or the reason")


class StepOut(Schema):
    action: str
    at: dt.datetime
    actor: str
    status: StatusName
    group: str = Field(description="The group after the step ('' none)")
    text: str


class TicketOut(Schema):
    id: int
    number: str
    enterprise_id: int
    enterprise: str
    county_code: str
    category: CategoryName
    channel: str
    description: str
    contact: str = Field(description="联系人 and phone, masked")
    raised_at: dt.datetime
    status: StatusName
    status_label: str
    group: str = Field(description="承办组 ('' not assigned)")
    priority: str
    due_at: dt.datetime | None
    overdue: bool
    resolution: str


class TicketDetail(TicketOut):
    steps: list[StepOut]


class GroupFigures(Schema):
    group: GroupName
    group_label: str
    raised: int = Field(description="tickets with this group at as_of")
    solved: int
    open: int
    overdue: int


class Figures(Schema):
    as_of: str
    county: str | None
    counties: list[str] | None
    raised: int = Field(description="累计提出")
    solved: int = Field(description="已解决 (solved or closed at as_of)")
    open: int = Field(description="未解决 (new or assigned)")
    overdue: int = Field(description="超期: open and past due at as_of")
    unassigned: int = Field(description="待分派")
    by_group: list[GroupFigures]


class ListQuery(Schema):
    status: StatusName | None = None
    group: GroupName | None = None
    overdue: bool = False
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


class StatsQuery(Schema):
    county: str | None = Field(None, pattern=r"^[0-9]{6}$", description="区县代码")
    as_of: str | None = Field(None, description=AS_OF_DOC)


def _out(t: Ticket, now) -> dict:
    return {
        "id": t.pk,
        "number": t.number,
        "enterprise_id": t.enterprise_id,
        "enterprise": t.enterprise.name,
        "county_code": t.county_code,
        "category": t.category,
        "channel": t.channel,
        "description": t.description,
        "contact": f"{mask_name(t.contact_name)} {mask_phone(t.contact_phone)}",
        "raised_at": t.raised_at,
        "status": t.status,
        "status_label": rules.STATUS_LABELS[t.status],
        "group": t.group.kind if t.group_id else "",
        "priority": t.priority,
        "due_at": t.due_at,
        "overdue": rules.is_overdue(t.status, t.due_at, now),
        "resolution": t.resolution,
    }


def _detail(t: Ticket) -> dict:
    t = Ticket.objects.select_related("enterprise", "group").get(pk=t.pk)
    steps = [
        {
            "action": s.action,
            "at": s.at,
            "actor": s.actor_label,
            "status": s.status,
            "group": s.group.kind if s.group_id else "",
            "text": s.text,
        }
        for s in t.steps.select_related("group").order_by("at", "id")
    ]
    return {**_out(t, timezone.now()), "steps": steps}


def _ticket(request, pk: int) -> Ticket:
    found = access.visible_tickets(request.user).select_related("group").filter(pk=pk).first()
    if found is None:
        raise HttpError(404, "没有这个工单,或不在您负责的范围内")
    return found


def _do(step, *args, **kw):
    try:
        return step(*args, now=timezone.now(), **kw)
    except act.TicketError as exc:
        message = str(exc)
        raise HttpError(403 if message.startswith("只有") else 400, message) from None


@router.post(
    "/",
    response={201: TicketDetail, **refusals(400, 401, 403, 404)},
    summary="Raise a ticket (提出问题)",
    operation_id="tickets_raise",
)
def raise_ticket(request, body: RaiseIn):
    if role_of(request.user) not in access.RAISERS:
        raise HttpError(403, "您的角色无权提出问题")
    enterprise = Enterprise.objects.filter(pk=body.enterprise_id).first()
    if enterprise is None or not (
        access.in_district(request.user, enterprise.county_code)
        or enterprise_access.own_enterprise_id(request.user) == enterprise.pk
    ):
        raise HttpError(404, "enterprise_id:没有这家企业,或不在您负责的范围内")
    ticket = _do(
        act.do_raise_ticket,
        request.user,
        enterprise,
        category=body.category,
        description=body.description,
        contact_name=body.contact_name,
        contact_phone=body.contact_phone,
        priority=body.priority or "",
    )
    return Status(201, _detail(ticket))


@router.get(
    "/",
    response={200: list[TicketOut], **refusals(401, 403)},
    summary="Tickets in scope (工单列表)",
    operation_id="tickets_list",
)
def list_tickets(request, q: Query[ListQuery]):
    if role_of(request.user) not in access.READERS:
        raise HttpError(403, "您的角色无权查看问题工单")
    now = timezone.now()
    rows = access.visible_tickets(request.user).select_related("enterprise", "group")
    if q.status:
        rows = rows.filter(status=q.status)
    if q.group:
        rows = rows.filter(group__kind=q.group)
    if q.overdue:
        rows = rows.filter(status__in=sorted(rules.OPEN), due_at__lt=now)
    rows = rows.order_by("-raised_at", "-id")[q.offset : q.offset + q.limit]
    return [_out(t, now) for t in rows]


@router.get(
    "/stats",
    response={200: Figures, **refusals(400, 401, 403)},
    summary="The dispatch figures (日调度统计)",
    operation_id="tickets_stats",
)
def ticket_stats(request, q: Query[StatsQuery]):
    """raised, solved, open, overdue as they stood at `as_of`, in total and by group — the JSON
    contract of `fangkong tickets stats --json`."""
    from fangkong.policies.forms import parse_local_time

    try:
        scope = stats.reader_scope(request.user, q.county)
    except PermissionDenied as error:
        raise HttpError(403, str(error)) from None
    as_of = None
    if q.as_of and q.as_of.strip():
        try:
            as_of = parse_local_time(q.as_of)
        except ValueError:
            raise HttpError(
                400, f"as_of:“{q.as_of[:40]}”不是有效的时间,应为ISO 8601,如 2022-04-21T08:00"
            ) from None
    return stats.figures(as_of, **scope)


@router.get(
    "/{pk}",
    response={200: TicketDetail, **refusals(401, 404)},
    summary="One ticket with its history",
    operation_id="tickets_detail",
)
def ticket_detail(request, pk: int = TICKET_ID):
    return _detail(_ticket(request, pk))


@router.post(
    "/{pk}/assign",
    response={200: TicketDetail, **refusals(400, 401, 403, 404)},
    summary="Assign to one of the five groups (分派)",
    operation_id="tickets_assign",
)
def assign(request, body: AssignIn, pk: int = TICKET_ID):
    ticket = _ticket(request, pk)
    due = body.due
    if due is not None and due.tzinfo is None:
        due = due.replace(tzinfo=rules.LOCAL)
    _do(
        act.do_assign,
        request.user,
        ticket,
        body.group,
        priority=body.priority,
        due=due,
        note=body.note,
    )
    return _detail(ticket)


def _text_route(name: str, step, summary: str):
    @router.post(
        f"/{{pk}}/{name}",
        response={200: TicketDetail, **refusals(400, 401, 403, 404)},
        summary=summary,
        operation_id=f"tickets_{name}",
    )
    def route(request, body: TextIn, pk: int = TICKET_ID):
        ticket = _ticket(request, pk)
        _do(step, request.user, ticket, body.text)
        return _detail(ticket)

    route.__name__ = f"ticket_{name}"
    return route


note = _text_route("note", act.do_note, "Add a note (补充记录, append-only)")
solve = _text_route("solve", act.do_solve, "Solve, with what was done (办结)")
reopen = _text_route("reopen", act.do_reopen, "Reopen a solved ticket, with the reason")
close = _text_route("close", act.do_close, "Confirm and close a solved ticket")
