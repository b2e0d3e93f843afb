"""The testing rounds of the demo: people sampled at their street's sites in pooled tubes, the
labs' results, single-tube retests of positive pools, invalid tubes sampled again — and the
samplings and results files they make."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from fangkong.demo import names
from fangkong.demo.columns import (
    DAY,
    HOUR,
    LOCAL,
    const,
    date_parts,
    digits,
    fixed_text,
    local_midnight,
    pick,
    table,
    time_text,
)
from fangkong.demo.geography import SITES_PER_STREET, Geography
from fangkong.demo.people import People

SAMPLING_COLUMNS = ("身份证号", "试管条码", "混采人数", "采样点编码", "采样时间")
RESULT_COLUMNS = ("试管条码", "检测结果", "检测机构", "报告时间")
OUTCOME_TEXT = ("阴性", "阳性", "无效")
NEGATIVE, POSITIVE, INVALID = 0, 1, 2
SINGLE_TUBE_SHARE = 0.6  # of children under 6 and people 80 or older
TWENTY_SITE_DAYS = 0.03  # share of (site, day) pairs that used 20-in-1 tubes


@dataclass(frozen=True)
class Round:
    """One round of testing: the days, how people spread over them, what the labs find."""

    name: str
    days: tuple[dt.date, ...]
    day_weights: tuple[float, ...]
    positive_tubes: float  # share of pooled tubes that test positive
    min_positive_tubes: int  # at least this many (so a small demo shows retests)
    invalid_tubes: float
    min_invalid_tubes: int
    positive_singles: float  # share of single tubes positive


ROUND_1 = Round(
    "4月20日至22日全员核酸检测",
    (dt.date(2022, 4, 20), dt.date(2022, 4, 21), dt.date(2022, 4, 22)),
    (0.50, 0.32, 0.18),
    positive_tubes=0.0005,
    min_positive_tubes=2,
    invalid_tubes=0.0003,
    min_invalid_tubes=1,
    positive_singles=0.0002,
)
ROUND_2 = Round(
    "4月24日核酸检测",
    (dt.date(2022, 4, 24),),
    (1.0,),
    positive_tubes=0.0002,
    min_positive_tubes=0,
    invalid_tubes=0.0002,
    min_invalid_tubes=0,
    positive_singles=0.0,
)


class Facts:
    """The samplings, tubes and results of one block, gathered as arrays."""

    def __init__(self) -> None:
        self.sampling: dict[str, list[np.ndarray]] = {
            "person": [],
            "tube": [],
            "site": [],
            "time": [],
        }
        self.result: dict[str, list[np.ndarray]] = {
            "tube": [],
            "outcome": [],
            "lab": [],
            "time": [],
        }
        self.tube_capacity: list[np.ndarray] = []
        self.tube_time: list[np.ndarray] = []
        self.tubes = 0

    def new_tubes(self, capacity: np.ndarray, first_time: np.ndarray) -> np.ndarray:
        ids = self.tubes + np.arange(len(capacity), dtype=np.int64)
        self.tubes += len(capacity)
        self.tube_capacity.append(np.asarray(capacity, np.int64))
        self.tube_time.append(np.asarray(first_time, np.int64))
        return ids

    def sample(self, person, tube, site, time) -> None:
        for name, values in zip(
            ("person", "tube", "site", "time"), (person, tube, site, time), strict=True
        ):
            self.sampling[name].append(np.asarray(values, np.int64))

    def report(self, tube, outcome, lab, time) -> None:
        for name, values in zip(
            ("tube", "outcome", "lab", "time"), (tube, outcome, lab, time), strict=True
        ):
            self.result[name].append(np.asarray(values, np.int64))

    @staticmethod
    def joined(parts: dict[str, list[np.ndarray]]) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in parts.items()}


def _lab_of_site(site: np.ndarray) -> np.ndarray:
    return (site * 7 + 3) % len(names.LABS)


def uniform(rng, low: float, high: float, n: int) -> np.ndarray:
    return (low + rng.random(n) * (high - low)).astype(np.int64)


def _pools(key: np.ndarray, capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For samplings sorted by `key` (same key = same site, day and tube size): the tube number
    (0, 1, … over all keys) and each one's place in its tube."""
    n = len(key)
    position = np.arange(n)
    starts = np.r_[True, key[1:] != key[:-1]] if n else np.zeros(0, bool)
    place = (position - np.maximum.accumulate(np.where(starts, position, 0))) % capacity
    return np.cumsum(place == 0) - 1, place


