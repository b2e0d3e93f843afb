"""Who sees and does what with problem tickets. Every view and API route asks here.

- An enterprise's own account (企业联络员) raises tickets for its enterprise and sees only those.
- The 24-hour hotline (Role.HOTLINE) raises them on a caller's behalf, for any enterprise.
- District reviewers (the liaison, 包保联络员, among them) raise, see, reopen and close the tickets
  of their districts; members of the task force (Role.TASK_GROUP) see their districts' tickets;
  the 综合协调组's members assign them; a member of the group a ticket is assigned to solves it.
- The command centre and administrators see and assign all; auditors read all.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import districts_of, role_of
from fangkong.enterprises import access as enterprise_access
from fangkong.tickets import rules
from fangkong.tickets.models import GroupMember, Ticket

READERS = frozenset(
    {
        Role.EMPLOYER,
        Role.HOTLINE,
        Role.TASK_GROUP,
        Role.DISTRICT_REVIEWER,
        Role.COMMAND_CENTRE,
        Role.AUDITOR,
        Role.ADMIN,
    }
)
RAISERS = frozenset(
    {Role.EMPLOYER, Role.HOTLINE, Role.TASK_GROUP, Role.DISTRICT_REVIEWER, Role.COMMAND_CENTRE}
)
# Who reads the daily dispatch (日调度): everyone who reads tickets but the enterprises.
DISPATCH_READERS = READERS - {Role.EMPLOYER}
CENTRE = frozenset({Role.COMMAND_CENTRE, Role.ADMIN})


def visible_tickets(user, qs: QuerySet | None = None) -> QuerySet:
    qs = Ticket.objects.all() if qs is None else qs
    role = role_of(user)
    if role not in READERS:
        return qs.none()
    if role == Role.EMPLOYER:
        own = enterprise_access.own_enterprise_id(user)
        return qs.filter(enterprise_id=own) if own else qs.none()
    scope = districts_of(user)
    return qs if scope is None else qs.filter(county_code__in=sorted(scope))


def can_see(user, ticket: Ticket) -> bool:
    return visible_tickets(user, Ticket.objects.filter(pk=ticket.pk)).exists()


def in_district(user, county_code: str) -> bool:
    scope = districts_of(user)
    return scope is None or county_code in scope


def can_raise(user, enterprise) -> bool:
    role = role_of(user)
    if role not in RAISERS:
        return False
    if role == Role.EMPLOYER:
        return enterprise_access.own_enterprise_id(user) == enterprise.pk
    return in_district(user, enterprise.county_code)


def memberships(user, county_code: str) -> set[str]:
    """The kinds of group of that district the user is a member of."""
    if role_of(user) != Role.TASK_GROUP:
        return set()
    return set(
        GroupMember.objects.filter(user=user, group__county_code=county_code).values_list(
            "group__kind", flat=True
        )
    )


def sides_of(user, ticket: Ticket) -> frozenset[str]:
    """The sides (fangkong.tickets.rules.SIDES) the user takes for this ticket."""
    if not can_see(user, ticket):
        return frozenset()
    role = role_of(user)
    sides = set()
    kinds = memberships(user, ticket.county_code)
    if role in CENTRE or rules.COORDINATION in kinds:
        sides.add(rules.COORDINATOR)
    if ticket.group_id and ticket.group.kind in kinds:
        sides.add(rules.GROUP)
    if ticket.raised_by_id == user.pk or (
        role == Role.EMPLOYER and enterprise_access.own_enterprise_id(user) == ticket.enterprise_id
    ):
        sides.add(rules.RAISER)
    if role in CENTRE or (role == Role.DISTRICT_REVIEWER and in_district(user, ticket.county_code)):
        sides.add(rules.DISTRICT)
    if role == Role.AUDITOR:
        return frozenset()
    return frozenset(sides)


def allowed_actions(user, ticket: Ticket) -> list[str]:
    """The actions this user may take on the ticket now."""
    sides = sides_of(user, ticket)
    return [
        action
        for action, (sources, _, allowed, _) in rules.TRANSITIONS.items()
        if ticket.status in sources and allowed & sides
    ]


def require(allowed: bool, message: str = "您无权查看或办理该工单") -> None:
    if not allowed:
        raise PermissionDenied(message)
