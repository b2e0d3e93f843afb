"""Matching free-text employers to the registry by the enterprise's exact name (whitespace
trimmed). Used by the migration that introduced the registry (with historical models) and after
every enterprise import (with the real ones), so it takes the models as arguments."""

from __future__ import annotations

from django.db.models.functions import Trim
from django.utils import timezone


def link_by_name(
    Enterprise, Employee, Person, StaffProfile, EmployerBatch, names=None, now=None
) -> dict:
    """Link residents (as resident staff, unless already employed there), employer accounts and
    employer lists whose employer text is an enterprise's name. Returns counts of new links.
    Never changes a link already made: a person moved between enterprises is a person's call."""
    enterprises = Enterprise.objects.all()
    if names is not None:
        enterprises = enterprises.filter(name__in=sorted(names))
    by_name = dict(enterprises.values_list("name", "id"))
    if not by_name:
        return {"employees": 0, "accounts": 0, "batches": 0}
    now = now or timezone.now()
    people = (
        Person.objects.annotate(trimmed=Trim("employer"))
        .filter(trimmed__in=sorted(by_name))
        .values_list("id", "trimmed")
    )
    held = set(
        Employee.objects.filter(enterprise_id__in=by_name.values()).values_list(
            "enterprise_id", "person_id"
        )
    )
    new = []
    for person_id, name in people.iterator(chunk_size=5000):
        key = (by_name[name], person_id)
        if key not in held:
            held.add(key)
            new.append(
                Employee(
                    enterprise_id=key[0],
                    person_id=person_id,
                    role="resident",
                    since=now,
                    recorded_at=now,
                )
            )
    Employee.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    accounts = batches = 0
    for name, enterprise_id in by_name.items():
        accounts += StaffProfile.objects.filter(
            role="employer", enterprise__isnull=True, organisation=name
        ).update(enterprise_id=enterprise_id)
        batches += EmployerBatch.objects.filter(enterprise__isnull=True, employer=name).update(
            enterprise_id=enterprise_id
        )
    return {"employees": len(new), "accounts": accounts, "batches": batches}