def _choose(rng, candidates: np.ndarray, share: float, minimum: int) -> np.ndarray:
    count = min(len(candidates), max(minimum, round(share * len(candidates))))
    return rng.choice(candidates, size=count, replace=False) if count else candidates[:0]


def run_round(
    rng, rnd: Round, geo: Geography, people: People, who: np.ndarray, facts: Facts, stats: dict
) -> tuple[np.ndarray, np.ndarray]:
    """Sample `who` (people numbers) in pooled tubes, report the results, retest the members of
    positive pools one by one and resample invalid tubes. Returns the people found positive in
    a single tube and when the result was reported."""
    m = len(who)
    days = len(rnd.days)
    street = people.street[who]
    # A street opens as many of its sites as its people need (a small demo city would
    # otherwise leave most tubes half empty); people go to their community's site, or to
    # another one of their street.
    crowd = np.bincount(street, minlength=len(geo.street_codes))
    opened_sites = np.clip(np.ceil(crowd / (500 * days)), 1, SITES_PER_STREET).astype(np.int64)
    rank = geo.community_site[people.community[who]] - geo.street_first_site[street]
    elsewhere = rng.random(m) < 0.15
    rank = np.where(elsewhere, rng.integers(0, SITES_PER_STREET, m), rank) % opened_sites[street]
    site = geo.street_first_site[street] + rank
    day = rng.choice(days, size=m, p=np.array(rnd.day_weights) / sum(rnd.day_weights))
    age = people.age[who]
    single = ((age < 6) | (age >= 80)) & (rng.random(m) < SINGLE_TUBE_SHARE)
    twenty = rng.random(geo.site_count * days) < TWENTY_SITE_DAYS
    capacity = np.where(single, 1, np.where(twenty[site * days + day], 20, 10))
    order = np.lexsort((rng.random(m), capacity, day, site))
    who, site, day, capacity = who[order], site[order], day[order], capacity[order]
    tube_local, place = _pools((site * days + day) * 32 + capacity, capacity)

    first = np.r_[True, tube_local[1:] != tube_local[:-1]] if m else np.zeros(0, bool)
    tube_site, tube_day, tube_capacity = site[first], day[first], capacity[first]
    t = len(tube_site)
    midnights = np.array([local_midnight(d) for d in rnd.days], np.int64)
    opened = midnights[tube_day] + int(7.5 * HOUR) + uniform(rng, 0, 10.5 * HOUR, t)
    tube_ids = facts.new_tubes(tube_capacity, opened)
    members = np.bincount(tube_local, minlength=t)
    time = opened[tube_local] + place * 45 + rng.integers(0, 30, m)
    facts.sample(who, tube_ids[tube_local], site, time)

    # Results, 12–24 h after the tube was closed.
    closed = opened + members * 45 + 30
    reported = closed + uniform(rng, 12 * HOUR, 24 * HOUR, t)
    lab = _lab_of_site(tube_site)
    outcome = np.full(t, NEGATIVE, np.int64)
    members_needed = min(5, int(members.max(initial=0)))
    pooled = np.flatnonzero((tube_capacity > 1) & (members >= members_needed))
    positive_pools = _choose(rng, pooled, rnd.positive_tubes, rnd.min_positive_tubes)
    outcome[positive_pools] = POSITIVE
    rest = np.flatnonzero(outcome == NEGATIVE)
    invalid = _choose(rng, rest, rnd.invalid_tubes, rnd.min_invalid_tubes)
    outcome[invalid] = INVALID
    singles = np.flatnonzero((tube_capacity == 1) & (outcome == NEGATIVE))
    outcome[singles[rng.random(len(singles)) < rnd.positive_singles]] = POSITIVE
    facts.report(tube_ids, outcome, lab, reported)

    single_positive = np.isin(
        tube_local, np.flatnonzero((tube_capacity == 1) & (outcome == POSITIVE))
    )
    positive_people = [who[single_positive]]
    positive_times = [reported[tube_local[single_positive]]]

    # Members of a positive pool: one single tube each, a few hours after the report; one of
    # them (sometimes two) is the positive.
    retest = np.flatnonzero(np.isin(tube_local, positive_pools))
    if len(retest):
        r = len(retest)
        source = tube_local[retest]
        when = reported[source] + uniform(rng, 1 * HOUR, 6 * HOUR, r)
        new = facts.new_tubes(np.ones(r, np.int64), when)
        facts.sample(who[retest], new, site[retest], when)
        lot = rng.random(r)
        order = np.lexsort((-lot, source))
        rank = _pools(source[order], np.full(r, 10**9))[1]
        two = rng.random(t) < 0.25
        hit = np.zeros(r, bool)
        hit[order] = (rank == 0) | ((rank == 1) & two[source[order]])
        back = when + uniform(rng, 4 * HOUR, 10 * HOUR, r)
        facts.report(new, np.where(hit, POSITIVE, NEGATIVE), lab[source], back)
        positive_people.append(who[retest][hit])
        positive_times.append(back[hit])

    # Members of an invalid tube are sampled again together in a new tube of the same size.
    again = np.flatnonzero(np.isin(tube_local, invalid))
    if len(again):
        start = reported[invalid] + uniform(rng, 2 * HOUR, 8 * HOUR, len(invalid))
        new = facts.new_tubes(tube_capacity[invalid], start)
        slot = np.searchsorted(np.sort(invalid), tube_local[again])
        by_tube = np.argsort(invalid)
        tube_of = by_tube[slot]
        when = start[tube_of] + place[again] * 45
        facts.sample(who[again], new[tube_of], site[again], when)
        back = start + members[invalid] * 45 + uniform(rng, 12 * HOUR, 24 * HOUR, len(invalid))
        facts.report(new, np.full(len(invalid), NEGATIVE), lab[invalid], back)

    stats["samplings"] = stats.get("samplings", 0) + m + len(retest) + len(again)
    stats["tubes"] = stats.get("tubes", 0) + t + len(retest) + len(invalid)
    for size in (1, 10, 20):
        key = f"tubes_{size}"
        stats[key] = stats.get(key, 0) + int((tube_capacity == size).sum())
    stats["positive_pools"] = stats.get("positive_pools", 0) + len(positive_pools)
    stats["retests"] = stats.get("retests", 0) + len(retest)
    stats["invalid_tubes"] = stats.get("invalid_tubes", 0) + len(invalid)
    return np.concatenate(positive_people), np.concatenate(positive_times)


