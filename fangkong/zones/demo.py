"""Demo zone levels: April 2022 in 长春, deterministic, published as numbered notices.

Every community is placed in 封控区 on 4月3日; from 4月14日 most are eased to 管控区, and
from 4月21日 (some 4月25日) released to 防范区. In each district, one community in twenty
stays in 封控区, two stay in 管控区, and one is released only on 4月28日 — so every district
shows all three levels. Each step is one notice of the city (a published zone decision, as
`zones publish` would make it); only steps that have started by `now` are published, each
as published when it started. Codes are not re-evaluated here: the demo recomputes everyone
once at the end.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Max

from fangkong.audit.actions import record
from fangkong.engine.gate_rules import LOCAL
from fangkong.places.models import CommunityZone, Division, Level
from fangkong.zones.models import (
    CITY_ISSUER,
    DecisionStatus,
    Scheme,
    ZoneDecision,
    ZoneDecisionEntry,
)

LOCKDOWN = datetime(2022, 4, 3, 0, 0, tzinfo=LOCAL)
CONTROL = datetime(2022, 4, 14, 0, 0, tzinfo=LOCAL)
RELEASE = datetime(2022, 4, 21, 8, 0, tzinfo=LOCAL)
LATER_RELEASE = datetime(2022, 4, 25, 8, 0, tzinfo=LOCAL)
LAST_RELEASE = datetime(2022, 4, 28, 8, 0, tzinfo=LOCAL)
TITLES = {
    "lockdown": "关于实行全域封控管理的通告",
    "control": "关于将部分区域调整为管控区的通告",
    "prevention": "关于将部分区域调整为防范区的通告",
}


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
    """Publish the plan of every current community that has no zone row yet, one notice per
    step; returns the number of rows written."""
    zoned = set(CommunityZone.objects.values_list("community_id", flat=True).distinct())
    communities = Division.objects.filter(level=Level.COMMUNITY, is_current=True).order_by(
        "county_code", "code"
    )
    steps: dict[tuple[datetime, str], list[str]] = {}
    rank, county = 0, None
    for code, county_code in communities.values_list("code", "county_code"):
        rank = rank + 1 if county_code == county else 0
        county = county_code
        if code in zoned:
            continue
        for level, start in plan(rank):
            if start <= now:
                steps.setdefault((start, level), []).append(code)
    written = 0
    with transaction.atomic():
        number = ZoneDecision.objects.aggregate(Max("number"))["number__max"] or 0
        for (start, level), codes in sorted(steps.items()):
            number += 1
            written += _publish(number, level, start, codes)
    return written


def _publish(number: int, level: str, start: datetime, codes: list[str]) -> int:
    decision = ZoneDecision.objects.create(
        number=number,
        title=TITLES[level],
        scheme=Scheme.THREE_ZONES,
        effective_from=start,
        status=DecisionStatus.PUBLISHED,
        proposed_at=start,
        approved_at=start,
        published_at=start,
    )
    ZoneDecisionEntry.objects.bulk_create(
        (ZoneDecisionEntry(decision=decision, community_id=c, level=level) for c in codes),
        batch_size=2000,
    )
    CommunityZone.objects.bulk_create(
        (
            CommunityZone(
                community_id=c,
                level=level,
                start_at=start,
                recorded_at=start,
                decided_by=CITY_ISSUER[:64],
                decision=decision,
            )
            for c in codes
        ),
        batch_size=2000,
    )
    record(
        None,
        "zone.publish",
        "zone_decision",
        decision.pk,
        {"notice": decision.notice, "title": decision.title, "entries": len(codes)},
        at=start,
    )
    return len(codes)
