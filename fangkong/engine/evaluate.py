"""The per-person evaluator: code = evaluate(policies in force, the person's facts, now).

Used for explanations (the person page, `codes show`) and incremental updates; the batch
evaluator (engine.batch) computes the same colours for everyone at once, and a property test
holds the two to agreement. Only facts recorded by `now` count: evaluating as of a past time
gives the code the person had then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fangkong.engine.policies import (
    APPLICATION_CLEAR,
    COLOURS,
    GREEN,
    SEVERITY,
    ZONE_LABELS,
    ZONE_LEVELS,
    ZONE_SCHEMES,
    Clear,
    Policy,
    describe_clear,
)
from fangkong.engine.testing_state import (
    AWAITING_RETEST,
    NEGATIVE,
    POSITIVE_INDIVIDUAL,
    PersonTestState,
    ResultFact,
    SamplingFact,
    derive_testing_state,
)

LOCAL = ZoneInfo("Asia/Shanghai")
KIND_LABELS = {
    "close_contact": "密切接触者",
    "secondary_contact": "次密切接触者",
    "spacetime_companion": "时空伴随者",
}


@dataclass(frozen=True)
class PresenceFact:
    region_code: str
    start_at: datetime
    end_at: datetime
    recorded_at: datetime


@dataclass(frozen=True)
class DesignationFact:
    id: int
    kind: str
    start_at: datetime
    end_at: datetime | None
    designated_by: str
    recorded_at: datetime
    superseded_at: datetime | None = None  # when a correction replaced it, if ever


@dataclass(frozen=True)
class ZoneFact:
    """A level of the community from `start_at`, until `end_at` if the decision set an end."""

    level: str
    start_at: datetime
    recorded_at: datetime
    end_at: datetime | None = None


@dataclass(frozen=True)
class FormerResidence:
    """Where the person's record said they lived until a correction replaced it (a revision of
    the resident record): evaluated as of a time before `until`, this was their home."""

    community_code: str
    until: datetime  # when the correction was recorded
    zones: tuple[ZoneFact, ...] = ()  # of that community


@dataclass(frozen=True)
class Exemption:
    policy_id: str
    approved_at: datetime
    revoked_at: datetime | None = None
    # The policy version the approved clearance contested; None: every version. It answers the
    # versions that continue that decision (Policy.answered_by), not a new decision.
    version: int | None = None


@dataclass(frozen=True)
class PersonFacts:
    person: int
    community_code: str
    registered_at: datetime
    samplings: tuple[SamplingFact, ...] = ()
    results: tuple[ResultFact, ...] = ()
    presences: tuple[PresenceFact, ...] = ()
    designations: tuple[DesignationFact, ...] = ()
    zones: tuple[ZoneFact, ...] = ()  # of the home community
    exemptions: tuple[Exemption, ...] = ()
    former_residences: tuple[FormerResidence, ...] = ()

    def residence_at(self, now: datetime) -> tuple[str, tuple[ZoneFact, ...]]:
        """The home community known at `now`, and its zones: a correction recorded after `now`
        does not move the person as of `now`."""
        for former in sorted(self.former_residences, key=lambda r: r.until):
            if now < former.until:
                return former.community_code, former.zones
        return self.community_code, self.zones


@dataclass(frozen=True)
class Reason:
    policy: str
    version: int
    colour: str
    title: str
    message: str
    since: datetime
    facts: tuple[str, ...]
    clears: tuple[str, ...]

    def as_dict(self) -> dict:
        return {
            "policy": self.policy,
            "version": self.version,
            "colour": self.colour,
            "title": self.title,
            "message": self.message,
            "since": self.since.isoformat(),
            "facts": list(self.facts),
            "clears": list(self.clears),
            "on_application": APPLICATION_CLEAR,
        }


@dataclass(frozen=True)
class Code:
    colour: str
    reasons: tuple[Reason, ...] = ()
    # The next time the code could change with no new fact (a designation ending, an expiry,
    # a policy ending): the incremental path re-evaluates the person then.
    next_change_at: datetime | None = None
    testing: PersonTestState | None = field(default=None, compare=False)


@dataclass(frozen=True)
class _Fired:
    since: datetime
    facts: tuple[str, ...]
    ends_at: datetime | None = None  # the trigger stops holding then, by itself


def local(value: datetime) -> str:
    return value.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")


def evaluate(policies: list[Policy], facts: PersonFacts, now: datetime) -> Code:
    if facts.registered_at > now:
        return Code(GREEN)
    state = derive_testing_state(facts.samplings, facts.results, now)
    reasons: list[Reason] = []
    upcoming: list[datetime] = []
    for policy in policies:
        if not policy.in_force(now):
            start = policy.starts_at
            if start > now and (policy.published_at is None or policy.published_at <= now):
                upcoming.append(start)
            continue
        if policy.effective_until is not None:
            upcoming.append(policy.effective_until)
        fired = _fires(policy, facts, state, now, upcoming)
        if fired is None:
            continue
        if fired.ends_at is not None:
            upcoming.append(fired.ends_at)
        cleared_at = _cleared_at(policy, facts, state, fired, now, upcoming)
        if cleared_at is not None:
            continue
        clears = tuple(describe_clear(c) for c in policy.clears)
        reasons.append(
            Reason(
                policy.id,
                policy.version,
                policy.colour,
                policy.title,
                policy.message,
                fired.since,
                fired.facts,
                clears,
            )
        )
    reasons.sort(key=lambda r: (-SEVERITY[r.colour], r.since, r.policy))
    colour = COLOURS[max((SEVERITY[r.colour] for r in reasons), default=0)]
    future = [t for t in upcoming if t > now]
    return Code(colour, tuple(reasons), min(future) if future else None, state)


def _fires(
    policy: Policy,
    facts: PersonFacts,
    state: PersonTestState,
    now: datetime,
    upcoming: list[datetime],
) -> _Fired | None:
    trigger = policy.trigger
    community, zones = facts.residence_at(now)
    resident = policy.scope.covers(community)
    start = policy.starts_at
    if trigger.type == "no_sampling":
        present = [
            p
            for p in facts.presences
            if p.recorded_at <= now
            and p.start_at < trigger.end
            and p.end_at >= trigger.start
            and policy.scope.covers(p.region_code)
        ]
        if not resident and not present:
            return None
        if any(trigger.start <= t.sampling.sampled_at < trigger.end for t in state.samplings):
            return None
        since = max(trigger.end, start)
        if since > now:
            upcoming.append(since)
            return None
        why = [f"{local(trigger.start)} 至 {local(trigger.end)} 无采样记录"]
        why.append(
            "登记居住于适用范围内"
            if resident
            else f"在场记录:{present[0].region_code} {local(present[0].start_at)}"
        )
        return _Fired(since, tuple(why))
    if not resident:
        return None
    if trigger.type == "positive_result" and state.status == POSITIVE_INDIVIDUAL:
        cause = state.cause
        return _Fired(
            max(state.since, start),
            (
                f"单管 {cause.sampling.tube} 阳性(采样于{local(cause.sampling.sampled_at)},"
                f"{cause.result.lab} 报告于{local(cause.result.reported_at)})",
            ),
        )
    if trigger.type == "pooled_positive" and state.status == AWAITING_RETEST:
        cause = state.cause
        return _Fired(
            max(state.since, start),
            (
                f"{cause.sampling.pool_size}混1 混管 {cause.sampling.tube} 阳性"
                f"(采样于{local(cause.sampling.sampled_at)}),待单管复核",
            ),
        )
    if trigger.type == "designation":
        active = [d for d in _standing_designations(facts, now) if d.kind == trigger.kind]
        upcoming.extend(
            d.start_at
            for d in facts.designations
            if d.kind == trigger.kind and d.recorded_at <= now and d.start_at > now
        )
        if not active:
            return None
        ends = [d.end_at for d in active]
        ends_at = None if any(e is None for e in ends) else max(ends)
        first = min(active, key=lambda d: d.start_at)
        return _Fired(
            max(first.start_at, start),
            tuple(
                f"{d.designated_by} 判定为{KIND_LABELS[d.kind]}({local(d.start_at)}"
                + (f" 至 {local(d.end_at)})" if d.end_at else " 起)")
                for d in active
            ),
            ends_at,
        )
    if trigger.type == "zone_level":
        known = [z for z in zones if z.recorded_at <= now]
        upcoming.extend(z.start_at for z in known if z.start_at > now)
        upcoming.extend(z.end_at for z in known if z.end_at is not None and z.end_at > now)
        matching = [z for z in standing_zones(zones, now).values() if z.level in trigger.levels]
        if not matching:
            return None
        return _Fired(
            max(min(z.start_at for z in matching), start),
            tuple(
                f"居住社区为{ZONE_LABELS[z.level]}(自{local(z.start_at)}"
                + (f" 至 {local(z.end_at)})" if z.end_at else ")")
                for z in sorted(matching, key=lambda z: z.start_at)
            ),
        )
    return None


def _standing_designations(facts: PersonFacts, now: datetime) -> list[DesignationFact]:
    """Designations known at `now`, not replaced by a correction known at `now`, in effect."""
    return [
        d
        for d in facts.designations
        if d.recorded_at <= now
        and not (d.superseded_at and d.superseded_at <= now)
        and d.start_at <= now
        and (d.end_at is None or now < d.end_at)
    ]


def standing_zones(zones: tuple[ZoneFact, ...], now: datetime) -> dict[str, ZoneFact]:
    """The standing level of each naming scheme at `now`: of the levels known by then and in
    effect (started, not yet ended), the latest started, and of two started together the later
    recorded (then the stricter). A level that ends lets the one it interrupted stand again."""
    standing: dict[str, ZoneFact] = {}
    for z in zones:
        if z.recorded_at > now or z.start_at > now or (z.end_at is not None and z.end_at <= now):
            continue
        scheme = ZONE_SCHEMES[z.level]
        held = standing.get(scheme)
        if held is None or _zone_order(z) > _zone_order(held):
            standing[scheme] = z
    return standing


def _zone_order(z: ZoneFact) -> tuple:
    return (z.start_at, z.recorded_at, ZONE_LEVELS.index(z.level))


def _cleared_at(
    policy: Policy,
    facts: PersonFacts,
    state: PersonTestState,
    fired: _Fired,
    now: datetime,
    upcoming: list[datetime],
) -> datetime | None:
    times = [clear_time(c, state, fired.since) for c in policy.clears]
    times += [
        e.approved_at
        for e in facts.exemptions
        if e.policy_id == policy.id
        and policy.answered_by(e.version)
        and e.approved_at <= now
        and not (e.revoked_at and e.revoked_at <= now)
    ]
    past = [t for t in times if t is not None and t <= now]
    upcoming.extend(t for t in times if t is not None and t > now)
    return min(past) if past else None


def clear_time(clear: Clear, state: PersonTestState, since: datetime) -> datetime | None:
    """When the clear condition became (or will become) true, from the facts in `state`."""
    if clear.type == "expiry":
        return clear.at if clear.at is not None else since + timedelta(hours=clear.hours)
    threshold = since if clear.after_trigger else clear.after
    negatives = [
        t
        for t in state.samplings
        if t.result is not None
        and t.result.result == NEGATIVE
        and t.sampling.sampled_at >= threshold
    ]
    if not negatives:
        return None
    if clear.type == "negative_after":
        return min(t.result.reported_at for t in negatives)
    first_per_day: dict = {}
    for t in negatives:
        day = t.sampling.sampled_at.astimezone(LOCAL).date()
        reported = t.result.reported_at
        if day not in first_per_day or reported < first_per_day[day]:
            first_per_day[day] = reported
    if len(first_per_day) < clear.days:
        return None
    return sorted(first_per_day.values())[clear.days - 1]
