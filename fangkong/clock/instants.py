"""The instants at which codes change with time alone, as the clock finds them.

Three sources: each person's stored next instant (codes.models.NextChange: designations,
expiries), the windows of published policies (a rule that starts or ends at 00:00 changes
everyone in its scope), and zone rows that take effect (the residents of a community). A row
or version takes effect when it is both known and due: max(its time, when it was recorded or
published), so one recorded late, with a time the clock had already passed, is still applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Q

from fangkong.codes.models import NextChange
from fangkong.engine.policies import Policy
from fangkong.places.models import CommunityZone
from fangkong.policies.models import PolicyVersion

EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


# A zone row's own times: its start, and its end where the decision set one.
ZONE_TIMES = ("start_at", "end_at")
ZONE_WORDS = {"start_at": "开始", "end_at": "结束"}


@dataclass
class Due:
    """What is due at one instant."""

    at: datetime
    people: bool = False  # stored next instants of some people
    policies: list[str] = field(default_factory=list)  # "<policy> 第N版生效", …
    communities: dict[str, list[str]] = field(default_factory=dict)  # code -> what happens


def policy_times(policy: Policy) -> list[tuple[datetime, str]]:
    """When a version changes codes by itself after its publication: its start, its end and,
    for a rule about not being sampled in a window, the window's close."""
    times = [(policy.starts_at, "生效")]
    if policy.effective_until is not None:
        times.append((policy.effective_until, "失效"))
    if policy.trigger.type == "no_sampling" and policy.trigger.end is not None:
        times.append((max(policy.trigger.end, policy.starts_at), "采样期限届满"))
    published = policy.published_at or EARLIEST
    return [(at, what) for at, what in times if at > published]


def policy_instants(after: datetime, until: datetime) -> list[tuple[datetime, str]]:
    """Instants in (after, until] of the versions in force then (a version replaced or
    withdrawn before its instant has none)."""
    versions = list(
        PolicyVersion.objects.filter(published_at__lte=until).order_by("policy_id", "version")
    )
    found = []
    for i, version in enumerate(versions):
        if version.withdrawn:
            continue
        later = versions[i + 1] if i + 1 < len(versions) else None
        replaced = later.published_at if later and later.policy_id == version.policy_id else LATEST
        for at, what in policy_times(version.as_engine()):
            if after < at <= until and at < replaced:
                found.append((at, f"{version.policy_id} 第{version.version}版{what}"))
    return found


def zone_instants(after: datetime, until: datetime) -> list[tuple[datetime, str, str]]:
    """(instant, community code, what) for zone rows taking effect in (after, until]."""
    found = []
    for name in ZONE_TIMES:
        rows = (
            CommunityZone.objects.filter(**{f"{name}__lte": until}, recorded_at__lte=until)
            .filter(Q(**{f"{name}__gt": after}) | Q(recorded_at__gt=after))
            .values_list(name, "recorded_at", "community_id", "level")
        )
        for time, recorded, community, level in rows:
            at = max(time, recorded)
            if after < at <= until:
                found.append((at, community, f"{level}{ZONE_WORDS[name]}"))
    return found


def next_due(after: datetime, until: datetime) -> Due | None:
    """The earliest instant in (after, until] with something due, and all that is due then.
    A person's stored instant at or before `after` (written by an evaluation as of an earlier
    time) is overdue: due at once, just after `after`."""
    first_person = (
        NextChange.objects.filter(at__lte=until).order_by("at").values_list("at", flat=True).first()
    )
    policies = policy_instants(after, until)
    zones = zone_instants(after, until)
    candidates = [at for at, _ in policies] + [at for at, _, _ in zones]
    if first_person is not None:
        candidates.append(max(first_person, after))
    if not candidates:
        return None
    at = min(candidates)
    due = Due(at, people=first_person is not None and max(first_person, after) == at)
    due.policies = sorted(what for when, what in policies if when == at)
    for when, community, what in zones:
        if when == at:
            due.communities.setdefault(community, []).append(what)
    return due


def upcoming(after: datetime) -> datetime | None:
    """The next instant after `after` at which anything is due (for scheduling the sweep)."""
    due = next_due(after, LATEST)
    return due.at if due else None
