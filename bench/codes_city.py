"""The synthetic 长春 of the code-engine benchmark, as numpy columns: residents in the real
level-5 communities in census proportion, ~2.7 samplings a person over 20–24 April 2022 in
10-in-1, 20-in-1 and single tubes, results per tube, pooled positives with single-tube retests,
invalid tubes sampled again, corrections, presence records, contacts and exemptions — built
straight as the `Columns` the batch kernel reads, saved as .npy files for the children.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from common import ROOT

from fangkong.demo.people import allocate

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIXTURES = ROOT / "fangkong" / "policies" / "fixtures"
SEED_FILE = FIXTURES / "cc-2022-0420-untested.toml"
PLACES = ROOT / "fangkong" / "places" / "data"

# The kernel is evaluated as of this moment: 24 April's results partly reported.
WHEN = datetime(2022, 4, 25, 8, 0, tzinfo=SHANGHAI)
# The database parts: the demo loaded, and the seed published, as of the rule's start.
T0 = datetime(2022, 4, 23, 0, 0, tzinfo=SHANGHAI)
STANDARD_PUBLISHED = datetime(2022, 3, 1, tzinfo=SHANGHAI)

US = 1_000_000
MINUTE = 60 * US
HOUR = 3600 * US
DAY = 24 * HOUR


def us(value: datetime) -> int:
    from fangkong.engine.batch import micros

    return micros(value)


def local_us(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> int:
    return us(datetime(y, m, d, h, mi, tzinfo=SHANGHAI))


NEVER_TESTED = 0.04  # share of people who took part in no round at all
SINGLE_TUBE = 0.05  # children and the old, tested one to a tube
TWENTY_POOL = 0.03  # share of (community, day) pairs that used 20-in-1 tubes
ROUNDS = ((20, 0.82), (21, 0.82), (22, 0.82), (24, 0.35))  # April day, share of testers
POSITIVE_POOLS = 0.0005
INVALID_TUBES = 0.0003
POSITIVE_SINGLES = 0.0002
PRESENCE = 0.02
EXEMPTIONS = 2000
SAMPLING_CORRECTIONS = (4000, 1000)  # known by WHEN, recorded after it
RESULT_CORRECTIONS = 300


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def _uniform(rng, low: int, high: int, n: int) -> np.ndarray:
    return low + (rng.random(n) * (high - low)).astype(np.int64)


class _Facts:
    def __init__(self) -> None:
        self.s: dict[str, list[np.ndarray]] = defaultdict(list)
        self.r: dict[str, list[np.ndarray]] = defaultdict(list)
        self.tubes = 0
        self.positives: list[tuple[np.ndarray, np.ndarray]] = []  # (person, reported)

    def new_tubes(self, count: int) -> np.ndarray:
        ids = self.tubes + np.arange(count, dtype=np.int64)
        self.tubes += count
        return ids

    def sample(self, person, tube, pool, sampled, recorded) -> None:
        for name, value in (
            ("person", person),
            ("tube", tube),
            ("pool", pool),
            ("sampled", sampled),
            ("recorded", recorded),
        ):
            self.s[name].append(np.asarray(value, np.int64))

    def report(self, tube, result, reported, recorded) -> None:
        for name, value in (
            ("tube", tube),
            ("result", result),
            ("reported", reported),
            ("recorded", recorded),
        ):
            self.r[name].append(np.asarray(value, np.int64))


def _round(rng, facts: _Facts, who: np.ndarray, comm: np.ndarray, single: np.ndarray, day: int):
    """Sample `who` on 2022-04-`day` in tubes per (community, size); report, retest, resample."""
    m = len(who)
    twenty = rng.random(int(comm.max()) + 1) < TWENTY_POOL
    size_code = np.where(single[who], 0, np.where(twenty[comm[who]], 2, 1))
    order = np.argsort(comm[who] * 3 + size_code, kind="stable")
    who, size_code = who[order], size_code[order]
    key = comm[who] * 3 + size_code
    capacity = np.array([1, 10, 20])[size_code]
    position = np.arange(m)
    starts = np.r_[True, key[1:] != key[:-1]]
    place = (position - np.maximum.accumulate(np.where(starts, position, 0))) % capacity
    local = np.cumsum(place == 0) - 1
    t = int(local[-1]) + 1
    tube_capacity = capacity[place == 0]
    members = np.bincount(local, minlength=t)
    opened = local_us(2022, 4, day, 7, 30) + _uniform(rng, 0, int(10.5 * HOUR), t)
    sampled = opened[local] + place * 45 * US + _uniform(rng, 0, 30 * US, m)
    tubes = facts.new_tubes(t)
    facts.sample(who, tubes[local], capacity, sampled, sampled + _uniform(rng, MINUTE, HOUR, m))

    closed = opened + members * 45 * US + 30 * US
    reported = closed + _uniform(rng, 12 * HOUR, 24 * HOUR, t)
    outcome = np.zeros(t, np.int64)
    pooled = tube_capacity > 1
    positive_pool = pooled & (rng.random(t) < POSITIVE_POOLS)
    outcome[positive_pool] = 1
    invalid = (outcome == 0) & (rng.random(t) < INVALID_TUBES)
    outcome[invalid] = 2
    outcome[~pooled & (outcome == 0) & (rng.random(t) < POSITIVE_SINGLES)] = 1
    facts.report(tubes, outcome, reported, reported + _uniform(rng, MINUTE, 30 * MINUTE, t))
    hit = ~pooled & (outcome == 1)
    facts.positives.append((who[hit[local]], reported[local[hit[local]]]))

    # Every member of a positive pool: a single tube a few hours after the report; the first
    # member of the pool is the positive one.
    retest = np.flatnonzero(positive_pool[local])
    if len(retest):
        when = reported[local[retest]] + _uniform(rng, HOUR, 6 * HOUR, len(retest))
        new = facts.new_tubes(len(retest))
        facts.sample(who[retest], new, np.ones(len(retest)), when, when + 10 * MINUTE)
        result = (place[retest] == 0).astype(np.int64)
        back = when + _uniform(rng, 4 * HOUR, 10 * HOUR, len(retest))
        facts.report(new, result, back, back + 5 * MINUTE)
        facts.positives.append((who[retest][result == 1], back[result == 1]))

    # Nine in ten invalid tubes: their members sampled again together, negative.
    again_tube = invalid & (rng.random(t) < 0.9)
    again = np.flatnonzero(again_tube[local])
    if len(again):
        redo = np.flatnonzero(again_tube)
        new = facts.new_tubes(len(redo))
        new_of = np.full(t, -1, np.int64)
        new_of[redo] = new
        start = reported + _uniform(rng, 2 * HOUR, 8 * HOUR, t)
        when = start[local[again]] + place[again] * 45 * US
        facts.sample(who[again], new_of[local[again]], capacity[again], when, when + HOUR)
        back = (
            start[redo] + members[redo] * 45 * US + _uniform(rng, 12 * HOUR, 24 * HOUR, len(redo))
        )
        facts.report(new, np.zeros(len(redo)), back, back + 10 * MINUTE)
    return t, int(positive_pool.sum()), int(invalid.sum()), len(retest)


def synthesise(n: int, seed: int = 20220421) -> tuple[dict[str, np.ndarray], dict]:
    """The columns of a synthetic 长春 of `n` residents (plus `county` per person)."""
    from fangkong.engine.batch import NEVER

    rng = np.random.default_rng(seed)
    divisions = _csv(PLACES / "changchun_divisions.csv")
    census = {r["code"]: int(r["population"]) for r in _csv(PLACES / "changchun_census_2020.csv")}
    codes = np.array(sorted(int(r["code"]) for r in divisions if r["level"] == "5"), np.int64)
    counties = sorted({int(c) // 10**6 for c in codes})
    per_community = np.zeros(len(codes), np.int64)
    county_people = allocate(n, np.array([census[str(c)] for c in counties], np.float64))
    for county, people in zip(counties, county_people, strict=True):
        members = np.flatnonzero(codes // 10**6 == county)
        per_community[members] = allocate(int(people), rng.lognormal(0, 0.6, len(members)))
    comm = np.repeat(np.arange(len(codes)), per_community)  # people numbered by community
    community = codes[comm]
    registered = np.full(n, local_us(2021, 1, 1), np.int64)
    registered[rng.random(n) < 0.001] = local_us(2022, 4, 26)  # registered after WHEN
    tester = rng.random(n) >= NEVER_TESTED
    single = rng.random(n) < SINGLE_TUBE

    facts = _Facts()
    stats: dict[str, int] = defaultdict(int)
    for day, share in ROUNDS:
        who = np.flatnonzero(tester & (rng.random(n) < share))
        tubes, positive_pools, invalid, retests = _round(rng, facts, who, comm, single, day)
        stats["round_samplings"] += len(who)
        stats["tubes"] += tubes
        stats["positive_pools"] += positive_pools
        stats["invalid_tubes"] += invalid
        stats["retests"] += retests
    s = {k: np.concatenate(v) for k, v in facts.s.items()}
    r = {k: np.concatenate(v) for k, v in facts.r.items()}
    superseded = np.full(len(s["person"]), NEVER, np.int64)

    # Corrections of samplings (扫错码): the same tube and time, another person.
    known, late = SAMPLING_CORRECTIONS
    rows = rng.choice(int(stats["round_samplings"] * 0.75), known + late, replace=False)
    at = np.r_[np.full(known, local_us(2022, 4, 23, 12)), np.full(late, local_us(2022, 4, 26, 12))]
    superseded[rows] = at
    s = {
        "person": np.r_[s["person"], rng.integers(0, n, len(rows))],
        "tube": np.r_[s["tube"], s["tube"][rows]],
        "pool": np.r_[s["pool"], s["pool"][rows]],
        "sampled": np.r_[s["sampled"], s["sampled"][rows]],
        "recorded": np.r_[s["recorded"], at],
    }
    superseded = np.r_[superseded, np.full(len(rows), NEVER, np.int64)]

    # Corrections of results: a negative pool found invalid after all.
    r_id = np.arange(1, len(r["tube"]) + 1, dtype=np.int64)
    supersedes = np.full(len(r_id), -1, np.int64)
    candidates = np.flatnonzero(r["result"] == 0)
    fixed = rng.choice(candidates, RESULT_CORRECTIONS, replace=False)
    later = r["reported"][fixed] + 2 * HOUR
    r = {
        "tube": np.r_[r["tube"], r["tube"][fixed]],
        "result": np.r_[r["result"], np.full(len(fixed), 2)],
        "reported": np.r_[r["reported"], later],
        "recorded": np.r_[r["recorded"], later + 10 * MINUTE],
    }
    r_id = np.r_[r_id, np.arange(len(r_id) + 1, len(r_id) + 1 + len(fixed))]
    supersedes = np.r_[supersedes, r_id[fixed]]

    # Presence records (在场): 2 % of people seen in some community, street or county.
    seen = np.flatnonzero(rng.random(n) < PRESENCE)
    where = codes[rng.integers(0, len(codes), len(seen))]
    digits = np.full(len(seen), 12, np.int64)
    kind = rng.random(len(seen))
    where = np.where(kind < 0.10, where // 10**6, np.where(kind < 0.15, where // 1000, where))
    digits = np.where(kind < 0.10, 6, np.where(kind < 0.15, 9, digits))
    p_start = local_us(2022, 4, 18) + _uniform(rng, 0, 7 * DAY, len(seen))
    p_end = p_start + _uniform(rng, HOUR, 36 * HOUR, len(seen))

    # Contacts: close contacts near each positive (people numbers are by community), and their
    # secondary contacts.
    pos_person = np.concatenate([p for p, _ in facts.positives])
    pos_at = np.concatenate([t for _, t in facts.positives])
    k = 3 + rng.poisson(5, len(pos_person))
    origin = np.repeat(np.arange(len(pos_person)), k)
    close = np.clip(pos_person[origin] + rng.integers(-40, 41, len(origin)), 0, n - 1)
    close_start = pos_at[origin] + _uniform(rng, HOUR, 12 * HOUR, len(origin))
    k2 = 1 + rng.poisson(2, len(close))
    origin2 = np.repeat(np.arange(len(close)), k2)
    secondary = np.clip(close[origin2] + rng.integers(-60, 61, len(origin2)), 0, n - 1)
    secondary_start = close_start[origin2] + _uniform(rng, 2 * HOUR, 12 * HOUR, len(origin2))
    d_start = np.r_[close_start, secondary_start]
    d_kind = np.r_[np.zeros(len(close), np.int64), np.ones(len(secondary), np.int64)]

    # Exemptions from the seed rule (employer batch clearance): people never tested; a few
    # revoked before WHEN.
    e_person = rng.choice(np.flatnonzero(~tester), EXEMPTIONS, replace=False)
    e_revoked = np.full(EXEMPTIONS, NEVER, np.int64)
    e_revoked[: EXEMPTIONS // 20] = local_us(2022, 4, 25, 1)

    out = {
        "community": community,
        "registered_at": registered,
        "county": community // 10**6,
        "s_id": np.arange(1, len(s["person"]) + 1, dtype=np.int64),
        "s_person": s["person"],
        "s_tube": s["tube"],
        "s_pool": s["pool"],
        "s_sampled_at": s["sampled"],
        "s_recorded_at": s["recorded"],
        "s_superseded_at": superseded,
        "r_id": r_id,
        "r_tube": r["tube"],
        "r_result": r["result"],
        "r_reported_at": r["reported"],
        "r_recorded_at": r["recorded"],
        "r_supersedes": supersedes,
        "p_person": seen,
        "p_region": where,
        "p_region_digits": digits,
        "p_start": p_start,
        "p_end": p_end,
        "p_recorded_at": p_end + _uniform(rng, 0, 2 * HOUR, len(seen)),
        "d_person": np.r_[close, secondary],
        "d_kind": d_kind,
        "d_start": d_start,
        "d_end": d_start + np.where(d_kind == 0, 14 * DAY, 7 * DAY),
        "d_recorded_at": d_start + HOUR,
        "d_superseded_at": np.full(len(d_start), NEVER, np.int64),
        "e_person": e_person,
        "e_policy": np.full(EXEMPTIONS, "cc-2022-0420-untested"),
        "e_approved_at": np.full(EXEMPTIONS, local_us(2022, 4, 24, 10)),
        "e_revoked_at": e_revoked,
        "e_version": np.zeros(EXEMPTIONS, np.int64),  # every version of the seed rule
    }
    stats.update(
        people=n,
        communities=int((per_community > 0).sum()),
        samplings=len(out["s_id"]),
        sampling_corrections=len(rows),
        results=len(r_id),
        result_corrections=len(fixed),
        never_tested=int((~tester).sum()),
        single_positives=len(pos_person),
        presences=len(seen),
        designations=len(d_start),
        exemptions=EXEMPTIONS,
        tubes_total=facts.tubes,
    )
    return out, dict(stats)


def save(arrays: dict[str, np.ndarray], folder: Path) -> None:
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", array)


def load(folder: Path) -> dict[str, np.ndarray]:
    return {p.stem: np.load(p) for p in sorted(folder.glob("*.npy")) if not p.stem.startswith("_")}


def columns_of(arrays: dict[str, np.ndarray], *, community_index: bool = True):
    """Columns as `load_population` hands them over (the distinct communities included)."""
    from fangkong.engine.batch import Columns

    fields = {k: v for k, v in arrays.items() if k in Columns.__dataclass_fields__}
    fields["e_policy"] = arrays["e_policy"].astype(object)
    columns = Columns(**fields)
    if community_index:
        columns.community_codes, columns.community_index = np.unique(
            columns.community, return_inverse=True
        )
    return columns


def policies(seed_published: datetime | None) -> tuple:
    """(the seed rule, the standard rules), parsed from the shipped fixtures."""
    import tomllib

    from fangkong.engine.policies import parse_policy

    seed = parse_policy(
        tomllib.loads(SEED_FILE.read_text()), version=1, published_at=seed_published
    )
    standard = [
        parse_policy(tomllib.loads(p.read_text()), version=1, published_at=STANDARD_PUBLISHED)
        for p in sorted(FIXTURES.glob("std-*.toml"))
    ]
    return seed, standard
