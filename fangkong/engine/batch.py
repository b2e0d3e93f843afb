"""The batch evaluator: the same colours as engine.evaluate, for everyone at once.

Facts arrive as numpy columns indexed by a dense person number (0 … n-1); times are int64
microseconds since the Unix epoch (UTC), and "never" is NEVER. Every step is a vectorised
filter, scatter or group reduction over the fact arrays, so the cost grows with the number of
facts, not with people × policies × facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from fangkong.engine.policies import SEVERITY, ZONE_LEVELS, ZONE_SCHEMES, Clear, Policy

NEVER = np.iinfo(np.int64).max
NEGATIVE, POSITIVE, INVALID = 0, 1, 2
OUTCOME_CODES = {"negative": NEGATIVE, "positive": POSITIVE, "invalid": INVALID}
KIND_CODES = {"close_contact": 0, "secondary_contact": 1, "spacetime_companion": 2}
LEVEL_CODES = {level: i for i, level in enumerate(ZONE_LEVELS)}
# The level codes of each naming scheme: a community has one standing level per scheme.
SCHEME_CODES = {
    scheme: [LEVEL_CODES[level] for level, of in ZONE_SCHEMES.items() if of == scheme]
    for scheme in dict.fromkeys(ZONE_SCHEMES.values())
}
# Asia/Shanghai has kept UTC+8 without daylight saving since 1991: a local day is a fixed shift.
LOCAL_OFFSET = 8 * 3600 * 1_000_000
DAY = 86400 * 1_000_000

# Testing states, as engine.testing_state names them.
NONE, AWAITING, RESAMPLE, POSITIVE_STATE = 0, 1, 2, 3

_I64 = np.int64


def micros(value: datetime | None) -> int:
    if value is None:
        return NEVER
    return int((value - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))


def _empty(dtype=_I64) -> np.ndarray:
    return np.zeros(0, dtype=dtype)


@dataclass
class Columns:
    """All facts of a population, as arrays. Codes are int64 (12-digit community codes; region
    codes with their digit count alongside)."""

    community: np.ndarray  # int64 12-digit code per person
    registered_at: np.ndarray
    s_id: np.ndarray = field(default_factory=_empty)
    s_person: np.ndarray = field(default_factory=_empty)
    s_tube: np.ndarray = field(default_factory=_empty)  # dense tube number
    s_pool: np.ndarray = field(default_factory=_empty)
    s_sampled_at: np.ndarray = field(default_factory=_empty)
    s_recorded_at: np.ndarray = field(default_factory=_empty)
    s_superseded_at: np.ndarray = field(default_factory=_empty)
    r_id: np.ndarray = field(default_factory=_empty)
    r_tube: np.ndarray = field(default_factory=_empty)
    r_result: np.ndarray = field(default_factory=_empty)
    r_reported_at: np.ndarray = field(default_factory=_empty)
    r_recorded_at: np.ndarray = field(default_factory=_empty)
    r_supersedes: np.ndarray = field(default_factory=_empty)  # result id, or -1
    p_person: np.ndarray = field(default_factory=_empty)
    p_region: np.ndarray = field(default_factory=_empty)
    p_region_digits: np.ndarray = field(default_factory=_empty)
    p_start: np.ndarray = field(default_factory=_empty)
    p_end: np.ndarray = field(default_factory=_empty)
    p_recorded_at: np.ndarray = field(default_factory=_empty)
    d_person: np.ndarray = field(default_factory=_empty)
    d_kind: np.ndarray = field(default_factory=_empty)
    d_start: np.ndarray = field(default_factory=_empty)
    d_end: np.ndarray = field(default_factory=_empty)
    d_recorded_at: np.ndarray = field(default_factory=_empty)
    d_superseded_at: np.ndarray = field(default_factory=_empty)
    z_community: np.ndarray = field(default_factory=_empty)
    z_level: np.ndarray = field(default_factory=_empty)
    z_start: np.ndarray = field(default_factory=_empty)
    z_recorded_at: np.ndarray = field(default_factory=_empty)
    z_end: np.ndarray = field(default_factory=_empty)  # NEVER: no end
    e_person: np.ndarray = field(default_factory=_empty)
    e_policy: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    e_approved_at: np.ndarray = field(default_factory=_empty)
    e_revoked_at: np.ndarray = field(default_factory=_empty)
    e_version: np.ndarray = field(default_factory=_empty)  # 0: every version
    # Former residences (revisions of the resident record): the community a person's record
    # held until a correction recorded at v_until replaced it.
    v_person: np.ndarray = field(default_factory=_empty)
    v_community: np.ndarray = field(default_factory=_empty)
    v_until: np.ndarray = field(default_factory=_empty)

    # Filled on first use: the distinct communities and each person's index into them.
    community_codes: np.ndarray | None = None
    community_index: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.community)


@dataclass
class BatchResult:
    severity: np.ndarray  # int8 per person: 0 green, 1 yellow, 2 red
    active: dict[str, np.ndarray]  # policy id -> bool per person
    since: dict[str, np.ndarray]  # policy id -> int64 micros, where active
    # policy id -> bool per person: the trigger holds, cleared or not (held & ~active: cleared)
    held: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Homes:
    """Each person's home community as known at one time, with its distinct codes."""

    community: np.ndarray  # int64 12-digit code per person
    codes: np.ndarray  # the distinct codes, sorted
    index: np.ndarray  # per person, into codes

    @property
    def county(self) -> np.ndarray:
        return self.community // 1_000_000


