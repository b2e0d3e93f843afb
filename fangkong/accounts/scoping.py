"""Who may do what, and which districts they see. Every view and API route asks here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from fangkong.accounts.models import Role

# The 12345 hotline desk (赋码工作专席) takes calls from the whole city.
CITY_WIDE = frozenset({Role.COMMAND_CENTRE, Role.AUDITOR, Role.ADMIN, Role.HOTLINE})

# Which roles may load which kind of file. District-scoped roles may load only rows of their
# districts (see fangkong.ingest).
INGEST_ROLES: dict[str, frozenset[str]] = {
    "residents": frozenset({Role.ADMIN, Role.COMMAND_CENTRE, Role.DISTRICT_REVIEWER}),
    "presence": frozenset({Role.ADMIN, Role.COMMAND_CENTRE, Role.DISTRICT_REVIEWER}),
    "designations": frozenset({Role.ADMIN, Role.COMMAND_CENTRE, Role.DISTRICT_REVIEWER}),
    "samplings": frozenset({Role.ADMIN, Role.COMMAND_CENTRE, Role.SAMPLER}),
    "results": frozenset({Role.ADMIN, Role.COMMAND_CENTRE, Role.LAB}),
    # Testing sites (采样点): loaded by those who manage them.
    "sites": frozenset({Role.ADMIN, Role.COMMAND_CENTRE, Role.DISTRICT_REVIEWER}),
    # Case registers: those who keep cases (CASE_KEEPERS below).
    "cases": frozenset({Role.ADMIN, Role.COMMAND_CENTRE, Role.DISTRICT_REVIEWER}),
    # The enterprise registry (企业名录) is kept by the districts; an enterprise's own account
    # may load its staff and its daily reports, for itself only (fangkong.enterprises.access).
    "enterprises": frozenset({Role.ADMIN, Role.COMMAND_CENTRE, Role.DISTRICT_REVIEWER}),
    "employees": frozenset(
        {Role.ADMIN, Role.COMMAND_CENTRE, Role.DISTRICT_REVIEWER, Role.EMPLOYER}
    ),
    "daily_reports": frozenset(
        {Role.ADMIN, Role.COMMAND_CENTRE, Role.DISTRICT_REVIEWER, Role.EMPLOYER}
    ),
}

PERSON_READERS = frozenset(
    {Role.HOTLINE, Role.DISTRICT_REVIEWER, Role.COMMAND_CENTRE, Role.AUDITOR, Role.ADMIN}
)
FLAG_RESOLVERS = frozenset({Role.DISTRICT_REVIEWER, Role.COMMAND_CENTRE, Role.ADMIN})
AUDIT_READERS = frozenset({Role.AUDITOR, Role.ADMIN})
# Who reads the published policies (publishing itself: fangkong.policies.actions.PUBLISHERS).
POLICY_READERS = frozenset({Role.COMMAND_CENTRE, Role.ADMIN, Role.DISTRICT_REVIEWER, Role.AUDITOR})
# Who reads the counts of codes by district: city-wide roles all districts, district reviewers
# their own.
CODE_STATS_READERS = CITY_WIDE | {Role.DISTRICT_REVIEWER}
# Who verifies codes at checkpoints (samplers only at testing sites: fangkong.checkpoints.access).
CHECKPOINT_VERIFIERS = frozenset({Role.CHECKPOINT, Role.SAMPLER, Role.COMMAND_CENTRE, Role.ADMIN})


def role_of(user) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    profile = getattr(user, "staff", None)
    return profile.role if profile else None


def districts_of(user) -> frozenset[str] | None:
    """County codes the user may see; None means the whole city."""
    role = role_of(user)
    if role is None:
        return frozenset()
    if role in CITY_WIDE:
        return None
    return frozenset(user.staff.districts or ())


def has_role(user, roles) -> bool:
    return role_of(user) in roles


def require_role(user, roles) -> None:
    if not has_role(user, roles):
        raise PermissionDenied("您的角色无权进行此操作")


def in_scope(user, county_code: str) -> bool:
    scope = districts_of(user)
    return scope is None or county_code in scope


def scope_queryset(qs: QuerySet, user, field: str = "county_code") -> QuerySet:
    """Limit a queryset to the user's districts: outside scope, a query returns nothing."""
    scope = districts_of(user)
    if scope is None:
        return qs
    return qs.filter(**{f"{field}__in": sorted(scope)})


# Cases (fangkong.cases): district reviewers keep their districts' cases, the command centre all;
# the bulletin speaks for the city: the command centre drafts, approves and publishes it.
CASE_KEEPERS = frozenset({Role.DISTRICT_REVIEWER, Role.COMMAND_CENTRE, Role.ADMIN})
BULLETIN_EDITORS = frozenset({Role.COMMAND_CENTRE, Role.ADMIN})

# Resumption of work (fangkong.enterprises): the districts keep the registry, approve filings
# and read the dashboard; an enterprise's own account (企业联络员) sees and reports for its
# enterprise only; checkpoint staff register entries at plant gates.
ENTERPRISE_KEEPERS = frozenset({Role.DISTRICT_REVIEWER, Role.COMMAND_CENTRE, Role.ADMIN})
ENTERPRISE_READERS = ENTERPRISE_KEEPERS | {Role.AUDITOR, Role.EMPLOYER}
PLANT_GATE_STAFF = frozenset({Role.CHECKPOINT, Role.EMPLOYER, Role.COMMAND_CENTRE, Role.ADMIN})
