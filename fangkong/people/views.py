"""Finding a resident and reading their record: staff of the right role, inside their districts,
and every search and every view written to the audit log."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import PERSON_READERS, has_role, require_role, scope_queryset
from fangkong.accounts.views import POLICY_READERS, county_names, render_staff
from fangkong.audit.actions import record
from fangkong.clearances.actions import may_withdraw
from fangkong.clearances.models import OPEN_STATUSES, Clearance
from fangkong.codes.history import described
from fangkong.codes.models import CodeChange, Exemption
from fangkong.engine.evaluate import (
    Code,
    DesignationFact,
    PersonFacts,
    PresenceFact,
    ZoneFact,
    evaluate,
)
from fangkong.engine.evaluate import Exemption as EngineExemption
from fangkong.engine.id_numbers import mask, mask_phone, normalise_id_number
from fangkong.engine.policies import COLOUR_LABELS
from fangkong.engine.testing_state import (
    NONE,
    derive_testing_state,
    effective_results,
)
from fangkong.people.models import Designation, Person, Presence
from fangkong.places.models import CommunityZone, Division, Level
from fangkong.policies.queries import published_policies
from fangkong.testing.queries import load_testing_facts

ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")
MAX_RESULTS = 50
# Who may propose a two-person override (the approver is another command-centre member).
OVERRIDE_PROPOSERS = frozenset({Role.DISTRICT_REVIEWER, Role.COMMAND_CENTRE})
RESULT_LABELS = {"negative": "阴性", "positive": "阳性", "invalid": "无效"}
POOL_LABELS = {1: "单管", 10: "10混1", 20: "20混1"}
MAX_CODE_CHANGES = 200


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


def find_people(user, query: str, **audit_detail) -> dict:
    """Who an ID number or phone typed in names, within the user's districts; the search is
    audited with the query masked. {"error": …} or {"people", "masked_query", "truncated",
    "counties"}."""
    parsed = parse_query(query)
    if parsed is None:
        return {"error": "请输入18位身份证号(末位可为X)或手机号。"}
    kind, value = parsed
    people = _in_scope(user).select_related("community")
    people = people.filter(id_number=value) if kind == "id_number" else people.filter(phone=value)
    found = list(people.order_by("name", "id")[: MAX_RESULTS + 1])
    masked = mask(value) if kind == "id_number" else mask_phone(value)
    record(
        user,
        "person.search",
        "",
        "",
        {"query_kind": kind, "query": masked, "results": len(found[:MAX_RESULTS]), **audit_detail},
    )
    return {
        "query_kind": kind,
        "masked_query": masked,
        "truncated": len(found) > MAX_RESULTS,
        "people": found[:MAX_RESULTS],
        "counties": county_names(p.county_code for p in found),
    }


def result_row(person: Person, counties: dict, *, name: str | None = None) -> dict:
    return {
        "pk": person.pk,
        "name": person.name if name is None else name,
        "masked_id": mask(person.id_number),
        "masked_phone": mask_phone(person.phone),
        "community": person.community.name,
        "county": counties.get(person.county_code, person.county_code),
    }


# POST, so the ID number typed in never lands in a URL, a server log or the browser history.
@login_required
@require_http_methods(["GET", "POST"])
def search(request):
    require_role(request.user, PERSON_READERS)
    context: dict = {"query": "", "results": None, "error": ""}
    if request.method == "POST":
        found = find_people(request.user, request.POST.get("q", ""))
        context.update(found)
        if "people" in found:
            context["results"] = [result_row(p, found["counties"]) for p in found["people"]]
    return render_staff(request, "people/search.html", context)


def places_of(subject: Person) -> dict:
    """The person's community, street and county name (select_related community__parent__parent)."""
    community = subject.community
    street = community.parent if community.level == Level.COMMUNITY else None
    county = street.parent if street is not None and street.level == Level.STREET else None
    county_name = (
        county.name
        if county
        else county_names([subject.county_code]).get(subject.county_code, subject.county_code)
    )
    return {"community": community, "street": street, "county_name": county_name}


def _superseded(model):
    return Exists(model.objects.filter(supersedes_id=OuterRef("pk")))


def _superseded_at(model):
    """When a correction replacing the row was recorded; None if it stands."""
    return Subquery(model.objects.filter(supersedes_id=OuterRef("pk")).values("recorded_at")[:1])


