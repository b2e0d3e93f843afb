"""Reading communities' zone levels: the level standing at a time in each scheme, and history.

The standing level is the one the code engine uses (fangkong.engine.evaluate.standing_zones): of
the rows known at `now` (recorded by then) that are in effect then (started, not yet ended), the
latest start wins, then the later recorded, then the stricter level — one per scheme (三区划分
and 风险区). A community without such a row has no level in that scheme ("未划定"); exit rules
decide what that allows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fangkong.audit.models import AuditEntry
from fangkong.engine.policies import THREE_ZONES, ZONE_LEVELS, ZONE_SCHEMES
from fangkong.places.models import CommunityZone, ZoneLevel

LEVEL_LABELS = dict(ZoneLevel.choices)
UNZONED_LABEL = "未划定"


@dataclass(frozen=True)
class Standing:
    level: str
    since: datetime
    decided_by: str
    until: datetime | None = None
    decision_id: int | None = None

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.level]

    @property
    def scheme(self) -> str:
        return ZONE_SCHEMES[self.level]


def _order(z: CommunityZone) -> tuple:
    return (z.start_at, z.recorded_at, ZONE_LEVELS.index(z.level), z.pk)


def _in_effect(z: CommunityZone, now: datetime) -> bool:
    return z.recorded_at <= now and z.start_at <= now and (z.end_at is None or now < z.end_at)


def standing_rows(
    community_codes: Iterable[str] | None, now: datetime
) -> dict[str, dict[str, CommunityZone]]:
    """Per community, per scheme, the row standing at `now` (all communities if codes is None)."""
    rows = CommunityZone.objects.filter(start_at__lte=now, recorded_at__lte=now).only(
        "community_id", "level", "start_at", "end_at", "recorded_at", "decided_by", "decision_id"
    )
    if community_codes is not None:
        rows = rows.filter(community_id__in=sorted(set(community_codes)))
    result: dict[str, dict[str, CommunityZone]] = {}
    for row in rows.iterator(chunk_size=5000):
        if not _in_effect(row, now):
            continue
        schemes = result.setdefault(row.community_id, {})
        scheme = ZONE_SCHEMES[row.level]
        if scheme not in schemes or _order(row) > _order(schemes[scheme]):
            schemes[scheme] = row
    return result


def _standing(row: CommunityZone) -> Standing:
    return Standing(row.level, row.start_at, row.decided_by, row.end_at, row.decision_id)


def current_levels(
    community_codes: Iterable[str] | None, now: datetime
) -> dict[str, dict[str, Standing]]:
    """Per community that has one, its standing level in each scheme."""
    return {
        code: {scheme: _standing(row) for scheme, row in schemes.items()}
        for code, schemes in standing_rows(community_codes, now).items()
    }


def current_zones(
    community_codes: Iterable[str] | None, now: datetime, scheme: str = THREE_ZONES
) -> dict[str, Standing]:
    """The standing level in one scheme (三区划分 unless told) of each community that has one."""
    return {
        code: _standing(schemes[scheme])
        for code, schemes in standing_rows(community_codes, now).items()
        if scheme in schemes
    }


def current_zone(community_code: str, now: datetime, scheme: str = THREE_ZONES) -> Standing | None:
    return current_zones([community_code], now, scheme).get(community_code)


def current_level(community_code: str, now: datetime) -> str | None:
    """The 三区划分 level ("lockdown", "control", "prevention") the exit rules read, or None for
    a community with none standing."""
    standing = current_zone(community_code, now)
    return standing.level if standing else None


def level_counts(now: datetime) -> Counter:
    """How many communities stand at each level at `now` (levels of both schemes)."""
    return Counter(
        row.level for schemes in standing_rows(None, now).values() for row in schemes.values()
    )


@dataclass(frozen=True)
class HistoryRow:
    zone: CommunityZone
    reason: str  # the decision's notice and title, or the reason given for a direct change
    actor: str  # who published it ("" for rows not set through the pages, e.g. the demo)
    current: bool
    upcoming: bool  # published, but its start time is still ahead

    @property
    def level(self) -> str:
        return self.zone.level

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self.zone.level]


def history(community_code: str, now: datetime | None = None) -> list[HistoryRow]:
    """Every level the community was given, newest start first, with its notice (or, for rows
    set before decisions existed, the reason in the audit record)."""
    rows = list(
        CommunityZone.objects.filter(community_id=community_code).select_related(
            "decision__published_by"
        )
    )
    standing = standing_rows([community_code], now).get(community_code, {}) if now else {}
    standing_ids = {row.pk for row in standing.values()}
    audits = {
        entry.target_id: entry
        for entry in AuditEntry.objects.filter(
            action="zone.set",
            target_type="community_zone",
            target_id__in=[str(r.pk) for r in rows if r.decision_id is None],
        )
    }
    out = []
    for row in sorted(rows, key=_order, reverse=True):
        decision = row.decision
        if decision is not None:
            reason = f"{decision.notice}:{decision.title}"
            actor = decision.published_by.get_username() if decision.published_by else ""
        else:
            entry = audits.get(str(row.pk))
            reason = entry.detail.get("reason", "") if entry else ""
            actor = entry.actor_name if entry else ""
        out.append(
            HistoryRow(
                zone=row,
                reason=reason,
                actor=actor,
                current=row.pk in standing_ids,
                upcoming=now is not None and row.start_at > now,
            )
        )
    return out


@dataclass(frozen=True)
class ImpactRow:
    entry: object  # zones.models.ZoneDecisionEntry, with its community
    standing: Standing | None  # the level in the decision's scheme before it took effect
    residents: int

    @property
    def changes(self) -> bool:
        return self.standing is None or self.standing.level != self.entry.level


@dataclass(frozen=True)
class Impact:
    rows: list[ImpactRow]

    @property
    def residents(self) -> int:
        return sum(r.residents for r in self.rows)

    @property
    def changing(self) -> int:
        return sum(1 for r in self.rows if r.changes)

    @property
    def changing_residents(self) -> int:
        return sum(r.residents for r in self.rows if r.changes)


def decision_impact(decision, now: datetime) -> Impact:
    """Who a decision touches: per entry, the community's level in its scheme before the
    decision — now, or, once it is published and in effect, just before its effective time
    (else it would be compared with itself) — and its registered residents (whose codes are
    re-evaluated when it takes effect)."""
    from django.db.models import Count

    from fangkong.people.models import Person

    entries = list(decision.entries.select_related("community__parent"))
    codes = [e.community_id for e in entries]
    before = now
    if decision.published_at is not None and decision.effective_from <= now:
        before = decision.effective_from - timedelta(microseconds=1)
    standing = current_zones(codes, before, decision.scheme)
    residents = dict(
        Person.objects.filter(community_id__in=codes)
        .values("community_id")
        .annotate(n=Count("pk"))
        .values_list("community_id", "n")
    )
    return Impact(
        [
            ImpactRow(e, standing.get(e.community_id), residents.get(e.community_id, 0))
            for e in entries
        ]
    )
