"""Contacts and presence in the demo: close contacts (密接) near each positive, secondary
contacts (次密接) near those, and people seen in another district (在场) — and their files."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fangkong.demo import names
from fangkong.demo.columns import DAY, HOUR, local_midnight, pick, table, time_text
from fangkong.demo.geography import Geography
from fangkong.demo.people import People
from fangkong.demo.rounds import uniform

DESIGNATION_COLUMNS = ("身份证号", "判定类别", "起始时间", "截止时间", "判定单位")
PRESENCE_COLUMNS = ("身份证号", "区域代码", "开始时间", "结束时间", "来源")
PRESENCE_SHARE = 0.02


def _neighbours(rng, source: np.ndarray, mean: float, least: int, reach: int, n: int):
    """People living near each of `source` (their neighbours in community order)."""
    k = least + rng.poisson(mean, len(source))
    origin = np.repeat(np.arange(len(source)), k)
    step = rng.integers(1, reach, len(origin)) * np.where(rng.random(len(origin)) < 0.5, -1, 1)
    return origin, np.clip(source[origin] + step, 0, n - 1)


def first_each(person: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((start, person))
    person, start = person[order], start[order]
    keep = np.r_[True, person[1:] != person[:-1]] if len(person) else np.zeros(0, bool)
    return person[keep], start[keep]


def contacts(rng, people: People, positives: np.ndarray, found: np.ndarray):
    """Close contacts (密接) of each positive and secondary contacts (次密接) of those."""
    n = len(people)
    excluded = np.zeros(n, bool)
    excluded[positives] = True
    origin, close = _neighbours(rng, positives, 5, 3, 40, n)
    start = found[origin] + uniform(rng, 1 * HOUR, 12 * HOUR, len(origin))
    keep = ~excluded[close]
    close, start = first_each(close[keep], start[keep] // 60 * 60)
    excluded[close] = True
    origin, secondary = _neighbours(rng, close, 2, 1, 60, n)
    start2 = start[origin] + uniform(rng, 2 * HOUR, 12 * HOUR, len(origin))
    keep = ~excluded[secondary]
    secondary, start2 = first_each(secondary[keep], start2[keep] // 60 * 60)
    return close, start, secondary, start2


def designations_table(
    people: People,
    geo: Geography,
    close: tuple[np.ndarray, np.ndarray],
    secondary: tuple[np.ndarray, np.ndarray],
    until: int | None,
) -> pa.Table:
    """The designations file: (people, start) of close and secondary contacts, for 14 and 7
    days, by their district's CDC."""
    kind = np.r_[np.zeros(len(close[0]), np.int64), np.ones(len(secondary[0]), np.int64)]
    person = np.r_[close[0], secondary[0]]
    begin = np.r_[close[1], secondary[1]]
    end = begin + np.where(kind == 0, 14 * DAY, 7 * DAY)
    open_ended = np.zeros(len(kind), bool)
    if until is not None:
        keep = begin <= until
        kind, person, begin, end = kind[keep], person[keep], begin[keep], end[keep]
        # Ingestion takes no time more than a day after the moment of loading, a planned end
        # included: loaded "as of" a past moment, a designation still running has no end yet.
        open_ended = end > until + DAY - 60
    cdc = [f"{name}疾病预防控制中心" for name in geo.county_names]
    return table(
        DESIGNATION_COLUMNS,
        [
            people.id_number.take(pa.array(person, pa.int64())),
            pick(("密接", "次密接"), kind),
            time_text(begin),
            pc.if_else(pa.array(open_ended), "", time_text(end)),
            pick(cdc, people.county[person]),
        ],
    )


def presence_table(rng, people: People, geo: Geography, until: int | None) -> pa.Table:
    """The presence file: a few people seen for a few hours in a community of another
    district, between 18 and 25 April, as ended by `until`."""
    n = len(people)
    seen = np.flatnonzero(rng.random(n) < PRESENCE_SHARE)
    counties = len(geo.county_codes)
    elsewhere = (people.county[seen] + rng.integers(1, counties, len(seen))) % counties
    place = np.array([geo.county_communities[c][0] for c in range(counties)])
    spread = np.array([len(c) for c in geo.county_communities])
    community = place[elsewhere] + (rng.random(len(seen)) * spread[elsewhere]).astype(np.int64)
    begin = local_midnight(dt.date(2022, 4, 18)) + rng.integers(0, 7 * DAY, len(seen))
    begin = begin // 60 * 60
    end = begin + rng.integers(1 * HOUR, 36 * HOUR, len(seen)) // 60 * 60
    if until is not None:
        keep = end <= until
        seen, community, begin, end = seen[keep], community[keep], begin[keep], end[keep]
    return table(
        PRESENCE_COLUMNS,
        [
            people.id_number.take(pa.array(seen, pa.int64())),
            pick(geo.community_codes, community),
            time_text(begin),
            time_text(end),
            pick(names.PRESENCE_SOURCES, rng.integers(0, len(names.PRESENCE_SOURCES), len(seen))),
        ],
    )
