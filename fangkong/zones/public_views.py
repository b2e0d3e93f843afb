"""The public page (/zones/public/): what residents read in the notices — the risk areas in force
now with their notice and effective time, recent notices, and the epidemic-free communities and
towns with their batches, and the map of counts by county (fangkong.zones.map_views). No sign-in
and no personal data: only places, levels and notices. `?at=` shows the page as it stood at
another time (what had been published by then)."""

from __future__ import annotations

from collections import defaultdict

from django.shortcuts import render
from django.views.decorators.cache import cache_control

from fangkong.places.models import Division
from fangkong.places.queries import counties
from fangkong.zones.epidemic_free import labels_in_force, totals
from fangkong.zones.map_views import map_context, requested_time
from fangkong.zones.models import DecisionStatus, EpidemicFreeBatch, ZoneDecision
from fangkong.zones.queries import LEVEL_LABELS, standing_rows

# Listed community by community, strictest first; the released levels are counted by district.
LISTED = ("high", "medium", "lockdown", "control")
COUNTED = ("low", "prevention")
RECENT_NOTICES = 10
RECENT_BATCHES = 12


@cache_control(public=True, max_age=60)
def public(request):
    now, error = requested_time(request)
    standing = standing_rows(None, now)
    rows = [row for schemes in standing.values() for row in schemes.values()]
    listed = [row for row in rows if row.level in LISTED]
    names = Division.objects.select_related("parent").in_bulk({row.community_id for row in listed})
    notices = ZoneDecision.objects.in_bulk({row.decision_id for row in listed if row.decision_id})
    county_names = {c.code: c.name for c in counties()}
    areas = []
    for level in LISTED:
        here = sorted(
            (row for row in listed if row.level == level),
            key=lambda row: row.community_id,
        )
        areas.append(
            {
                "level": level,
                "label": LEVEL_LABELS[level],
                "rows": [
                    {
                        "community": names[row.community_id],
                        "county": county_names.get(row.community_id[:6], ""),
                        "since": row.start_at,
                        "until": row.end_at,
                        "notice": notices.get(row.decision_id),
                    }
                    for row in here
                ],
            }
        )
    released: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTED, 0))
    for row in rows:
        if row.level in COUNTED:
            released[row.community_id[:6]][row.level] += 1
    free = totals(now)
    return render(
        request,
        "zones/public.html",
        {
            "now": now,
            "areas": areas,
            "released": [
                {"name": county_names.get(code, code), **counts}
                for code, counts in sorted(released.items())
            ],
            "released_labels": [LEVEL_LABELS[level] for level in COUNTED],
            "notices": ZoneDecision.objects.filter(
                status=DecisionStatus.PUBLISHED, published_at__lte=now
            )
            .prefetch_related("entries__community")
            .order_by("-published_at", "-pk")[:RECENT_NOTICES],
            "free": free,
            "free_by_county": [
                {"name": county_names.get(code, code), **counts}
                for code, counts in free["by_county"].items()
            ],
            "batches": _batches(now),
            "error": error,
            **map_context(now, standing=standing, free=free),
        },
        status=400 if error else 200,
    )


def _batches(now):
    """The latest batches with the divisions each granted, marking those since withdrawn."""
    batches = list(
        EpidemicFreeBatch.objects.filter(published_at__lte=now).order_by(
            "-published_at", "-number"
        )[:RECENT_BATCHES]
    )
    standing = set(labels_in_force(now).filter(batch__in=batches).values_list("pk", flat=True))
    for batch in batches:
        batch.shown = [
            {"division": label.division, "withdrawn": label.pk not in standing}
            for label in batch.labels.select_related("division__parent").order_by("division_id")
        ]
    return batches
