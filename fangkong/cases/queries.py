"""Case events as the pure counting code takes them, and a day's figures as of a time."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Q

from fangkong.cases.figures import Event, Figures, day_bounds, figures
from fangkong.cases.models import Bulletin, BulletinStatus, CaseEvent


def events(until: datetime | None, as_of: datetime, case_ids=None) -> list[Event]:
    """Events that happened before `until` (if given) and were recorded by `as_of`, with their
    case's county and where it was found."""
    rows = CaseEvent.objects.filter(recorded_at__lte=as_of)
    if until is not None:
        # Corrections whatever their time: one that moves an event past `until` still
        # replaces it.
        rows = rows.filter(Q(at__lt=until) | Q(supersedes__isnull=False))
    if case_ids is not None:
        rows = rows.filter(case_id__in=case_ids)
    return [
        Event(pk, case, kind, at, recorded_at, supersedes, county, found_by)
        for pk, case, kind, at, recorded_at, supersedes, county, found_by in rows.values_list(
            "pk",
            "case_id",
            "kind",
            "at",
            "recorded_at",
            "supersedes_id",
            "case__county_code",
            "case__found_by",
        )
    ]


def day_figures(day: date, as_of: datetime, county: str | None = None) -> Figures:
    _, end = day_bounds(day)
    return figures(events(end, as_of), day, as_of, county)


def figures_by_county(day: date, as_of: datetime) -> dict[str, Figures]:
    """The day's figures of each county that has a case."""
    _, end = day_bounds(day)
    known = events(end, as_of)
    return {
        county: figures(known, day, as_of, county) for county in sorted({e.county for e in known})
    }


def published(day: date, as_of: datetime | None = None) -> Bulletin | None:
    """The latest version of the day's bulletin published by `as_of` (any time if None)."""
    rows = Bulletin.objects.filter(date=day, status=BulletinStatus.PUBLISHED)
    if as_of is not None:
        rows = rows.filter(published_at__lte=as_of)
    return rows.order_by("-version").first()
