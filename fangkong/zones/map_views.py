"""The map of zones (风险区划地图, /zones/map/): 长春's districts coloured by their communities in
封控区 or 高风险区, with every count in the tooltip and in the table under the map, which lists
every county — those the shapes cannot draw (公主岭市, the development zones) included.

Reading: the zone readers (as /zones/); district reviewers see the counts of their own counties,
the map draws the rest without figures. The public page (/zones/public/) shows the same map for
the whole city (fangkong.zones.public_views). Counts only, never a person.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.utils import timezone

from fangkong.accounts.scoping import districts_of, require_role
from fangkong.accounts.views import render_staff
from fangkong.places.models import ZoneLevel
from fangkong.policies.forms import local_input_value, parse_local_time
from fangkong.zones.map_data import FREE_KEYS, LEVEL_KEYS, MAP_NAME, county_counts, summed
from fangkong.zones.stats import RISK_KEYS, ZONE_KEYS
from fangkong.zones.views import ZONE_READERS

LABELS = {
    **{key: ZoneLevel(key).label for key in LEVEL_KEYS},
    "free_communities": "无疫小区",
    "free_towns": "无疫乡镇(街道)",
    "severe": "封控区或高风险区的社区",
}
OUT_OF_SCOPE = "不在您负责的区县"


def requested_time(request) -> tuple[datetime, str]:
    """The time asked for (`?at=`, Beijing time when it has no offset), or now, and an error
    in Chinese when the text is not a time."""
    raw = request.GET.get("at", "").strip()
    if not raw:
        return timezone.now(), ""
    try:
        return parse_local_time(raw), ""
    except ValueError:
        return timezone.now(), f"时间:“{raw[:40]}”不是有效的时间,应如 2022-04-20T18:00;已显示现在"


def map_context(as_of: datetime, scope: frozenset[str] | None = None, **read) -> dict:
    """What zones/map_panel.html shows: the rows of the table, their totals, and the data the
    script draws (json_script). `read`: `standing`/`free` already read (county_counts)."""
    rows = county_counts(as_of, scope, **read)
    return {
        "map_rows": rows,
        "map_totals": summed(rows),
        "map_off": [r.name for r in rows if not r.on_map],
        "map_city_wide": scope is None,
        "map_data": {
            "map": MAP_NAME,
            "counties": [r.as_json() for r in rows if r.on_map],
            "keys": {"zones": list(ZONE_KEYS), "risk": list(RISK_KEYS)},
            "free_keys": [f"free_{key}" for key in FREE_KEYS],
            "labels": LABELS,
            "empty": "" if scope is None else OUT_OF_SCOPE,
        },
    }


@login_required
def zone_map(request):
    require_role(request.user, ZONE_READERS)
    as_of, error = requested_time(request)
    return render_staff(
        request,
        "zones/map.html",
        {
            "as_of": as_of,
            "at": local_input_value(as_of),
            "asked": bool(request.GET.get("at", "").strip()) and not error,
            "error": error,
            **map_context(as_of, districts_of(request.user)),
        },
        status=400 if error else 200,
    )