def testing_tables(
    facts: Facts, people: People, geo: Geography, number: int, until: int | None
) -> tuple[pa.Table, pa.Table]:
    """The samplings and results files of block `number`, in time order, up to `until`. Tube
    barcodes carry the day and the block: T + yyyymmdd + block + tube number."""
    tube_capacity = np.concatenate(facts.tube_capacity)
    tube_time = np.concatenate(facts.tube_time)
    y, mo, d = date_parts((tube_time + LOCAL) // DAY)
    t = len(tube_capacity)
    barcodes = fixed_text(
        const("T", t),
        digits(y, 4),
        digits(mo, 2),
        digits(d, 2),
        digits(np.full(t, number), 2),
        digits(np.arange(t), 7),
    )
    sampling = facts.joined(facts.sampling)
    result = facts.joined(facts.result)
    if until is not None:
        sampling = {k: v[sampling["time"] <= until] for k, v in sampling.items()}
        result = {k: v[result["time"] <= until] for k, v in result.items()}
    order = np.argsort(sampling["time"], kind="stable")
    sampling = {k: v[order] for k, v in sampling.items()}
    order = np.argsort(result["time"], kind="stable")
    result = {k: v[order] for k, v in result.items()}
    samplings = table(
        SAMPLING_COLUMNS,
        [
            people.id_number.take(pa.array(sampling["person"])),
            barcodes.take(pa.array(sampling["tube"])),
            pick(
                ["", "1", "", "", "", "", "", "", "", "", "10"] + [""] * 9 + ["20"],
                tube_capacity[sampling["tube"]],
            ),
            pick(geo.site_codes, sampling["site"]),
            time_text(sampling["time"]),
        ],
    )
    results = table(
        RESULT_COLUMNS,
        [
            barcodes.take(pa.array(result["tube"])),
            pick(OUTCOME_TEXT, result["outcome"]),
            pick(names.LABS, result["lab"]),
            time_text(result["time"]),
        ],
    )
    return samplings, results
