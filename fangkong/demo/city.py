"""A synthetic 长春市 in April 2022: residents, two rounds of mass testing, retests, contacts.

Everything is generated with numpy, column at a time, and handed out as Arrow tables whose
columns are the text a real file would carry (Chinese headers, times with "+08:00"). Nothing
here touches the database: `fangkong.demo.build` writes the tables to CSV files and loads them
through ingestion.

The population is made in blocks of at most `BLOCK_ROWS` people. A block is self-contained
(its samplings, tubes, results, contacts and presence records only name its own people), so
memory stays bounded whatever the size of the city, and blocks can be loaded one after another.
Identifiers stay unique across blocks: ID-number sequence numbers are split into one range per
block, phone numbers are a permutation of the person's global number, and tube barcodes carry
the block number.

The scenario follows the press conference of 2022-04-21 (/work/shared/seed): everyone in the
city was to be tested between 20 and 22 April; a small group was sampled without their code
being scanned (their employers clear them in a batch later); a second round followed on
24 April for part of the city.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fangkong.demo import names
from fangkong.engine.id_numbers import CHECK_CHARS, WEIGHTS

BLOCK_ROWS = 1_000_000
MAX_RESIDENTS = 50_000_000  # phone numbers are a permutation of 10^8; ID sequences run out
SITES_PER_STREET = 3
HOUR = 3600
DAY = 86400
LOCAL = 8 * HOUR  # 长春 is UTC+08:00 all year

# The reference day for ages: the first day of the round.
REFERENCE_DATE = dt.date(2022, 4, 20)

# Development zones (220171–220174) are statistical codes, never printed in ID numbers: their
# residents' numbers carry the code of the district the zone was carved out of, as issued by
# that district's public-security bureau.
ID_REGION_OF_ZONE = {
    "220171": "220105",  # 长春经济技术开发区: east of the city, mostly former 二道区 land
    "220172": "220102",  # 长春净月高新技术产业开发区: south-east, former 南关区 land
    "220173": "220104",  # 长春高新技术产业开发区: south-west, former 朝阳区 land
    "220174": "220106",  # 长春汽车经济技术开发区: west, former 绿园区 land
}
# The press conference exempted these four from the yellow-code rule; they test a bit less.
OUTER_COUNTIES = frozenset({"220184", "220182", "220122", "220183"})

# Share of people (among those born while a predecessor code of their county was in force)
# whose ID numbers still carry the historic code (九台市 220181, 公主岭市 220381 …).
HISTORIC_SHARE = 0.2
EMPLOYED_SHARE = 0.30  # of adults aged 18–64
UNSCANNED_SHARE = 0.02  # sampled without scanning: no sampling row, all have an employer
SCANNED_SHARE = 0.91
SCANNED_SHARE_OUTER = 0.86
SINGLE_TUBE_SHARE = 0.6  # of children under 6 and people 80 or older
TWENTY_SITE_DAYS = 0.03  # share of (site, day) pairs that used 20-in-1 tubes
ROUND2_SHARE = 0.60
PRESENCE_SHARE = 0.02

# 5-year age bands 0–4 … 90–94, per cent: roughly 长春's 2020 census (11% under 15, 23% 60+).
AGE_BANDS = np.array(
    [3.2, 4.0, 4.0, 3.8, 5.5, 6.5, 8.5, 7.6, 7.0, 8.3, 9.3, 8.8, 7.2, 6.6, 4.2, 2.6, 1.7, 0.9,
     0.3]
)
PHONE_PREFIXES = np.array(
    [30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 45, 47, 50, 51, 52, 53, 55, 56, 57, 58, 59, 66,
     73, 75, 76, 77, 78, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 91, 98, 99]
)
PHONE_MULTIPLIER = 38_195_467  # coprime with 10^8: a bijection of the last 8 digits
PHONE_OFFSET = 20_220_421


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
    positive_tubes=0.0005, min_positive_tubes=1, invalid_tubes=0.0003, min_invalid_tubes=1,
    positive_singles=0.0002,
)
ROUND_2 = Round(
    "4月24日核酸检测",
    (dt.date(2022, 4, 24),),
    (1.0,),
    positive_tubes=0.0002, min_positive_tubes=0, invalid_tubes=0.0002, min_invalid_tubes=0,
    positive_singles=0.0,
)

RESIDENT_COLUMNS = ("身份证号", "姓名", "手机号", "社区代码", "工作单位")
SAMPLING_COLUMNS = ("身份证号", "试管条码", "混采人数", "采样点编码", "采样时间")
RESULT_COLUMNS = ("试管条码", "检测结果", "检测机构", "报告时间")
DESIGNATION_COLUMNS = ("身份证号", "判定类别", "起始时间", "截止时间", "判定单位")
PRESENCE_COLUMNS = ("身份证号", "区域代码", "开始时间", "结束时间", "来源")
OUTCOME_TEXT = ("阴性", "阳性", "无效")
NEGATIVE, POSITIVE, INVALID = 0, 1, 2


# -- geography --------------------------------------------------------------------------------


@dataclass
class Geography:
    """The current divisions of 长春市 and the testing sites of the demo, as arrays."""

    county_codes: list[str]
    county_names: list[str]
    county_population: np.ndarray
    county_id_region: np.ndarray  # the 6-digit code ID numbers of the county's people carry
    county_outer: np.ndarray
    county_communities: list[np.ndarray]
    community_codes: list[str]
    community_county: np.ndarray
    community_street: np.ndarray
    community_site: np.ndarray  # the site that serves each community
    street_codes: list[str]
    street_names: list[str]
    street_county: np.ndarray
    street_first_site: np.ndarray
    site_codes: list[str]
    site_names: list[str]
    site_community: list[str]
    site_county: list[str]
    # per county: (code, first issue year, last issue year) of its historic codes
    historic: list[list[tuple[int, int, int]]] = field(default_factory=list)

    @property
    def site_count(self) -> int:
        return len(self.site_codes)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def load_geography() -> Geography:
    from fangkong.places.loading import CENSUS_CSV, DIVISIONS_CSV, HISTORIC_CSV

    rows = _csv_rows(DIVISIONS_CSV)
    census = {r["code"]: int(r["population"]) for r in _csv_rows(CENSUS_CSV)}
    counties = sorted(
        (r for r in rows if r["level"] == "3" and r["parent_code"] == "220100"),
        key=lambda r: r["code"],
    )
    county_index = {r["code"]: i for i, r in enumerate(counties)}
    streets = sorted((r for r in rows if r["level"] == "4"), key=lambda r: r["code"])
    street_index = {r["code"]: i for i, r in enumerate(streets)}
    communities = sorted((r for r in rows if r["level"] == "5"), key=lambda r: r["code"])
    community_county = np.array([county_index[r["code"][:6]] for r in communities], np.int32)
    community_street = np.array([street_index[r["parent_code"]] for r in communities], np.int32)

    site_codes, site_names, site_community, site_county = [], [], [], []
    street_first_site = np.zeros(len(streets), np.int32)
    community_site = np.zeros(len(communities), np.int32)
    by_street: dict[int, list[int]] = {}
    for j, s in enumerate(community_street.tolist()):
        by_street.setdefault(s, []).append(j)
    for s, street in enumerate(streets):
        members = by_street.get(s, [])
        street_first_site[s] = len(site_codes)
        if not members:
            continue
        for k in range(SITES_PER_STREET):
            site_codes.append(f"S{street['code']}-{k + 1:02d}")
            site_names.append(f"{street['name']}第{k + 1}采样点")
            site_community.append(communities[members[k % len(members)]]["code"])
            site_county.append(street["code"][:6])
        for rank, j in enumerate(members):
            community_site[j] = street_first_site[s] + rank % SITES_PER_STREET

    county_codes = [r["code"] for r in counties]
    historic: list[list[tuple[int, int, int]]] = [[] for _ in counties]
    for r in _csv_rows(HISTORIC_CSV):
        successor = r["successor_code"]
        if successor in county_index and r["valid_until"]:
            historic[county_index[successor]].append(
                (int(r["code"]), int(r["valid_from"] or 0), int(r["valid_until"]))
            )
    return Geography(
        county_codes=county_codes,
        county_names=[r["name"] for r in counties],
        county_population=np.array([census[c] for c in county_codes], np.float64),
        county_id_region=np.array([int(ID_REGION_OF_ZONE.get(c, c)) for c in county_codes]),
        county_outer=np.array([c in OUTER_COUNTIES for c in county_codes]),
        county_communities=[np.flatnonzero(community_county == i) for i in range(len(counties))],
        community_codes=[r["code"] for r in communities],
        community_county=community_county,
        community_street=community_street,
        community_site=community_site,
        street_codes=[r["code"] for r in streets],
        street_names=[r["name"] for r in streets],
        street_county=np.array([county_index[r["code"][:6]] for r in streets], np.int32),
        street_first_site=street_first_site,
        site_codes=site_codes,
        site_names=site_names,
        site_community=site_community,
        site_county=site_county,
        historic=historic,
    )


# -- text columns built from digits, without Python loops -------------------------------------


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) ASCII digits of non-negative integers, zero-padded."""
    v = np.asarray(values, dtype=np.int64).copy()
    out = np.empty((len(v), width), np.uint8)
    for i in range(width - 1, -1, -1):
        out[:, i] = 48 + v % 10
        v //= 10
    return out


