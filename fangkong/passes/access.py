"""Who sees and does what with vehicle passes. Every view, API route and action asks here.

- An enterprise's own account (企业联络员) applies for its enterprise and sees its own passes;
  the district that keeps the enterprise (区县审核员, its 包保联络员) may apply on its behalf.
- Vehicle-pass officers (车辆通行证专员) of a district decide, issue batches and revoke there;
  the command centre and admins everywhere.
- District reviewers read their districts' passes; auditors read all.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import districts_of, role_of
from fangkong.enterprises import access as enterprise_access
from fangkong.passes.models import VehiclePass

OFFICERS = frozenset({Role.PASS_OFFICER, Role.COMMAND_CENTRE, Role.ADMIN})
APPLICANTS = frozenset({Role.EMPLOYER, Role.DISTRICT_REVIEWER, Role.COMMAND_CENTRE, Role.ADMIN})
READERS = OFFICERS | APPLICANTS | {Role.AUDITOR}


def visible_passes(user, qs: QuerySet | None = None) -> QuerySet:
    qs = VehiclePass.objects.all() if qs is None else qs
    role = role_of(user)
    if role not in READERS:
        return qs.none()
    if role == Role.EMPLOYER:
        own = enterprise_access.own_enterprise_id(user)
        return qs.filter(enterprise_id=own) if own else qs.none()
    scope = districts_of(user)
    return qs if scope is None else qs.filter(county_code__in=sorted(scope))


def can_see(user, vehicle_pass: VehiclePass) -> bool:
    return visible_passes(user, VehiclePass.objects.filter(pk=vehicle_pass.pk)).exists()


def can_apply(user, enterprise) -> bool:
    """The enterprise itself, or the district that keeps it."""
    if role_of(user) not in APPLICANTS:
        return False
    return enterprise_access.can_report(user, enterprise)


def is_officer(user) -> bool:
    return role_of(user) in OFFICERS


def can_decide(user, county_code: str) -> bool:
    """Approve, reject, issue and revoke in this district."""
    if not is_officer(user):
        return False
    scope = districts_of(user)
    return scope is None or county_code in scope


def require(allowed: bool, what: str = "办理该通行证") -> None:
    if not allowed:
        raise PermissionDenied(f"您无权{what}")
