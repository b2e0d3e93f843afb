"""Doing things with tickets and the task force. One transaction each, each writing its audit
record. The transitions are those of the pure `fangkong.tickets.rules`; this module asks
`fangkong.tickets.access` which sides the user takes, stores the ticket as it stands and appends
the step.

`user=None` is the system (the demo, a command), which takes every side. `now` is when it is
recorded; `at` when the step happened (never after `now`; default `now`).
"""

from __future__ import annotations

import re
from datetime import datetime

from django.db import IntegrityError, transaction

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import role_of
from fangkong.audit.actions import record
from fangkong.tickets import access, rules
from fangkong.tickets.models import Channel, GroupMember, TaskGroup, Ticket, TicketStep

PHONE = re.compile(r"[0-9+\- ]{5,20}")
MAX_TEXT = 2000


class TicketError(ValueError):
    """Bad input or a step the ticket cannot take; the message names the field and the reason."""


# --- the task force -------------------------------------------------------------------------


def do_create_task_force(user, county_code: str, *, now: datetime) -> list[TaskGroup]:
    """The five groups of a district's task force (what exists is kept)."""
    if not re.fullmatch(r"[0-9]{6}", county_code or ""):
        raise TicketError(f"区县代码:“{county_code}”不是6位数字")
    if user is not None and role_of(user) not in access.CENTRE | {Role.DISTRICT_REVIEWER}:
        access.require(False, "只有指挥部或区县可以组建工作专班")
    if user is not None and not access.in_district(user, county_code):
        access.require(False, "该区县不在您负责的范围内")
    with transaction.atomic():
        groups = []
        for kind, _ in rules.GROUPS:
            group, created = TaskGroup.objects.get_or_create(
                county_code=county_code, kind=kind, defaults={"created_at": now}
            )
            if created:
                record(user, "tickets.group_create", "task_group", group.pk, {"kind": kind}, at=now)
            groups.append(group)
        return groups


def do_add_member(
    user, group: TaskGroup, member, *, lead: bool = False, now: datetime
) -> GroupMember:
    """Put a task-force account (Role.TASK_GROUP, of the group's district) in a group."""
    if user is not None and (
        role_of(user) not in access.CENTRE | {Role.DISTRICT_REVIEWER}
        or not access.in_district(user, group.county_code)
    ):
        access.require(False, "只有指挥部或本区县可以调整专班组员")
    if role_of(member) != Role.TASK_GROUP:
        raise TicketError(f"组员:{member.username} 的角色不是复工复产专班组员")
    if not access.in_district(member, group.county_code):
        raise TicketError(f"组员:{member.username} 不负责区县 {group.county_code}")
    with transaction.atomic():
        found, created = GroupMember.objects.get_or_create(
            group=group, user=member, defaults={"lead": lead, "since": now}
        )
        changed = not created and found.lead != lead
        if changed:
            found.lead = lead
            found.save(update_fields=["lead"])
        if created or changed:
            record(
                user,
                "tickets.member_add" if created else "tickets.member_lead",
                "task_group",
                group.pk,
                {"member": member.username, "lead": lead},
                at=now,
            )
        return found


# --- tickets --------------------------------------------------------------------------------


