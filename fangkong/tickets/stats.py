"""The figures of the daily dispatch (日调度、日研判), computed from the stored steps as known at
a time: nothing here stores a count. The pure arithmetic is `fangkong.tickets.rules`; this module
reads the steps of the tickets in scope and names the groups.

`figures(as_of, ...)` is the JSON contract of `fangkong tickets stats --json` and of
GET /api/tickets/stats (docs/tickets.md).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from fangkong.accounts.scoping import districts_of, role_of
from fangkong.tickets import access, rules
from fangkong.tickets.models import Ticket, TicketStep

BY_GROUP_KEYS = [kind for kind, _ in rules.GROUPS]


def reader_scope(user, county: str | None) -> dict:
    """{"county", "counties"} the user may read: city-wide roles any county or the city; a
    district-scoped role its own districts (another county is refused)."""
    if role_of(user) not in access.DISPATCH_READERS:
        raise PermissionDenied("您的角色无权查看日调度")
    scope = districts_of(user)
    if scope is None:
        return {"county": county, "counties": None}
    if county:
        if county not in scope:
            raise PermissionDenied(f"区县 {county} 不在您负责的范围内")
        return {"county": county, "counties": None}
    return {"county": None, "counties": sorted(scope)}


def _tickets(county: str | None, counties: list[str] | None):
    qs = Ticket.objects.all()
    if county:
        qs = qs.filter(county_code=county)
    elif counties is not None:
        qs = qs.filter(county_code__in=counties)
    return qs


def events(as_of: datetime, county: str | None = None, counties: list[str] | None = None):
    """The steps (as rules.Event) of the tickets in scope, taken before `as_of`."""
    rows = (
        TicketStep.objects.filter(ticket__in=_tickets(county, counties), at__lt=as_of)
        .order_by("at", "id")
        .values_list("ticket_id", "action", "at", "status", "group__kind", "due_at")
    )
    return [rules.Event(t, a, at, s, g or "", d) for t, a, at, s, g, d in rows]


def default_as_of(day: date | None = None) -> datetime:
    now = timezone.now()
    if day is None:
        return now
    return min(rules.day_end(day), now)


def figures(
    as_of: datetime | None = None, *, county: str | None = None, counties: list[str] | None = None
) -> dict:
    """raised, solved, open, overdue as they stood at `as_of` (exclusive: "2022-04-20T24:00" is
    the whole of 20 April), in total and by group."""
    as_of = as_of or timezone.now()
    states = rules.states_at(events(as_of, county, counties), as_of)
    groups = rules.by_group(states, as_of)
    return {
        "as_of": as_of.astimezone(rules.LOCAL).isoformat(),
        "county": county,
        "counties": counties,
        **rules.totals(states, as_of),
        "unassigned": groups[rules.UNASSIGNED]["raised"],
        "by_group": [
            {"group": kind, "group_label": label, **groups[kind]} for kind, label in rules.GROUPS
        ],
    }


def dispatch(
    days: list[date],
    as_of: datetime | None = None,
    *,
    county: str | None = None,
    counties: list[str] | None = None,
) -> list[dict]:
    """Per day and group: new, solved, open and overdue (rules.dispatch_day)."""
    as_of = as_of or timezone.now()
    found = events(as_of, county, counties)
    out = []
    for day in days:
        if rules.day_start(day) >= as_of:
            continue
        rows = rules.dispatch_day(found, day, as_of)
        groups = [
            {"group": kind, "group_label": label, **rows[kind]} for kind, label in rules.GROUPS
        ]
        groups.append({"group": "", "group_label": "待分派", **rows[rules.UNASSIGNED]})
        total = {k: sum(g[k] for g in groups) for k in ("new", "solved", "open", "overdue")}
        out.append({"date": day.isoformat(), "groups": groups, "total": total})
    return out


def days_until(last: date, count: int) -> list[date]:
    return [last - timedelta(days=n) for n in range(count - 1, -1, -1)]


def morning_list(
    as_of: datetime, *, county: str | None = None, counties: list[str] | None = None
) -> list[dict]:
    """For the morning meeting: the tickets open at `as_of` that are overdue or urgent, most
    overdue first."""
    found = events(as_of, county, counties)
    states = rules.states_at(found, as_of)
    wanted = {}
    priority: dict[int, str] = {}
    chosen = [pk for pk, s in states.items() if s.status in rules.OPEN]
    tickets = {t.pk: t for t in Ticket.objects.filter(pk__in=chosen).select_related("enterprise")}
    steps = (
        TicketStep.objects.filter(ticket_id__in=chosen, at__lt=as_of)
        .order_by("at", "id")
        .values_list("ticket_id", "priority")
    )
    for pk, value in steps:
        priority[pk] = value
    for pk in chosen:
        s = states[pk]
        overdue = rules.is_overdue(s.status, s.due, as_of)
        if not overdue and priority.get(pk) != rules.URGENT:
            continue
        wanted[pk] = {
            "ticket": tickets[pk],
            "status": rules.STATUS_LABELS[s.status],
            "group": rules.GROUP_LABELS.get(s.group, "待分派"),
            "priority": rules.PRIORITY_LABELS.get(priority.get(pk, ""), "未定"),
            "due": s.due,
            "overdue": overdue,
            "overdue_hours": round((as_of - s.due).total_seconds() / 3600, 1) if overdue else 0,
        }
    return sorted(wanted.values(), key=lambda r: (not r["overdue"], r["due"]))
