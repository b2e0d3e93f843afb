"""Who sees and does what with an enterprise. Every view and API route of the app asks here.

- District reviewers (and the 包保联络员 among them, `Enterprise.liaison_officer`) see, keep and
  report for the enterprises of their districts; the command centre and admins all of them;
  auditors read all.
- An enterprise's own account (role 企业联络员, `StaffProfile.enterprise`) sees and reports for
  its enterprise only, and registers entries at its own gates.
- Checkpoint staff register entries at the plant gates of their districts.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import (
    ENTERPRISE_KEEPERS,
    ENTERPRISE_READERS,
    PLANT_GATE_STAFF,
    districts_of,
    role_of,
)
from fangkong.enterprises.models import Enterprise


def own_enterprise_id(user) -> int | None:
    """The enterprise an enterprise account speaks for (None for every other role)."""
    if role_of(user) != Role.EMPLOYER:
        return None
    return user.staff.enterprise_id


def visible_enterprises(user, qs: QuerySet | None = None) -> QuerySet:
    qs = Enterprise.objects.all() if qs is None else qs
    role = role_of(user)
    if role not in ENTERPRISE_READERS and role not in PLANT_GATE_STAFF:
        return qs.none()
    if role == Role.EMPLOYER:
        own = own_enterprise_id(user)
        return qs.filter(pk=own) if own else qs.none()
    scope = districts_of(user)
    return qs if scope is None else qs.filter(county_code__in=sorted(scope))


def can_see(user, enterprise: Enterprise) -> bool:
    return visible_enterprises(user, Enterprise.objects.filter(pk=enterprise.pk)).exists()


def can_keep(user, enterprise: Enterprise | None = None, county_code: str = "") -> bool:
    """Edit the registry entry, record on-site checks, approve, reject, suspend."""
    if role_of(user) not in ENTERPRISE_KEEPERS:
        return False
    scope = districts_of(user)
    county = enterprise.county_code if enterprise is not None else county_code
    return scope is None or county in scope


def can_report(user, enterprise: Enterprise) -> bool:
    """File the plan, report daily (the enterprise itself, or the district that keeps it)."""
    if own_enterprise_id(user) is not None:
        return own_enterprise_id(user) == enterprise.pk
    return can_keep(user, enterprise)


def can_operate_gate(user, enterprise: Enterprise) -> bool:
    role = role_of(user)
    if role not in PLANT_GATE_STAFF:
        return False
    if role == Role.EMPLOYER:
        return own_enterprise_id(user) == enterprise.pk
    scope = districts_of(user)
    return scope is None or enterprise.county_code in scope


def require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied("您无权查看或办理该企业的事项")