def testing_history(subject: Person, now):
    """The person's samplings (corrected ones too, marked), each with its tube's effective
    result, the testing state the engine derives from them, and the engine facts behind it."""
    facts = load_testing_facts(subject.pk)
    samplings, results = facts.samplings, facts.results
    sampling_facts, result_facts = facts.sampling_facts, facts.result_facts
    for s in samplings:
        s.is_superseded = s.correction_id is not None
    state = derive_testing_state(sampling_facts, result_facts, now)
    standing = {r.id: r for r in results}
    by_tube = {
        fact.tube: standing[fact.id] for fact in effective_results(result_facts, now).values()
    }
    for s in samplings:
        result = by_tube.get(s.tube.barcode)
        s.result = result
        s.result_label = RESULT_LABELS.get(result.result, "") if result else ""
        s.pool_label = POOL_LABELS.get(s.tube.capacity, f"{s.tube.capacity}混1")
    return samplings, state, tuple(sampling_facts), tuple(result_facts)


def current_code(subject, now, sampling_facts, result_facts, designations, presences) -> Code:
    """The person's code now, with reasons, from the facts this page has already read (the same
    facts `fangkong.codes.queries.person_facts` reads; a test holds the two to agreement) plus
    zones and exemptions: the page stays within its query budget."""
    facts = PersonFacts(
        person=subject.pk,
        community_code=subject.community_id,
        registered_at=subject.recorded_at,
        samplings=sampling_facts,
        results=result_facts,
        presences=tuple(
            PresenceFact(p.region_code, p.start_at, p.end_at, p.recorded_at) for p in presences
        ),
        designations=tuple(
            DesignationFact(
                d.id, d.kind, d.start_at, d.end_at, d.designated_by, d.recorded_at, d.superseded_at
            )
            for d in designations
        ),
        zones=tuple(
            ZoneFact(z.level, z.start_at, z.recorded_at, z.end_at)
            for z in CommunityZone.objects.filter(community_id=subject.community_id)
        ),
        exemptions=tuple(
            EngineExemption(e.policy_id, e.approved_at, e.revoked_at, e.policy_version)
            for e in Exemption.objects.filter(person=subject)
        ),
    )
    return evaluate(published_policies(now), facts, now)


def reasons_with_requests(subject: Person, code: Code, user=None) -> tuple[list[dict], list]:
    """Each reason of the code with its open clearance request (an override waiting for its
    second person among them), and the open requests of reasons no longer held. `user`: who
    may withdraw (the proposer of an override)."""
    open_requests = {
        c.policy_id: c
        for c in Clearance.objects.filter(person=subject, status__in=OPEN_STATUSES)
        .with_policy_title()
        .select_related("submitted_by")
    }
    for request in open_requests.values():
        request.withdrawable = may_withdraw(user, request)
    reasons = [
        {"reason": r, "open_request": open_requests.pop(r.policy, None)} for r in code.reasons
    ]
    return reasons, sorted(open_requests.values(), key=lambda c: c.submitted_at)


def code_history(subject: Person) -> tuple[list[CodeChange], bool]:
    """The person's code changes, latest first, each with the titles of the policies behind
    its new colour."""
    changes = list(
        CodeChange.objects.filter(person=subject).order_by("-at", "-id")[: MAX_CODE_CHANGES + 1]
    )
    return described(changes[:MAX_CODE_CHANGES]), len(changes) > MAX_CODE_CHANGES


@login_required
def person(request, pk: int):
    require_role(request.user, PERSON_READERS)
    subject = get_object_or_404(
        _in_scope(request.user).select_related("community__parent__parent"), pk=pk
    )
    places = places_of(subject)

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

    now = timezone.now()
    samplings, state, sampling_facts, result_facts = testing_history(subject, now)

    designations = list(
        Designation.objects.filter(person=subject)
        .annotate(superseded_at=_superseded_at(Designation))
        .order_by("-start_at", "-id")
    )
    for designation in designations:
        designation.is_superseded = designation.superseded_at is not None
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

    code = current_code(subject, now, sampling_facts, result_facts, designations, presences)
    reasons, other_requests = reasons_with_requests(subject, code, request.user)
    code_changes, more_changes = code_history(subject)

    record(request.user, "person.view", "person", subject.pk, {})
    return render_staff(
        request,
        "people/person.html",
        {
            "person": subject,
            **places,
            "revisions": revisions,
            "samplings": samplings,
            "testing_state": state,
            "testing_alert": state.status != NONE,
            "designations": designations,
            "presences": presences,
            "code": code,
            "code_label": COLOUR_LABELS[code.colour],
            "reasons": reasons,
            "other_requests": other_requests,
            "code_changes": code_changes,
            "more_code_changes": more_changes,
            "can_read_policies": has_role(request.user, POLICY_READERS),
            "can_propose_override": has_role(request.user, OVERRIDE_PROPOSERS),
            # The registry's employers (fangkong.enterprises), the one source since issue 15.
            "jobs": list(subject.jobs.select_related("enterprise").order_by("since")),
        },
    )
