"""Finding a resident and reading their record: staff of the right role, inside their districts,
and every search and every view written to the audit log."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods

from fangkong.accounts.scoping import PERSON_READERS, require_role, scope_queryset
from fangkong.accounts.views import county_names, render_staff
from fangkong.audit.actions import record
from fangkong.engine.id_numbers import mask, mask_phone, normalise_id_number
from fangkong.people.models import Designation, Person, Presence
from fangkong.places.models import Division
from fangkong.testing.models import LabResult, Sampling

ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")
MAX_RESULTS = 50
OUTCOME_LABELS = {"negative": "阴性", "positive": "阳性", "invalid": "无效"}
POOL_LABELS = {1: "单管", 10: "10混1", 20: "20混1"}


def parse_query(text: str) -> tuple[str, str] | None:
    """("id_number", normalised) or ("phone", digits) for what a person typed, else None."""
    value = re.sub(r"\s+", "", text or "")
    if ID_NUMBER.match(normalise_id_number(value)):
        return "id_number", normalise_id_number(value)
    if PHONE.match(value):
        return "phone", value
    return None


def _in_scope(user):
    return scope_queryset(Person.objects.all(), user)


# POST, so the ID number typed in never lands in a URL, a server log or the browser history.
@login_required
@require_http_methods(["GET", "POST"])
def search(request):
    require_role(request.user, PERSON_READERS)
    context: dict = {"query": "", "results": None, "error": ""}
    if request.method == "POST":
        query = request.POST.get("q", "")
        parsed = parse_query(query)
        if parsed is None:
            context["error"] = "请输入18位身份证号(末位可为X)或手机号。"
        else:
            kind, value = parsed
            people = _in_scope(request.user).select_related("community")
            people = people.filter(id_number=value) if kind == "id_number" else people.filter(
                phone=value
            )
            results = list(people.order_by("name", "id")[: MAX_RESULTS + 1])
            truncated = len(results) > MAX_RESULTS
            results = results[:MAX_RESULTS]
            masked = mask(value) if kind == "id_number" else mask_phone(value)
            record(request.user, "person.search", "", "", {
                "query_kind": kind, "query": masked, "results": len(results),
            })
            counties = county_names(p.county_code for p in results)
            context.update(
                query_kind=kind,
                masked_query=masked,
                truncated=truncated,
                results=[
                    {
                        "pk": p.pk,
                        "name": p.name,
                        "masked_id": mask(p.id_number),
                        "masked_phone": mask_phone(p.phone),
                        "community": p.community.name,
                        "county": counties.get(p.county_code, p.county_code),
                    }
                    for p in results
                ],
            )
    return render_staff(request, "people/search.html", context)


def _superseded(model):
    return Exists(model.objects.filter(supersedes_id=OuterRef("pk")))


def effective_results(tube_ids) -> dict[int, LabResult]:
    """For each tube, the latest lab result that no correction has replaced."""
    effective: dict[int, LabResult] = {}
    results = LabResult.objects.filter(
        tube_id__in=sorted(tube_ids), superseded_by__isnull=True
    ).order_by("tube_id", "-reported_at", "-id")
    for result in results:
        effective.setdefault(result.tube_id, result)
    return effective


@login_required
def person(request, pk: int):
    require_role(request.user, PERSON_READERS)
    subject = get_object_or_404(
        _in_scope(request.user).select_related("community__parent__parent"), pk=pk
    )
    community = subject.community
    street = community.parent if community.level == 5 else None
    county = street.parent if street is not None and street.level == 3 else None
    county_name = county.name if county else county_names([subject.county_code]).get(
        subject.county_code, subject.county_code
    )

    revisions = list(
        subject.revisions.select_related("recorded_by").order_by("-valid_until", "-id")
    )
    revision_places = dict(
        Division.objects.filter(code__in={r.community_code for r in revisions}).values_list(
            "code", "name"
        )
    )
    for revision in revisions:
        revision.community_name = revision_places.get(revision.community_code, "")

    samplings = list(
        Sampling.objects.filter(person=subject)
        .select_related("site", "tube")
        .annotate(is_superseded=_superseded(Sampling))
        .order_by("-sampled_at", "-id")
    )
    results = effective_results({s.tube_id for s in samplings})
    for sampling in samplings:
        result = results.get(sampling.tube_id)
        sampling.result = result
        sampling.outcome_label = OUTCOME_LABELS.get(result.outcome, "") if result else ""
        sampling.pool_label = POOL_LABELS.get(
            sampling.tube.capacity, f"{sampling.tube.capacity}混1"
        )
        sampling.pooled_positive = bool(
            result and result.outcome == "positive" and sampling.tube.capacity > 1
        )

    designations = list(
        Designation.objects.filter(person=subject)
        .annotate(is_superseded=_superseded(Designation))
        .order_by("-start_at", "-id")
    )
    presences = list(
        Presence.objects.filter(person=subject)
        .annotate(is_superseded=_superseded(Presence))
        .order_by("-start_at", "-id")
    )
    region_names = dict(
        Division.objects.filter(code__in={p.region_code for p in presences}).values_list(
            "code", "name"
        )
    )
    for presence in presences:
        presence.region_name = region_names.get(presence.region_code, "")

    with transaction.atomic():
        record(request.user, "person.view", "person", subject.pk, {})
    return render_staff(request, "people/person.html", {
        "person": subject,
        "community": community,
        "street": street,
        "county_name": county_name,
        "revisions": revisions,
        "samplings": samplings,
        "designations": designations,
        "presences": presences,
    })
