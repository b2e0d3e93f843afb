"""The home page: what the signed-in role can do, and how much data it sees."""

from django.contrib.auth.decorators import login_required

from fangkong.accounts.scoping import (
    AUDIT_READERS,
    CITY_WIDE,
    FLAG_RESOLVERS,
    INGEST_ROLES,
    PERSON_READERS,
    districts_of,
    has_role,
    role_of,
    scope_queryset,
)
from fangkong.accounts.views import can_ingest_any, render_staff
from fangkong.ingest.models import Flag, Kind
from fangkong.people.models import Person
from fangkong.testing.models import LabResult, Sampling


def scope_summary(user) -> dict[str, int]:
    """Residents, samplings and lab results (corrected ones not counted twice) in the user's
    districts; a sampling or result belongs to the district of the person sampled."""
    scope = districts_of(user)
    people = Person.objects.all()
    samplings = Sampling.objects.filter(superseded_by__isnull=True)
    results = LabResult.objects.filter(superseded_by__isnull=True)
    if scope is not None:
        codes = sorted(scope)
        people = people.filter(county_code__in=codes)
        samplings = samplings.filter(person__county_code__in=codes)
        results = results.filter(
            tube__in=Sampling.objects.filter(person__county_code__in=codes).values("tube_id")
        )
    return {
        "residents": people.count(),
        "samplings": samplings.count(),
        "results": results.count(),
    }


@login_required
def home(request):
    user = request.user
    role = role_of(user)
    if role is None:
        return render_staff(request, "home.html", {"role": None})
    uploads = [
        {"kind": kind, "label": Kind(kind).label}
        for kind, roles in INGEST_ROLES.items()
        if role in roles
    ]
    open_flags = None
    if has_role(user, FLAG_RESOLVERS):
        open_flags = scope_queryset(Flag.objects.filter(status=Flag.Status.OPEN), user).count()
    return render_staff(
        request,
        "home.html",
        {
            "role": role,
            "uploads": uploads,
            "can_see_batches": can_ingest_any(user) or role in CITY_WIDE,
            "can_search": has_role(user, PERSON_READERS),
            "can_resolve": has_role(user, FLAG_RESOLVERS),
            "can_audit": has_role(user, AUDIT_READERS),
            "open_flags": open_flags,
            "summary": scope_summary(user),
            "city_wide": districts_of(user) is None,
        },
    )