def _text(value: str, name: str, limit: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise TicketError(f"{name}:不能为空")
    if len(value) > limit:
        raise TicketError(f"{name}:最多{limit}个字,现为{len(value)}个字")
    return value


def _when(now: datetime, at: datetime | None) -> datetime:
    at = at or now
    if at > now:
        raise TicketError("时间:不能晚于现在")
    return at


def channel_of(user) -> str:
    role = role_of(user)
    if role == Role.EMPLOYER:
        return Channel.ENTERPRISE
    if role == Role.HOTLINE:
        return Channel.HOTLINE
    return Channel.LIAISON


def _number(county_code: str, at: datetime) -> str:
    prefix = f"{county_code}{at.astimezone(rules.LOCAL):%Y%m%d}"
    last = (
        Ticket.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    return f"{prefix}{int(last[len(prefix) :]) + 1 if last else 1:03d}"


def _label(user) -> str:
    return getattr(user, "username", "") or "system"


def _pure(ticket: Ticket) -> rules.Ticket:
    """The stored ticket as the rules see it (its last step's time is `at`)."""
    last = ticket.steps.order_by("-at", "-id").first()
    step = rules.Step(
        last.action, last.status, last.actor_label, last.at, "", "", last.priority, last.due_at
    )
    return rules.Ticket(
        status=ticket.status,
        raised_by=_label(ticket.raised_by),
        raised_at=ticket.raised_at,
        group=ticket.group.kind if ticket.group_id else "",
        priority=ticket.priority,
        due=ticket.due_at,
        resolution=ticket.resolution,
        steps=(step,),
    )


def do_raise_ticket(
    user,
    enterprise,
    *,
    category: str,
    description: str,
    contact_name: str,
    contact_phone: str,
    priority: str = "",
    now: datetime,
    at: datetime | None = None,
) -> Ticket:
    """A problem raised for an enterprise: by itself, by the hotline on a caller's behalf or by
    the liaison or district. It waits for the 综合协调组 to assign it."""
    if user is not None:
        access.require(access.can_raise(user, enterprise), "您无权为该企业提出问题")
    at = _when(now, at)
    if category not in rules.CATEGORY_LABELS:
        raise TicketError(f"问题类别:未知的类别 {category!r}")
    description = _text(description, "问题描述", MAX_TEXT)
    contact_name = _text(contact_name, "联系人", 64)
    contact_phone = (contact_phone or "").strip()
    if not PHONE.fullmatch(contact_phone):
        raise TicketError("联系电话:应为5至20位数字(可含 + - 空格)")
    try:
        pure = rules.raise_ticket(_label(user), at, description, priority)
    except rules.TransitionError as exc:
        raise TicketError(str(exc)) from exc
    try:
        with transaction.atomic():
            ticket = Ticket.objects.create(
                number=_number(enterprise.county_code, at),
                enterprise=enterprise,
                county_code=enterprise.county_code,
                category=category,
                description=description,
                contact_name=contact_name,
                contact_phone=contact_phone,
                channel=channel_of(user) if user is not None else Channel.LIAISON,
                raised_by=user,
                raised_at=at,
                status=pure.status,
                priority=pure.priority,
                due_at=pure.due,
                updated_at=at,
            )
            TicketStep.objects.create(
                ticket=ticket,
                action=rules.RAISE,
                actor=user,
                actor_label=_label(user),
                at=at,
                text=description,
                status=ticket.status,
                priority=ticket.priority,
                due_at=ticket.due_at,
                recorded_at=now,
            )
            record(
                user,
                "tickets.raise",
                "ticket",
                ticket.pk,
                {
                    "number": ticket.number,
                    "enterprise": enterprise.pk,
                    "category": category,
                    "channel": ticket.channel,
                },
                at=now,
            )
    except IntegrityError as exc:
        raise TicketError("工单编号冲突,请重新提交") from exc
    return ticket


def _step(
    user,
    ticket: Ticket,
    action: str,
    *,
    now: datetime,
    at: datetime | None = None,
    text: str = "",
    group_kind: str = "",
    priority: str = "",
    due: datetime | None = None,
) -> Ticket:
    at = _when(now, at)
    text = _text(text, rules.TEXT_NAMES.get(action, "内容"), MAX_TEXT, required=False)
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(of=("self",)).select_related("group").get(pk=ticket.pk)
        )
        if user is None:
            sides = frozenset(rules.SIDES)
        else:
            access.require(access.can_see(user, ticket))
            sides = access.sides_of(user, ticket)
        try:
            after = rules.transition(
                _pure(ticket),
                action,
                actor=_label(user),
                sides=sides,
                now=at,
                text=text,
                group=group_kind,
                priority=priority,
                due=due,
            )
        except rules.TransitionError as exc:
            raise TicketError(str(exc)) from exc
        group = ticket.group
        if action == rules.ASSIGN:
            group = TaskGroup.objects.filter(
                county_code=ticket.county_code, kind=after.group
            ).first()
            if group is None:
                raise TicketError(
                    f"承办组:{ticket.county_code} 尚未组建{rules.GROUP_LABELS[after.group]}"
                )
        ticket.status = after.status
        ticket.group = group
        ticket.priority = after.priority
        ticket.due_at = after.due
        ticket.resolution = after.resolution
        ticket.updated_at = at
        ticket.save()
        TicketStep.objects.create(
            ticket=ticket,
            action=action,
            actor=user,
            actor_label=_label(user),
            at=at,
            text=text,
            status=ticket.status,
            group=group,
            priority=ticket.priority,
            due_at=ticket.due_at,
            recorded_at=now,
        )
        details = {"number": ticket.number, "status": ticket.status}
        if action == rules.ASSIGN:
            details |= {"group": after.group, "priority": after.priority, "due": after.due}
        if text:
            details["text"] = text[:200]
        record(user, f"tickets.{action}", "ticket", ticket.pk, details, at=now)
    return ticket


def do_assign(
    user,
    ticket: Ticket,
    group_kind: str,
    *,
    priority: str = "",
    due: datetime | None = None,
    note: str = "",
    now: datetime,
    at: datetime | None = None,
) -> Ticket:
    """Assign (or reassign) to one of the five groups; due time from the priority unless given."""
    return _step(
        user,
        ticket,
        rules.ASSIGN,
        now=now,
        at=at,
        text=note,
        group_kind=group_kind,
        priority=priority,
        due=due,
    )


def do_note(user, ticket: Ticket, text: str, *, now: datetime, at: datetime | None = None):
    return _step(user, ticket, rules.NOTE, now=now, at=at, text=text)


def do_solve(user, ticket: Ticket, resolution: str, *, now: datetime, at: datetime | None = None):
    return _step(user, ticket, rules.SOLVE, now=now, at=at, text=resolution)


def do_reopen(user, ticket: Ticket, reason: str, *, now: datetime, at: datetime | None = None):
    return _step(user, ticket, rules.REOPEN, now=now, at=at, text=reason)


def do_close(user, ticket: Ticket, note: str = "", *, now: datetime, at: datetime | None = None):
    return _step(user, ticket, rules.CLOSE, now=now, at=at, text=note)
