"""The home page: what the signed-in role can do, and only the data the role may read — counts
for the roles that read counts, their checkpoints for gate staff, their organisation's lists for
an employer's liaison."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.db.models import Count, Q
from django.http import FileResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import cache_control

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import (
    AUDIT_READERS,
    CITY_WIDE,
    CODE_STATS_READERS,
    FLAG_RESOLVERS,
    INGEST_ROLES,
    PERSON_READERS,
    districts_of,
    has_role,
    role_of,
    scope_queryset,
)
from fangkong.accounts.views import can_ingest_any, render_staff
from fangkong.checkpoints.access import visible_checkpoints
from fangkong.clearances.batches import visible_batches
from fangkong.clearances.models import OPEN_STATUSES, Clearance
from fangkong.codes.models import Colour, PersonCode
from fangkong.enterprises.actions import local_day
from fangkong.enterprises.models import ResumptionStatus
from fangkong.enterprises.queries import standing_reports, status_at
from fangkong.ingest.models import Flag, Kind
from fangkong.people.models import Person
from fangkong.policies.models import PolicyVersion
from fangkong.testing.models import LabResult, Sampling

# Who sees the counts of residents, samplings, results and colours on the home page: the roles
# that read the code statistics (city-wide ones the whole city, reviewers their districts).
SUMMARY_READERS = CODE_STATS_READERS
# Whose home lists their checkpoints with the verifier one tap away (the command centre and
# admins reach every checkpoint from the navigation).
GATE_STAFF = frozenset({Role.CHECKPOINT, Role.SAMPLER})
RECENT_BATCHES = 5


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


def colour_totals(user) -> dict[str, int]:
    """Green, yellow and red codes now in the user's districts, from the stored codes: a person
    with no stored code, or a stored green one, is green."""
    people = scope_queryset(Person.objects.all(), user).count()
    stored = dict(
        scope_queryset(PersonCode.objects.all(), user, "person__county_code")
        .filter(colour__in=[Colour.YELLOW, Colour.RED])
        .values_list("colour")
        .annotate(n=Count("pk"))
    )
    yellow, red = stored.get(Colour.YELLOW, 0), stored.get(Colour.RED, 0)
    return {"green": people - yellow - red, "yellow": yellow, "red": red, "total": people}


def employer_lists(user) -> dict:
    """The liaison's organisation: its latest lists and where its listed staff stand."""
    batches = visible_batches(user)
    recent = list(
        batches.annotate(
            open=Count("clearances", filter=Q(clearances__status__in=OPEN_STATUSES))
        ).order_by("-uploaded_at", "-pk")[:RECENT_BATCHES]
    )
    titles = dict(
        PolicyVersion.objects.filter(policy_id__in={b.policy_id for b in recent})
        .order_by("version")
        .values_list("policy_id", "title")
    )
    for batch in recent:
        batch.policy_title = titles.get(batch.policy_id, "")
    by_status = dict(
        Clearance.objects.filter(batch__in=batches).values_list("status").annotate(n=Count("pk"))
    )
    return {
        "batches": recent,
        "count": batches.count(),
        "staff": {
            "listed": sum(by_status.values()),
            "open": sum(by_status.get(s, 0) for s in OPEN_STATUSES),
            "approved": by_status.get("approved", 0),
            "rejected": by_status.get("rejected", 0),
        },
    }


def own_enterprise(user, now) -> dict | None:
    """An enterprise account's enterprise: its status, whether today's report is in, its gates."""
    enterprise = user.staff.enterprise
    if enterprise is None:
        return None
    today = local_day(now)
    return {
        "enterprise": enterprise,
        "status": ResumptionStatus(
            status_at([enterprise.pk], now).get(enterprise.pk, ResumptionStatus.NOT_STARTED)
        ).label,
        "reported_today": enterprise.pk in standing_reports(today, now, [enterprise.pk]),
        "gates": list(enterprise.gates.select_related("checkpoint").order_by("checkpoint__name")),
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
    reads_counts = role in SUMMARY_READERS
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
            "summary": scope_summary(user) if reads_counts else None,
            "colours": colour_totals(user) if reads_counts else None,
            "checkpoints": list(visible_checkpoints(user).select_related("plant_gate"))
            if role in GATE_STAFF
            else None,
            "employer": employer_lists(user) if role == Role.EMPLOYER else None,
            "own_enterprise": own_enterprise(user, timezone.now())
            if role == Role.EMPLOYER
            else None,
            "city_wide": districts_of(user) is None,
        },
    )


@cache_control(max_age=86400, public=True)
def favicon(request):
    """Browsers ask for /favicon.ico whatever the pages link: the same icon as static."""
    return FileResponse(
        open(finders.find("fangkong/favicon.ico"), "rb"), content_type="image/x-icon"
    )


def csrf_failure(request, reason: str = ""):
    """A form sent without its CSRF token, or with a stale one (a page left open past a sign-out,
    cookies blocked): said in Chinese, in the site's own page (settings.CSRF_FAILURE_VIEW)."""
    resident = request.path.startswith("/r/")
    return render(
        request,
        "403_csrf.html",
        {
            "base": "residents/base.html" if resident else "base.html",
            "back": "/r/" if resident else "/",
            "reason": reason if settings.DEBUG else "",
        },
        status=403,
    )
