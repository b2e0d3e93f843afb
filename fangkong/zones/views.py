"""Zone pages: the communities of the user's districts with their current level, and one
community's levels (both schemes), sampling plan and history.

Reading: district reviewers (their districts; another district's community is a 404), and the
city-wide roles. Changing a level is a decision (fangkong.zones.decision_views).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.utils import timezone

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import (
    CITY_WIDE,
    districts_of,
    in_scope,
    require_role,
    scope_queryset,
)
from fangkong.accounts.views import render_staff
from fangkong.engine.policies import RISK_AREAS, THREE_ZONES
from fangkong.people.models import Person
from fangkong.places.models import Division, Level, ZoneLevel
from fangkong.places.queries import counties
from fangkong.zones.actions import can_decide
from fangkong.zones.queries import (
    LEVEL_LABELS,
    UNZONED_LABEL,
    current_levels,
    history,
)
from fangkong.zones.sampling import SAMPLING_PLANS

ZONE_READERS = CITY_WIDE | {Role.DISTRICT_REVIEWER}
PER_PAGE = 50
UNZONED = "none"
# Filter values and labels, most restrictive first.
LEVEL_FILTERS = (
    (ZoneLevel.LOCKDOWN.value, ZoneLevel.LOCKDOWN.label),
    (ZoneLevel.CONTROL.value, ZoneLevel.CONTROL.label),
    (ZoneLevel.PREVENTION.value, ZoneLevel.PREVENTION.label),
    (UNZONED, UNZONED_LABEL),
)


def scoped_community(user, code: str) -> Division:
    """A community the user may see; 404 for any other code, in scope or not alike."""
    community = (
        Division.objects.filter(code=code, level=Level.COMMUNITY).select_related("parent").first()
    )
    if community is None or not in_scope(user, community.county_code):
        raise Http404("没有这个社区/村,或不在您负责的区县")
    return community


@login_required
def zone_list(request):
    require_role(request.user, ZONE_READERS)
    now = timezone.now()
    scope = districts_of(request.user)
    my_counties = [c for c in counties() if scope is None or c.code in scope]
    county = request.GET.get("county", "").strip()
    street = request.GET.get("street", "").strip()
    level = request.GET.get("level", "").strip()
    if county not in {c.code for c in my_counties}:
        county = my_counties[0].code if len(my_counties) == 1 else ""
    communities = scope_queryset(
        Division.objects.filter(level=Level.COMMUNITY, is_current=True), request.user
    )
    streets = Division.objects.none()
    if county:
        communities = communities.filter(county_code=county)
        streets = Division.objects.filter(
            level=Level.STREET, county_code=county, is_current=True
        ).order_by("code")
    if street and not streets.filter(code=street).exists():
        street = ""
    if street:
        communities = communities.filter(parent_id=street)
    rows = list(communities.select_related("parent").order_by("code"))
    levels = current_levels([c.code for c in rows], now)
    counts = {value: 0 for value, _ in LEVEL_FILTERS}
    for community in rows:
        standing = levels.get(community.code, {})
        community.zone = standing.get(THREE_ZONES)
        community.risk = standing.get(RISK_AREAS)
        counts[community.zone.level if community.zone else UNZONED] += 1
    if level in counts:
        rows = [c for c in rows if (c.zone.level if c.zone else UNZONED) == level]
    else:
        level = ""
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    county_names = {c.code: c.name for c in my_counties}
    for community in page:
        community.county_name = county_names.get(community.county_code, community.county_code)
    query = urlencode(
        [(k, v) for k, v in (("county", county), ("street", street), ("level", level)) if v]
    )
    return render_staff(
        request,
        "zones/list.html",
        {
            "page": page,
            "counties": my_counties if len(my_counties) > 1 else [],
            "streets": streets,
            "county": county,
            "street": street,
            "level": level,
            "levels": LEVEL_FILTERS,
            "figures": [
                {"value": value, "label": label, "count": counts[value]}
                for value, label in LEVEL_FILTERS
            ],
            "extra_query": query,
        },
    )


@login_required
def community(request, code: str):
    require_role(request.user, ZONE_READERS)
    found = scoped_community(request.user, code)
    now = timezone.now()
    levels = current_levels([found.code], now).get(found.code, {})
    zone = levels.get(THREE_ZONES)
    return render_staff(
        request,
        "zones/community.html",
        {
            "community": found,
            "zone": zone,
            "risk": levels.get(RISK_AREAS),
            "plan": SAMPLING_PLANS.get(zone.level) if zone else None,
            "plans": [(LEVEL_LABELS[level], plan) for level, plan in SAMPLING_PLANS.items()],
            "history": history(found.code, now),
            "can_propose": can_decide(request.user, [found.county_code]),
            "residents": Person.objects.filter(community_id=found.code).count(),
        },
    )