def _const(text: str, n: int) -> np.ndarray:
    data = np.frombuffer(text.encode(), np.uint8)
    return np.broadcast_to(data, (n, len(data)))


def _fixed_text(*parts: np.ndarray) -> pa.Array:
    """Concatenate (n, w) byte blocks row-wise into one Arrow string column, zero-copy."""
    matrix = np.ascontiguousarray(np.concatenate(parts, axis=1))
    n, width = matrix.shape
    offsets = np.arange(0, n * width + 1, width, dtype=np.int64)
    kind = pa.large_string() if n * width >= 2**31 else pa.string()
    offsets = offsets if kind == pa.large_string() else offsets.astype(np.int32)
    return pa.Array.from_buffers(kind, n, [None, pa.py_buffer(offsets), pa.py_buffer(matrix)])


def _date_parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days, dtype="datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months).astype(np.int64) + 1
    return year, month, day


def time_text(seconds: np.ndarray) -> pa.Array:
    """UTC epoch seconds as local ISO text with the offset: 2022-04-20T08:15:30+08:00."""
    local = np.asarray(seconds, dtype=np.int64) + LOCAL
    year, month, day = _date_parts(local // DAY)
    clock = local % DAY
    n = len(local)
    return _fixed_text(
        _digits(year, 4), _const("-", n), _digits(month, 2), _const("-", n), _digits(day, 2),
        _const("T", n), _digits(clock // HOUR, 2), _const(":", n),
        _digits(clock // 60 % 60, 2), _const(":", n), _digits(clock % 60, 2),
        _const("+08:00", n),
    )


def _local_midnight(day: dt.date) -> int:
    """UTC epoch seconds of 00:00 local time on `day`."""
    return (day - dt.date(1970, 1, 1)).days * DAY - LOCAL


def _pick(table: list[str] | tuple[str, ...], index: np.ndarray) -> pa.Array:
    return pa.array(table, pa.string()).take(pa.array(index, pa.int64()))


# -- the population -----------------------------------------------------------------------------


def allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split `total` into integer parts proportional to `weights` (largest remainders)."""
    share = np.asarray(weights, np.float64) / np.sum(weights) * total
    counts = np.floor(share).astype(np.int64)
    short = total - int(counts.sum())
    if short:
        counts[np.argsort(-(share - counts), kind="stable")[:short]] += 1
    return counts


def companies(seed: int, residents: int) -> list[str]:
    """Distinct invented employer names, biggest employer first."""
    rng = np.random.default_rng([seed, 7001])
    brands = list(names.BRAND_WORDS) + [
        a + b for a in names.BRAND_WORDS for b in names.BRAND_WORDS if a != b
    ]
    sizes = (len(names.PLACE_PREFIXES), len(brands), len(names.INDUSTRIES), len(names.LEGAL_FORMS))
    space = math.prod(sizes)
    wanted = int(min(max(residents // 150, 30), 60_000))
    # Single-word brands first: the big employers get the short, memorable names.
    first = rng.permutation(sizes[0] * len(names.BRAND_WORDS) * sizes[2] * sizes[3])
    picks = list(first[: min(wanted, 400)])
    if wanted > len(picks):
        seen = set(picks)
        for value in rng.choice(space, size=wanted * 2, replace=False):
            if len(picks) >= wanted:
                break
            if value not in seen:
                seen.add(value)
                picks.append(value)
    out, taken = [], set()
    for value in picks:
        value = int(value)
        form = value % sizes[3]
        value //= sizes[3]
        industry = value % sizes[2]
        value //= sizes[2]
        brand = value % sizes[1]
        prefix = value // sizes[1]
        if prefix >= sizes[0]:
            prefix %= sizes[0]
        text = (names.PLACE_PREFIXES[prefix] + brands[brand] + names.INDUSTRIES[industry]
                + names.LEGAL_FORMS[form])
        if text not in taken:
            taken.add(text)
            out.append(text)
    return out


@dataclass
class People:
    start: int  # global number of the block's first person
    community: np.ndarray
    county: np.ndarray
    street: np.ndarray
    male: np.ndarray
    birth: np.ndarray  # days since 1970-01-01
    age: np.ndarray  # whole years on REFERENCE_DATE
    region: np.ndarray  # the 6-digit code in the ID number
    historic: np.ndarray  # the region is a historic code
    id_number: pa.Array
    employer: np.ndarray  # company index or -1

    def __len__(self) -> int:
        return len(self.community)


def _make_people(rng, geo: Geography, n: int, start: int, block: int, blocks: int,
                 n_companies: int) -> tuple[People, pa.Table]:
    counts = allocate(n, geo.county_population)
    county = np.repeat(np.arange(len(counts)), counts)
    community = np.empty(n, np.int32)
    for c, members in enumerate(geo.county_communities):
        where = county == c
        community[where] = members[rng.integers(0, len(members), int(where.sum()))]
    community.sort(kind="stable")  # neighbours in a community stand next to each other
    county = geo.community_county[community]
    street = geo.community_street[community]

    male = rng.random(n) < 0.49
    band = rng.choice(len(AGE_BANDS), size=n, p=AGE_BANDS / AGE_BANDS.sum())
    age_days = ((band * 5 + rng.random(n) * 5) * 365.2425).astype(np.int64)
    reference = (REFERENCE_DATE - dt.date(1970, 1, 1)).days
    birth = reference - 1 - age_days
    age = ((reference - birth) / 365.2425).astype(np.int64)

    region = geo.county_id_region[county].astype(np.int64)
    historic = np.zeros(n, bool)
    year = _date_parts(birth)[0]
    issued = np.maximum(year, 1985)  # numbers were given out from 1985, later at birth
    lucky = rng.random(n) < HISTORIC_SHARE
    for c, codes in enumerate(geo.historic):
        for code, first, last in sorted(codes, key=lambda t: t[2]):
            hit = (county == c) & lucky & ~historic & (issued >= first) & (issued <= last)
            region[hit] = code
            historic |= hit

    sequence = _sequences(region, birth, male, block, blocks)
    body = [_digits(region, 6), *(_digits(p, w) for p, w in zip(_date_parts(birth), (4, 2, 2),
                                                                   strict=True)),
            _digits(sequence, 3)]
    digits17 = np.concatenate(body, axis=1)
    total = (digits17.astype(np.int64) - 48) @ np.array(WEIGHTS, np.int64)
    check = np.frombuffer(CHECK_CHARS.encode(), np.uint8)[total % 11].reshape(-1, 1)
    id_number = _fixed_text(digits17, check)

    number = start + np.arange(n, dtype=np.int64)
    rest = (number * PHONE_MULTIPLIER + PHONE_OFFSET) % 100_000_000
    prefix = PHONE_PREFIXES[rng.integers(0, len(PHONE_PREFIXES), n)]
    phone = _fixed_text(_const("1", n), _digits(prefix, 2), _digits(rest, 8))

    surname_weights = np.array([w for _, w in names.SURNAMES], np.float64)
    surname = _pick([s for s, _ in names.SURNAMES],
                    rng.choice(len(surname_weights), n, p=surname_weights / surname_weights.sum()))
    male_chars = list(names.GIVEN_MALE + names.GIVEN_EITHER)
    female_chars = list(names.GIVEN_FEMALE + names.GIVEN_EITHER)
    chars = [*male_chars, *female_chars, ""]
    offset = np.where(male, 0, len(male_chars))
    size = np.where(male, len(male_chars), len(female_chars))
    first = offset + (rng.random(n) * size).astype(np.int64)
    second = offset + (rng.random(n) * size).astype(np.int64)
    second = np.where(rng.random(n) < 0.72, second, len(chars) - 1)  # a third have one character
    name = pc.binary_join_element_wise(surname, _pick(chars, first), _pick(chars, second), "")

    adult = (age >= 18) & (age <= 64)
    employed = adult & (rng.random(n) < EMPLOYED_SHARE)
    weights = 1.0 / np.arange(1, n_companies + 1) ** 0.8
    employer = np.where(employed, rng.choice(n_companies, n, p=weights / weights.sum()), -1)

    people = People(start, community, county, street, male, birth, age, region, historic,
                    id_number, employer)
    return people, phone, name


def _sequences(region, birth, male, block: int, blocks: int) -> np.ndarray:
    """Sequence numbers (顺序码) unique per region and birth date across all blocks: block b
    uses its own range of the 000–999 space; odd for men, even for women. The rare person who
    finds their range full is moved one day earlier."""
    width = (1000 // blocks) // 2 * 2
    half = width // 2
    birth = birth.copy()
    n = len(region)
    position = np.arange(n)
    while True:
        key = (region * 100_000 + birth + 50_000) * 2 + male
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        starts = np.r_[True, sorted_key[1:] != sorted_key[:-1]] if n else np.zeros(0, bool)
        first = np.maximum.accumulate(np.where(starts, position, 0))
        rank = np.empty(n, np.int64)
        rank[order] = position - first
        full = rank >= half
        if not full.any():
            break
        birth[full] -= 1
    # Spread the numbers over the range (real ones are not all 000, 002 …): a per-group shift.
    shift = (key * 2_654_435_761 >> 7) % half
    local = (rank + shift) % half
    # The caller's birth array is not changed: keep the moved dates consistent with the ID.
    region_birth_fix = birth
    _sequences.moved_birth = region_birth_fix  # type: ignore[attr-defined]
    return block * width + 2 * local + male
