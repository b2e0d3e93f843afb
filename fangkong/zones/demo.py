"""Demo zone levels: April 2022 in 长春, deterministic.

Every community is placed in 封控区 on 4月3日; from 4月14日 most are eased to 管控区, and
from 4月21日 (some 4月25日) released to 防范区. In each district, one community in twenty
stays in 封控区, two stay in 管控区, and one is released only on 4月28日 — so every district
shows all three levels. Only changes that have started by `now` are recorded, each as
recorded when it started.
"""

from __future__ import annotations

from datetime import datetime

from fangkong.engine.gate_rules import LOCAL
from fangkong.places.models import CommunityZone, Division, Level
from fangkong.places.queries import county_name

LOCKDOWN = datetime(2022, 4, 3, 0, 0, tzinfo=LOCAL)
CONTROL = datetime(2022, 4, 14, 0, 0, tzinfo=LOCAL)
RELEASE = datetime(2022, 4, 21, 8, 0, tzinfo=LOCAL)
LATER_RELEASE = datetime(2022, 4, 25, 8, 0, tzinfo=LOCAL)
LAST_RELEASE = datetime(2022, 4, 28, 8, 0, tzinfo=LOCAL)


def plan(rank: int) -> list[tuple[str, datetime]]:
    """The level changes of the community ranked `rank` (by code) in its district."""
    steps = [("lockdown", LOCKDOWN)]
    slot = rank % 20
    if slot == 3:
        return steps
    steps.append(("control", CONTROL))
    if slot in (7, 13):
        return steps
    release = RELEASE if rank % 3 != 2 else LATER_RELEASE
    if slot == 17:
        release = LAST_RELEASE
    return [*steps, ("prevention", release)]


def seed_zones(now: datetime) -> int:
    """Record the plan for every current community that has no zone row yet; returns the
    number of rows written. Re-evaluating codes afterwards is the caller's (the demo
    recomputes everyone once at the end)."""
    zoned = set(CommunityZone.objects.values_list("community_id", flat=True).distinct())
    communities = Division.objects.filter(level=Level.COMMUNITY, is_current=True).order_by(
        "county_code", "code"
    )
    deciders: dict[str, str] = {}
    rows = []
    rank, county = 0, None
    for code, county_code in communities.values_list("code", "county_code"):
        rank = rank + 1 if county_code == county else 0
        county = county_code
        if code in zoned:
            continue
        if county_code not in deciders:
            deciders[county_code] = f"{county_name(county_code)}疫情防控指挥部"[:64]
        for level, start in plan(rank):
            if start <= now:
                rows.append(
                    CommunityZone(
                        community_id=code,
                        level=level,
                        start_at=start,
                        recorded_at=start,
                        decided_by=deciders[county_code],
                    )
                )
    CommunityZone.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
