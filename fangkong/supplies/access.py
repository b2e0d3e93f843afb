"""Who sees and does what in supply assurance (保供). Every view, API route and action asks here.

- Supply officers (物资保障专员) keep the registry of supply firms, housing sites and placements,
  and record deliveries, in their districts; the command centre and admins everywhere.
- District reviewers (the enterprises' 包保联络员), the task force (复工复产专班) and auditors
  read the registry, requests and figures of their districts (auditors: all); reviewers may
  request for an enterprise or a building site they keep and confirm its receipt.
- An enterprise account (企业联络员) requests for its own enterprise and confirms what was
  delivered to it, and sees nothing else.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import districts_of, role_of

KEEPERS = frozenset({Role.SUPPLY_OFFICER, Role.COMMAND_CENTRE, Role.ADMIN})
READERS = KEEPERS | {Role.DISTRICT_REVIEWER, Role.TASK_GROUP, Role.AUDITOR}
LIAISONS = frozenset({Role.DISTRICT_REVIEWER})
REQUESTERS = KEEPERS | LIAISONS | {Role.EMPLOYER}


def own_enterprise_id(user) -> int | None:
    if role_of(user) != Role.EMPLOYER:
        return None
    return user.staff.enterprise_id


def in_scope(user, county_code: str) -> bool:
    scope = districts_of(user)
    return scope is None or county_code in scope


def may_read(user) -> bool:
    return role_of(user) in READERS


def may_keep(user, county_code: str | None = None) -> bool:
    if role_of(user) not in KEEPERS:
        return False
    return county_code is None or in_scope(user, county_code)


def scoped(user, qs: QuerySet, field: str = "county_code") -> QuerySet:
    """Rows of the registry, housing or requests the user reads."""
    if role_of(user) not in READERS:
        return qs.none()
    scope = districts_of(user)
    return qs if scope is None else qs.filter(**{f"{field}__in": sorted(scope)})


def visible_requests(user, qs: QuerySet | None = None) -> QuerySet:
    from fangkong.supplies.models import SupplyRequest

    qs = SupplyRequest.objects.all() if qs is None else qs
    if role_of(user) == Role.EMPLOYER:
        own = own_enterprise_id(user)
        return qs.filter(enterprise_id=own) if own else qs.none()
    return scoped(user, qs)


def enterprises_for(user) -> QuerySet:
    """The enterprises a user may pick on these pages: an enterprise account its own, the
    readers those of their districts."""
    from fangkong.enterprises.models import Enterprise

    if role_of(user) == Role.EMPLOYER:
        own = own_enterprise_id(user)
        return Enterprise.objects.filter(pk=own) if own else Enterprise.objects.none()
    return scoped(user, Enterprise.objects.all())


def can_request(user, *, enterprise=None, site=None) -> bool:
    role = role_of(user)
    if enterprise is not None:
        if role == Role.EMPLOYER:
            return own_enterprise_id(user) == enterprise.pk
        return role in KEEPERS | LIAISONS and in_scope(user, enterprise.county_code)
    if site is not None:
        return role in KEEPERS | LIAISONS and in_scope(user, site.county_code)
    return False


def can_deliver(user, supply_request) -> bool:
    return may_keep(user, supply_request.county_code)


def can_confirm(user, delivery) -> bool:
    """The receiver confirms: the enterprise's own account, its liaison officer, or a district
    reviewer of its district (for a building site: a district reviewer); never the one who
    recorded the delivery."""
    if user.pk is not None and delivery.recorded_by_id == user.pk:
        return False
    request = delivery.request
    role = role_of(user)
    if request.enterprise_id:
        if role == Role.EMPLOYER:
            return own_enterprise_id(user) == request.enterprise_id
        if request.enterprise.liaison_officer_id == user.pk:
            return True
    return role in LIAISONS and in_scope(user, request.county_code)


def require(allowed: bool, what: str = "办理该事项") -> None:
    if not allowed:
        raise PermissionDenied(f"您无权{what}")