def homes_at(c: Columns, now: int) -> Homes:
    """Home communities as known at `now` (microseconds): the current record, except where a
    correction recorded after `now` replaced what the record said then."""
    if c.community_codes is None:
        c.community_codes, c.community_index = np.unique(c.community, return_inverse=True)
    live = np.flatnonzero(c.v_until > now)
    if not len(live):
        return Homes(c.community, c.community_codes, c.community_index)
    # Per person, the earliest correction after `now` holds what the record said at `now`.
    order = live[np.lexsort((c.v_until[live], c.v_person[live]))]
    people = c.v_person[order]
    first = order[np.r_[True, people[1:] != people[:-1]]]
    community = c.community.copy()
    community[c.v_person[first]] = c.v_community[first]
    codes, index = np.unique(community, return_inverse=True)
    return Homes(community, codes, index)


@dataclass
class _Testing:
    status: np.ndarray  # per person
    since: np.ndarray
    # per sampling row (aligned with the Columns' s_* arrays): is it known and standing, and
    # its tube's standing result and report time
    known: np.ndarray
    result: np.ndarray
    reported_at: np.ndarray


def _covers(codes: np.ndarray, digits: int | np.ndarray, prefixes: tuple[str, ...]) -> np.ndarray:
    """codes (with `digits` digits each) start with any of the policy's prefixes."""
    from fangkong.engine.policies import _prefix

    out = np.zeros(len(codes), dtype=bool)
    scalar = np.ndim(digits) == 0
    for code in prefixes:
        prefix = _prefix(code)
        length = len(prefix)
        if scalar:
            if digits >= length:
                out |= codes // (10 ** (int(digits) - length)) == int(prefix)
            continue
        shift = np.maximum(digits - length, 0).astype(_I64)
        out |= (digits >= length) & (codes // (10**shift) == int(prefix))
    return out


def in_scope(policy: Policy, codes: np.ndarray, digits: int | np.ndarray = 12) -> np.ndarray:
    return _covers(codes, digits, policy.scope.include) & ~_covers(
        codes, digits, policy.scope.exclude
    )


def _person_scope(policy: Policy, homes: Homes) -> np.ndarray:
    """Scope over people, on the distinct communities (a few thousand codes instead of one per
    person)."""
    return in_scope(policy, homes.codes)[homes.index]


def _last_per_group(groups: np.ndarray, n_groups: int, mask: np.ndarray) -> np.ndarray:
    """For rows sorted by group: index of the last row with `mask` in each group, or -1."""
    out = np.full(n_groups, -1, dtype=_I64)
    index = np.flatnonzero(mask)
    if len(index):
        np.maximum.at(out, groups[index], index)
    return out


def _standing_results(c: Columns, now: int, n_tubes: int) -> tuple[np.ndarray, np.ndarray]:
    known = c.r_recorded_at <= now
    superseded = c.r_supersedes[known & (c.r_supersedes >= 0)]
    candidate = known
    if len(superseded):
        candidate = known & ~np.isin(c.r_id, superseded)
    candidate = np.flatnonzero(candidate)
    result = np.full(n_tubes, -1, dtype=np.int8)
    reported = np.full(n_tubes, NEVER, dtype=_I64)
    if len(candidate):
        tubes = c.r_tube[candidate]
        if np.all(np.bincount(tubes, minlength=1) <= 1):
            chosen = candidate  # one standing candidate per tube: nothing to choose
        else:
            order = candidate[np.lexsort((c.r_id[candidate], c.r_recorded_at[candidate], tubes))]
            sorted_tubes = c.r_tube[order]
            chosen = order[np.r_[sorted_tubes[1:] != sorted_tubes[:-1], True]]
        result[c.r_tube[chosen]] = c.r_result[chosen]
        reported[c.r_tube[chosen]] = c.r_reported_at[chosen]
    return result, reported


def testing_states(c: Columns, now: int) -> _Testing:
    """The pooled-tube state per person (see engine.testing_state for the rules).

    Only people with a positive or invalid result can be in any state but none, so the ordered
    walk runs over their samplings alone; everyone else needs one pass of masks."""
    n = c.n
    n_tubes = int(max(c.s_tube.max(initial=-1), c.r_tube.max(initial=-1))) + 1
    tube_result, tube_reported = _standing_results(c, now, n_tubes)
    known = (c.s_recorded_at <= now) & (c.s_superseded_at > now)
    result = tube_result[c.s_tube]
    reported = tube_reported[c.s_tube]
    status = np.full(n, NONE, dtype=np.int8)
    since = np.full(n, NEVER, dtype=_I64)
    notable = np.flatnonzero(known & ((result == POSITIVE) | (result == INVALID)))
    if len(notable):
        involved = np.zeros(n, dtype=bool)
        involved[c.s_person[notable]] = True
        rows = np.flatnonzero(known & involved[c.s_person])
        rows = rows[np.lexsort((c.s_id[rows], c.s_sampled_at[rows], c.s_person[rows]))]
        # Walk in a compact numbering of just these people, then write back.
        people, local = np.unique(c.s_person[rows], return_inverse=True)
        local_status = np.full(len(people), NONE, dtype=np.int8)
        local_since = np.full(len(people), NEVER, dtype=_I64)
        _walk(
            local,
            c.s_sampled_at[rows],
            c.s_pool[rows] == 1,
            result[rows],
            reported[rows],
            local_status,
            local_since,
        )
        status[people] = local_status
        since[people] = local_since
    return _Testing(status, since, known, result, reported)


def _walk(person, sampled, single, result, reported, status, since) -> None:
    """The fold of engine.testing_state, vectorised over samplings sorted by person and time
    (`person` numbers 0 … len(status)-1)."""
    n = len(status)
    rank = np.arange(len(person))
    last_single_pos = _last_per_group(person, n, single & (result == POSITIVE))
    last_pool_pos = _last_per_group(person, n, ~single & (result == POSITIVE))
    last_invalid = _last_per_group(person, n, result == INVALID)
    last_valid = _last_per_group(person, n, (result == NEGATIVE) | (result == POSITIVE))

    positive = last_single_pos >= 0
    status[positive] = POSITIVE_STATE
    since[positive] = reported[last_single_pos[positive]]

    # Awaiting retest: a positive pool with no single-tube negative sampled after it.
    pool_at = np.full(n, NEVER, dtype=_I64)
    has_pool = last_pool_pos >= 0
    pool_at[has_pool] = sampled[last_pool_pos[has_pool]]
    retested = np.zeros(n, dtype=bool)
    negative_single = np.flatnonzero(single & (result == NEGATIVE))
    later = sampled[negative_single] > pool_at[person[negative_single]]
    retested[person[negative_single[later]]] = True
    awaiting = has_pool & ~retested & ~positive
    status[awaiting] = AWAITING
    since[awaiting] = reported[last_pool_pos[awaiting]]

    # Resample: an invalid result after the last valid one; its since is the first such.
    resample = (last_invalid >= 0) & (last_invalid > last_valid) & ~positive & ~awaiting
    if resample.any():
        after_valid = (result == INVALID) & (rank > last_valid[person])
        first_after = np.full(n, NEVER, dtype=_I64)
        index = np.flatnonzero(after_valid)
        np.minimum.at(first_after, person[index], index)
        status[resample] = RESAMPLE
        since[resample] = reported[first_after[resample]]


def evaluate_batch(policies: list[Policy], c: Columns, when: datetime) -> BatchResult:
    now = micros(when)
    n = c.n
    registered = c.registered_at <= now
    testing = testing_states(c, now)
    homes = homes_at(c, now)
    severity = np.zeros(n, dtype=np.int8)
    result = BatchResult(severity, {}, {})
    for policy in policies:
        if not policy.in_force(when):
            continue
        fired, since = _fires(policy, c, homes, testing, now)
        fired &= registered
        if not fired.any():
            continue
        cleared = _exempted(policy, c, now, n)
        for clear in policy.clears:
            cleared |= _clear_times(clear, c, testing, fired, since) <= now
        active = fired & ~cleared
        result.held[policy.id] = fired
        result.active[policy.id] = active
        result.since[policy.id] = np.where(active, since, NEVER)
        severity[active] = np.maximum(severity[active], SEVERITY[policy.colour])
    return result


def _fires(
    policy: Policy, c: Columns, homes: Homes, t: _Testing, now: int
) -> tuple[np.ndarray, np.ndarray]:
    """Who the trigger holds for at `now`, and since when (NEVER elsewhere)."""
    n = c.n
    trigger = policy.trigger
    start = micros(policy.starts_at)
    resident = _person_scope(policy, homes)
    if trigger.type == "no_sampling":
        begin, end = micros(trigger.start), micros(trigger.end)
        fires_at = max(end, start)
        if fires_at > now:
            return np.zeros(n, dtype=bool), np.full(n, NEVER, dtype=_I64)
        population = resident.copy()
        p = (c.p_recorded_at <= now) & (c.p_start < end) & (c.p_end >= begin)
        if p.any():
            p[p] = in_scope(policy, c.p_region[p], c.p_region_digits[p])
            population[c.p_person[p]] = True
        in_window = t.known & (c.s_sampled_at >= begin) & (c.s_sampled_at < end)
        population[c.s_person[in_window]] = False
        return population, np.where(population, fires_at, NEVER)
    if trigger.type in ("positive_result", "pooled_positive"):
        wanted = POSITIVE_STATE if trigger.type == "positive_result" else AWAITING
        fired = resident & (t.status == wanted)
        return fired, np.where(fired, np.maximum(t.since, start), NEVER)
    if trigger.type == "designation":
        d = (c.d_recorded_at <= now) & (c.d_superseded_at > now) & (c.d_start <= now)
        d &= (now < c.d_end) & (c.d_kind == KIND_CODES[trigger.kind])
        first = np.full(n, NEVER, dtype=_I64)
        np.minimum.at(first, c.d_person[d], c.d_start[d])
        fired = resident & (first < NEVER)
        return fired, np.where(fired, np.maximum(first, start), NEVER)
    if trigger.type == "zone_level":
        in_effect = (c.z_recorded_at <= now) & (c.z_start <= now) & (now < c.z_end)
        wanted_codes = [LEVEL_CODES[x] for x in trigger.levels]
        first = np.full(len(homes.codes), NEVER, dtype=_I64)
        for scheme_codes in SCHEME_CODES.values():
            z = np.flatnonzero(in_effect & np.isin(c.z_level, scheme_codes))
            if not len(z):
                continue
            # Per community the last of (start, recorded, level): engine.evaluate.standing_zones.
            keys = (c.z_level[z], c.z_recorded_at[z], c.z_start[z], c.z_community[z])
            order = z[np.lexsort(keys)]
            communities = c.z_community[order]
            latest = order[np.r_[communities[1:] != communities[:-1], True]]
            codes = c.z_community[latest]
            # Per distinct community of residence, then out to people.
            at = np.minimum(np.searchsorted(codes, homes.codes), len(codes) - 1)
            found = codes[at] == homes.codes
            wanted = np.isin(c.z_level[latest], wanted_codes)
            first = np.minimum(first, np.where(found & wanted[at], c.z_start[latest][at], NEVER))
        start_per_person = first[homes.index]
        fired = resident & (start_per_person < NEVER)
        return fired, np.where(fired, np.maximum(start_per_person, start), NEVER)
    raise ValueError(trigger.type)


def _clear_times(
    clear: Clear, c: Columns, t: _Testing, fired: np.ndarray, since: np.ndarray
) -> np.ndarray:
    """Per person the trigger holds for, when the clear condition became true (else NEVER)."""
    n = len(fired)
    if clear.type == "expiry":
        if clear.at is not None:
            return np.full(n, micros(clear.at), dtype=_I64)
        hours = int(clear.hours * 3600 * 1_000_000)
        return np.where(since < NEVER, since + hours, NEVER)
    rows = t.known & (t.result == NEGATIVE) & fired[c.s_person]
    rows = np.flatnonzero(rows)
    people = c.s_person[rows]
    sampled = c.s_sampled_at[rows]
    threshold = since[people] if clear.after_trigger else micros(clear.after)
    keep = sampled >= threshold
    rows, people, sampled = rows[keep], people[keep], sampled[keep]
    reported = t.reported_at[rows]
    out = np.full(n, NEVER, dtype=_I64)
    if not len(rows):
        return out
    if clear.type == "negative_after":
        np.minimum.at(out, people, reported)
        return out
    days = (sampled + LOCAL_OFFSET) // DAY
    # The first report per (person, day), then the k-th smallest of those per person.
    order = np.lexsort((reported, days, people))
    people, days, reported = people[order], days[order], reported[order]
    first_of_day = np.r_[True, (people[1:] != people[:-1]) | (days[1:] != days[:-1])]
    people, reported = people[first_of_day], reported[first_of_day]
    order = np.lexsort((reported, people))
    people, reported = people[order], reported[order]
    starts = np.r_[0, np.flatnonzero(people[1:] != people[:-1]) + 1]
    counts = np.diff(np.r_[starts, len(people)])
    enough = counts >= clear.days
    out[people[starts[enough]]] = reported[starts[enough] + clear.days - 1]
    return out


def _exempted(policy: Policy, c: Columns, now: int, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    if len(c.e_person):
        version = c.e_version
        e = (
            (c.e_policy == policy.id)
            & ((version == 0) | ((version >= policy.first_version) & (version <= policy.version)))
            & (c.e_approved_at <= now)
            & (c.e_revoked_at > now)
        )
        out[c.e_person[e]] = True
    return out


def columns_from_people(people: list) -> Columns:
    """Columns from per-person facts (engine.evaluate.PersonFacts); person i is people[i].
    Slow and simple: for tests and small populations, not for the database loader."""
    tubes: dict[str, int] = {}
    derived = {"community_codes", "community_index"}
    rows: dict[str, list] = {
        name: [] for name in Columns.__dataclass_fields__ if name not in derived
    }

    def tube(barcode: str) -> int:
        return tubes.setdefault(barcode, len(tubes))

    for i, p in enumerate(people):
        rows["community"].append(int(p.community_code))
        rows["registered_at"].append(micros(p.registered_at))
        for s in p.samplings:
            for name, value in (
                ("s_id", s.id),
                ("s_person", i),
                ("s_tube", tube(s.tube)),
                ("s_pool", s.pool_size),
                ("s_sampled_at", micros(s.sampled_at)),
                ("s_recorded_at", micros(s.recorded_at)),
                ("s_superseded_at", micros(s.superseded_at)),
            ):
                rows[name].append(value)
        for r in p.results:
            for name, value in (
                ("r_id", r.id),
                ("r_tube", tube(r.tube)),
                ("r_result", OUTCOME_CODES[r.result]),
                ("r_reported_at", micros(r.reported_at)),
                ("r_recorded_at", micros(r.recorded_at)),
                ("r_supersedes", -1 if r.supersedes is None else r.supersedes),
            ):
                rows[name].append(value)
        for x in p.presences:
            for name, value in (
                ("p_person", i),
                ("p_region", int(x.region_code)),
                ("p_region_digits", len(x.region_code)),
                ("p_start", micros(x.start_at)),
                ("p_end", micros(x.end_at)),
                ("p_recorded_at", micros(x.recorded_at)),
            ):
                rows[name].append(value)
        for d in p.designations:
            for name, value in (
                ("d_person", i),
                ("d_kind", KIND_CODES[d.kind]),
                ("d_start", micros(d.start_at)),
                ("d_end", micros(d.end_at)),
                ("d_recorded_at", micros(d.recorded_at)),
                ("d_superseded_at", micros(d.superseded_at)),
            ):
                rows[name].append(value)
        for z in p.zones:
            for name, value in (
                ("z_community", int(p.community_code)),
                ("z_level", LEVEL_CODES[z.level]),
                ("z_start", micros(z.start_at)),
                ("z_recorded_at", micros(z.recorded_at)),
                ("z_end", micros(z.end_at)),
            ):
                rows[name].append(value)
        for r in p.former_residences:
            for name, value in (
                ("v_person", i),
                ("v_community", int(r.community_code)),
                ("v_until", micros(r.until)),
            ):
                rows[name].append(value)
            for z in r.zones:
                for name, value in (
                    ("z_community", int(r.community_code)),
                    ("z_level", LEVEL_CODES[z.level]),
                    ("z_start", micros(z.start_at)),
                    ("z_recorded_at", micros(z.recorded_at)),
                    ("z_end", micros(z.end_at)),
                ):
                    rows[name].append(value)
        for e in p.exemptions:
            for name, value in (
                ("e_person", i),
                ("e_policy", e.policy_id),
                ("e_approved_at", micros(e.approved_at)),
                ("e_revoked_at", micros(e.revoked_at)),
                ("e_version", e.version or 0),
            ):
                rows[name].append(value)
    arrays = {
        name: np.array(values, dtype=object if name == "e_policy" else _I64)
        for name, values in rows.items()
    }
    return Columns(**arrays)
