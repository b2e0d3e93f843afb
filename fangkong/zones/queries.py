"""Reading communities' zone levels (三区划分): the level standing at a time, and its history.

The standing level is the one the code engine uses (fangkong.engine.evaluate._standing_zone):
of the rows known at `now` (recorded by then) that have started by then, the latest start wins,
and of two rows with the same start, the later recorded. A community without such a row has no
level ("未划定"); exit rules decide what that allows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from fangkong.audit.models import AuditEntry
from fangkong.places.models import CommunityZone, ZoneLevel

LEVEL_LABELS = dict(ZoneLevel.choices)
UNZONED_LABEL = "未划定"


@dataclass(frozen=True)
class Standing:
    level: str
    since: datetime
    decided_by: str

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]


def _standing(rows: Iterable[CommunityZone]) -> CommunityZone | None:
    return max(rows, key=lambda z: (z.start_at, z.recorded_at, z.pk), default=None)


def current_zones(community_codes: Iterable[str] | None, now: datetime) -> dict[str, Standing]:
    """The standing level of each community that has one (all communities if codes is None)."""
    rows = CommunityZone.objects.filter(start_at__lte=now, recorded_at__lte=now).only(
        "community_id", "level", "start_at", "recorded_at", "decided_by"
    )
    if community_codes is not None:
        rows = rows.filter(community_id__in=sorted(set(community_codes)))
    by_community: dict[str, list[CommunityZone]] = {}
    for row in rows:
        by_community.setdefault(row.community_id, []).append(row)
    result = {}
    for code, zones in by_community.items():
        row = _standing(zones)
        result[code] = Standing(row.level, row.start_at, row.decided_by)
    return result


def current_zone(community_code: str, now: datetime) -> Standing | None:
    return current_zones([community_code], now).get(community_code)


def current_level(community_code: str, now: datetime) -> str | None:
    """ "lockdown", "control", "prevention", or None for a community never placed in a zone."""
    standing = current_zone(community_code, now)
    return standing.level if standing else None


@dataclass(frozen=True)
class HistoryRow:
    zone: CommunityZone
    reason: str
    actor: str  # the user who set it ("" for rows not set through the pages, e.g. the demo)
    current: bool
    upcoming: bool  # recorded, but its start time is still ahead (never made by the pages)

    @property
    def level(self) -> str:
        return self.zone.level

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.zone.level]


def history(community_code: str, now: datetime | None = None) -> list[HistoryRow]:
    """Every level the community was given, newest start first, with the reason and the user
    from the audit record of each change."""
    rows = list(CommunityZone.objects.filter(community_id=community_code))
    known = [r for r in rows if now is None or (r.recorded_at <= now and r.start_at <= now)]
    standing = _standing(known)
    audits = {
        entry.target_id: entry
        for entry in AuditEntry.objects.filter(
            action="zone.set", target_type="community_zone", target_id__in=[str(r.pk) for r in rows]
        )
    }
    out = []
    for row in sorted(rows, key=lambda z: (z.start_at, z.recorded_at, z.pk), reverse=True):
        entry = audits.get(str(row.pk))
        out.append(
            HistoryRow(
                zone=row,
                reason=(entry.detail.get("reason", "") if entry else ""),
                actor=entry.actor_name if entry else "",
                current=standing is not None and row.pk == standing.pk,
                upcoming=now is not None and row.start_at > now,
            )
        )
    return out
