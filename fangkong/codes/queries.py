"""Reading codes: one person's code with its full explanation, and counts by district."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from fangkong.codes.loading import load_population
from fangkong.codes.models import Exemption as ExemptionRow
from fangkong.engine.batch import evaluate_batch
from fangkong.engine.evaluate import (
    Code,
    DesignationFact,
    Exemption,
    FormerResidence,
    PersonFacts,
    PresenceFact,
    ZoneFact,
    evaluate,
)
from fangkong.people.models import Designation, Person, PersonRevision, Presence
from fangkong.places.models import CommunityZone
from fangkong.places.queries import counties
from fangkong.policies.queries import published_policies
from fangkong.testing.queries import load_testing_facts


def person_facts(person: Person) -> PersonFacts:
    """Everything the engine may use about one person, as engine facts."""
    testing = load_testing_facts(person.pk)
    designations = list(Designation.objects.filter(person=person))
    replaced = dict(
        Designation.objects.filter(supersedes__person=person).values_list(
            "supersedes_id", "recorded_at"
        )
    )
    revisions = list(
        PersonRevision.objects.filter(person=person).values_list("community_code", "valid_until")
    )
    communities = {person.community_id, *(code for code, _ in revisions)}
    zones: dict[str, tuple] = {}
    for z in CommunityZone.objects.filter(community_id__in=communities).order_by("id"):
        zones[z.community_id] = (
            *zones.get(z.community_id, ()),
            ZoneFact(z.level, z.start_at, z.recorded_at, z.end_at),
        )
    return PersonFacts(
        person=person.pk,
        community_code=person.community_id,
        registered_at=person.recorded_at,
        samplings=testing.sampling_facts,
        results=testing.result_facts,
        presences=tuple(
            PresenceFact(p.region_code, p.start_at, p.end_at, p.recorded_at)
            for p in Presence.objects.filter(person=person)
        ),
        designations=tuple(
            DesignationFact(
                d.id,
                d.kind,
                d.start_at,
                d.end_at,
                d.designated_by,
                d.recorded_at,
                replaced.get(d.id),
            )
            for d in designations
        ),
        zones=zones.get(person.community_id, ()),
        exemptions=tuple(
            Exemption(e.policy_id, e.approved_at, e.revoked_at, e.policy_version)
            for e in ExemptionRow.objects.filter(person=person)
        ),
        former_residences=tuple(
            FormerResidence(code, until, zones.get(code, ())) for code, until in revisions
        ),
    )


def explain(person: Person, as_of: datetime) -> Code:
    """The person's code as of a time, with reasons, triggering facts and how to clear."""
    return evaluate(published_policies(as_of), person_facts(person), as_of)


def stats_by_county(as_of: datetime) -> list[dict]:
    """Counts of green, yellow and red codes per county-level division, evaluated as of a time
    over the facts known then."""
    population = load_population()
    severity = evaluate_batch(published_policies(as_of), population.columns, as_of).severity
    registered = population.columns.registered_at <= _micros(as_of)
    county_of = population.county_at(as_of)
    rows = []
    for county in counties():
        mine = (county_of == int(county.code)) & registered
        counts = np.bincount(severity[mine], minlength=3)
        rows.append(
            {
                "code": county.code,
                "name": county.name,
                "green": int(counts[0]),
                "yellow": int(counts[1]),
                "red": int(counts[2]),
            }
        )
    return rows


def _micros(value: datetime) -> int:
    from fangkong.engine.batch import micros

    return micros(value)
