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
# The residents register is loaded the evening before the round: after the last birth in it
# (the day before REFERENCE_DATE), before the first sampling.
REGISTERED_AT = dt.datetime(2022, 4, 19, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

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
SCANNED_SHARE = 0.93
SCANNED_SHARE_OUTER = 0.88
SINGLE_TUBE_SHARE = 0.6  # of children under 6 and people 80 or older
TWENTY_SITE_DAYS = 0.03  # share of (site, day) pairs that used 20-in-1 tubes
ROUND2_SHARE = 0.60
PRESENCE_SHARE = 0.02

# 5-year age bands 0–4 … 90–94, per cent: roughly 长春's 2020 census (11% under 15, 23% 60+).
AGE_BANDS = np.array(
    [3.2, 4.0, 4.0, 3.8, 5.5, 6.5, 8.5, 7.6, 7.0, 8.3, 9.3, 8.8, 7.2, 6.6, 4.2, 2.6, 1.7, 0.9, 0.3]
)
PHONE_PREFIXES = np.array(
    [
        30,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        38,
        39,
        45,
        47,
        50,
        51,
        52,
        53,
        55,
        56,
        57,
        58,
        59,
        66,
        73,
        75,
        76,
        77,
        78,
        80,
        81,
        82,
        83,
        84,
        85,
        86,
        87,
        88,
        89,
        91,
        98,
        99,
    ]
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
        _digits(year, 4),
        _const("-", n),
        _digits(month, 2),
        _const("-", n),
        _digits(day, 2),
        _const("T", n),
        _digits(clock // HOUR, 2),
        _const(":", n),
        _digits(clock // 60 % 60, 2),
        _const(":", n),
        _digits(clock % 60, 2),
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
    """Distinct invented employer names, biggest employer first (short one-word brands for
    the big ones, two-word brands for the long tail)."""
    rng = np.random.default_rng([seed, 7001])
    words = names.BRAND_WORDS
    brands = list(words) + [a + b for a in words for b in words if a != b]
    wanted = int(min(max(residents // 150, 30), 60_000))
    out: dict[str, None] = {}
    while len(out) < wanted:
        count = wanted - len(out)
        brand_range = len(words) if len(out) < 200 else len(brands)
        picks = zip(
            rng.integers(0, len(names.PLACE_PREFIXES), count).tolist(),
            rng.integers(0, brand_range, count).tolist(),
            rng.integers(0, len(names.INDUSTRIES), count).tolist(),
            rng.integers(0, len(names.LEGAL_FORMS), count).tolist(),
            strict=True,
        )
        for place, brand, industry, form in picks:
            text = (
                names.PLACE_PREFIXES[place]
                + brands[brand]
                + names.INDUSTRIES[industry]
                + names.LEGAL_FORMS[form]
            )
            out.setdefault(text)
            if len(out) >= 200 and brand_range == len(words):
                break
    return list(out)[:wanted]


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
    phone: pa.Array
    name: pa.Array
    employer: np.ndarray  # company index or -1
    unscanned: np.ndarray  # sampled on 20–22 April without their code being scanned

    def __len__(self) -> int:
        return len(self.community)


def _make_people(
    rng, geo: Geography, n: int, start: int, block: int, blocks: int, n_companies: int
) -> People:
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

    sequence, birth = _sequences(region, birth, male.astype(np.int64), block, blocks)
    age = ((reference - birth) / 365.2425).astype(np.int64)
    body = [
        _digits(region, 6),
        *(_digits(p, w) for p, w in zip(_date_parts(birth), (4, 2, 2), strict=True)),
        _digits(sequence, 3),
    ]
    digits17 = np.concatenate(body, axis=1)
    total = (digits17.astype(np.int64) - 48) @ np.array(WEIGHTS, np.int64)
    check = np.frombuffer(CHECK_CHARS.encode(), np.uint8)[total % 11].reshape(-1, 1)
    id_number = _fixed_text(digits17, check)

    number = start + np.arange(n, dtype=np.int64)
    rest = (number * PHONE_MULTIPLIER + PHONE_OFFSET) % 100_000_000
    prefix = PHONE_PREFIXES[rng.integers(0, len(PHONE_PREFIXES), n)]
    phone = _fixed_text(_const("1", n), _digits(prefix, 2), _digits(rest, 8))

    surname_weights = np.array([w for _, w in names.SURNAMES], np.float64)
    surname = _pick(
        [s for s, _ in names.SURNAMES],
        rng.choice(len(surname_weights), n, p=surname_weights / surname_weights.sum()),
    )
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
    # Those sampled without scanning are workers whose employer will clear them in a batch.
    unscanned = employed & (rng.random(n) < UNSCANNED_SHARE * n / max(int(employed.sum()), 1))

    return People(
        start,
        community,
        county,
        street,
        male,
        birth,
        age,
        region,
        historic,
        id_number,
        phone,
        name,
        employer,
        unscanned,
    )


def _sequences(region, birth, male, block: int, blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Sequence numbers (顺序码) unique per region and birth date across all blocks: block b
    uses its own range of the 000–999 space; odd for men, even for women. The rare person who
    finds their range full is born one day earlier. Returns (sequences, birth dates)."""
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
    return block * width + 2 * local + male, birth


# -- testing ------------------------------------------------------------------------------------


class _Facts:
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


def _uniform(rng, low: float, high: float, n: int) -> np.ndarray:
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


def _run_round(
    rng, rnd: Round, geo: Geography, people: People, who: np.ndarray, facts: _Facts, stats: dict
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
    midnights = np.array([_local_midnight(d) for d in rnd.days], np.int64)
    opened = midnights[tube_day] + int(7.5 * HOUR) + _uniform(rng, 0, 10.5 * HOUR, t)
    tube_ids = facts.new_tubes(tube_capacity, opened)
    members = np.bincount(tube_local, minlength=t)
    time = opened[tube_local] + place * 45 + rng.integers(0, 30, m)
    facts.sample(who, tube_ids[tube_local], site, time)

    # Results, 12–24 h after the tube was closed.
    closed = opened + members * 45 + 30
    reported = closed + _uniform(rng, 12 * HOUR, 24 * HOUR, t)
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
        when = reported[source] + _uniform(rng, 1 * HOUR, 6 * HOUR, r)
        new = facts.new_tubes(np.ones(r, np.int64), when)
        facts.sample(who[retest], new, site[retest], when)
        lot = rng.random(r)
        order = np.lexsort((-lot, source))
        rank = _pools(source[order], np.full(r, 10**9))[1]
        two = rng.random(t) < 0.25
        hit = np.zeros(r, bool)
        hit[order] = (rank == 0) | ((rank == 1) & two[source[order]])
        back = when + _uniform(rng, 4 * HOUR, 10 * HOUR, r)
        facts.report(new, np.where(hit, POSITIVE, NEGATIVE), lab[source], back)
        positive_people.append(who[retest][hit])
        positive_times.append(back[hit])

    # Members of an invalid tube are sampled again together in a new tube of the same size.
    again = np.flatnonzero(np.isin(tube_local, invalid))
    if len(again):
        start = reported[invalid] + _uniform(rng, 2 * HOUR, 8 * HOUR, len(invalid))
        new = facts.new_tubes(tube_capacity[invalid], start)
        slot = np.searchsorted(np.sort(invalid), tube_local[again])
        by_tube = np.argsort(invalid)
        tube_of = by_tube[slot]
        when = start[tube_of] + place[again] * 45
        facts.sample(who[again], new[tube_of], site[again], when)
        back = start + members[invalid] * 45 + _uniform(rng, 12 * HOUR, 24 * HOUR, len(invalid))
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


# -- contacts and presence ----------------------------------------------------------------------


def _neighbours(rng, source: np.ndarray, mean: float, least: int, reach: int, n: int):
    """People living near each of `source` (their neighbours in community order)."""
    k = least + rng.poisson(mean, len(source))
    origin = np.repeat(np.arange(len(source)), k)
    step = rng.integers(1, reach, len(origin)) * np.where(rng.random(len(origin)) < 0.5, -1, 1)
    return origin, np.clip(source[origin] + step, 0, n - 1)


def _first_each(person: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((start, person))
    person, start = person[order], start[order]
    keep = np.r_[True, person[1:] != person[:-1]] if len(person) else np.zeros(0, bool)
    return person[keep], start[keep]


def _contacts(rng, people: People, positives: np.ndarray, found: np.ndarray):
    """Close contacts (密接) of each positive and secondary contacts (次密接) of those."""
    n = len(people)
    excluded = np.zeros(n, bool)
    excluded[positives] = True
    origin, close = _neighbours(rng, positives, 5, 3, 40, n)
    start = found[origin] + _uniform(rng, 1 * HOUR, 12 * HOUR, len(origin))
    keep = ~excluded[close]
    close, start = _first_each(close[keep], start[keep] // 60 * 60)
    excluded[close] = True
    origin, secondary = _neighbours(rng, close, 2, 1, 60, n)
    start2 = start[origin] + _uniform(rng, 2 * HOUR, 12 * HOUR, len(origin))
    keep = ~excluded[secondary]
    secondary, start2 = _first_each(secondary[keep], start2[keep] // 60 * 60)
    return close, start, secondary, start2


# -- one block ----------------------------------------------------------------------------------


@dataclass
class Block:
    number: int
    tables: dict[str, pa.Table]  # kind -> rows, in load order
    stats: dict[str, int]
    # ID numbers of those sampled without scanning: in no file, for an employer to clear
    unscanned: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))


def _table(columns: tuple[str, ...], arrays: list[pa.Array]) -> pa.Table:
    return pa.table(dict(zip(columns, arrays, strict=True)))


def make_block(
    geo: Geography,
    employers: list[str],
    *,
    seed: int,
    number: int,
    blocks: int,
    size: int,
    start: int,
    until: int | None = None,
) -> Block:
    """Block `number` of `blocks`: `size` people numbered from `start`, and their facts up to
    `until` (UTC epoch seconds; None: everything)."""
    rng = np.random.default_rng([seed, number, blocks, size])
    people = _make_people(rng, geo, size, start, number, blocks, len(employers))
    n = size
    stats: dict[str, int] = {
        "residents": n,
        "employed": int((people.employer >= 0).sum()),
        "historic_id_codes": int(people.historic.sum()),
        "unscanned": int(people.unscanned.sum()),
    }
    employer_text = pc.fill_null(
        pa.array(employers, pa.string()).take(
            pa.array(
                np.where(people.employer >= 0, people.employer, -1),
                pa.int64(),
                mask=people.employer < 0,
            )
        ),
        "",
    )
    community_codes = _pick(geo.community_codes, people.community)
    residents = _table(
        RESIDENT_COLUMNS,
        [people.id_number, people.name, people.phone, community_codes, employer_text],
    )

    facts = _Facts()
    outer = geo.county_outer[people.county]
    share = np.where(outer, SCANNED_SHARE_OUTER, SCANNED_SHARE)
    first_round = np.flatnonzero(~people.unscanned & (rng.random(n) < share))
    stats["round1_people"] = len(first_round)
    stats["not_sampled"] = n - len(first_round) - stats["unscanned"]
    round1: dict[str, int] = {}
    pos1, when1 = _run_round(rng, ROUND_1, geo, people, first_round, facts, round1)
    positive = np.zeros(n, bool)
    positive[pos1] = True
    second_round = np.flatnonzero(~positive & (rng.random(n) < ROUND2_SHARE))
    stats["round2_people"] = len(second_round)
    round2: dict[str, int] = {}
    pos2, when2 = _run_round(rng, ROUND_2, geo, people, second_round, facts, round2)
    for key in set(round1) | set(round2):
        stats[key] = round1.get(key, 0) + round2.get(key, 0)
    positives, found = _first_each(np.r_[pos1, pos2], np.r_[when1, when2])
    stats["positives"] = len(positives)

    close, close_start, secondary, secondary_start = _contacts(rng, people, positives, found)
    stats["close_contacts"], stats["secondary_contacts"] = len(close), len(secondary)

    tube_capacity = np.concatenate(facts.tube_capacity)
    tube_time = np.concatenate(facts.tube_time)
    y, mo, d = _date_parts((tube_time + LOCAL) // DAY)
    t = len(tube_capacity)
    barcodes = _fixed_text(
        _const("T", t),
        _digits(y, 4),
        _digits(mo, 2),
        _digits(d, 2),
        _digits(np.full(t, number), 2),
        _digits(np.arange(t), 7),
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
    samplings = _table(
        SAMPLING_COLUMNS,
        [
            people.id_number.take(pa.array(sampling["person"])),
            barcodes.take(pa.array(sampling["tube"])),
            _pick(
                ["", "1", "", "", "", "", "", "", "", "", "10"] + [""] * 9 + ["20"],
                tube_capacity[sampling["tube"]],
            ),
            _pick(geo.site_codes, sampling["site"]),
            time_text(sampling["time"]),
        ],
    )
    results = _table(
        RESULT_COLUMNS,
        [
            barcodes.take(pa.array(result["tube"])),
            _pick(OUTCOME_TEXT, result["outcome"]),
            _pick(names.LABS, result["lab"]),
            time_text(result["time"]),
        ],
    )

    kind = np.r_[np.zeros(len(close), np.int64), np.ones(len(secondary), np.int64)]
    person = np.r_[close, secondary]
    begin = np.r_[close_start, secondary_start]
    end = begin + np.where(kind == 0, 14 * DAY, 7 * DAY)
    open_ended = np.zeros(len(kind), bool)
    if until is not None:
        keep = begin <= until
        kind, person, begin, end = kind[keep], person[keep], begin[keep], end[keep]
        # Ingestion takes no time more than a day after the moment of loading, a planned end
        # included: loaded "as of" a past moment, a designation still running has no end yet.
        open_ended = end > until + DAY - 60
    cdc = [f"{name}疾病预防控制中心" for name in geo.county_names]
    designations = _table(
        DESIGNATION_COLUMNS,
        [
            people.id_number.take(pa.array(person, pa.int64())),
            _pick(("密接", "次密接"), kind),
            time_text(begin),
            pc.if_else(pa.array(open_ended), "", time_text(end)),
            _pick(cdc, people.county[person]),
        ],
    )

    seen = np.flatnonzero(rng.random(n) < PRESENCE_SHARE)
    counties = len(geo.county_codes)
    elsewhere = (people.county[seen] + rng.integers(1, counties, len(seen))) % counties
    place = np.array([geo.county_communities[c][0] for c in range(counties)])
    spread = np.array([len(c) for c in geo.county_communities])
    community = place[elsewhere] + (rng.random(len(seen)) * spread[elsewhere]).astype(np.int64)
    begin = _local_midnight(dt.date(2022, 4, 18)) + rng.integers(0, 7 * DAY, len(seen))
    begin = begin // 60 * 60
    end = begin + rng.integers(1 * HOUR, 36 * HOUR, len(seen)) // 60 * 60
    if until is not None:
        keep = end <= until
        seen, community, begin, end = seen[keep], community[keep], begin[keep], end[keep]
    presence = _table(
        PRESENCE_COLUMNS,
        [
            people.id_number.take(pa.array(seen, pa.int64())),
            _pick(geo.community_codes, community),
            time_text(begin),
            time_text(end),
            _pick(names.PRESENCE_SOURCES, rng.integers(0, len(names.PRESENCE_SOURCES), len(seen))),
        ],
    )
    stats["presence"] = len(seen)
    return Block(
        number,
        {
            "residents": residents,
            "samplings": samplings,
            "results": results,
            "designations": designations,
            "presence": presence,
        },
        stats,
        people.id_number.filter(pa.array(people.unscanned)),
    )


def city_blocks(
    residents: int,
    seed: int,
    *,
    until: int | None = None,
    geo: Geography | None = None,
    block_rows: int = BLOCK_ROWS,
) -> Iterator[Block]:
    """The synthetic city, block by block (each at most `block_rows` people)."""
    if not 1 <= residents <= MAX_RESIDENTS:
        raise ValueError(f"residents must be between 1 and {MAX_RESIDENTS:,}")
    geo = geo or load_geography()
    employers = companies(seed, residents)
    blocks = math.ceil(residents / block_rows)
    if blocks > 100:
        raise ValueError("at most 100 blocks: tube barcodes carry the block in two digits")
    sizes = allocate(residents, np.ones(blocks))
    start = 0
    for number, size in enumerate(sizes.tolist()):
        yield make_block(
            geo,
            employers,
            seed=seed,
            number=number,
            blocks=blocks,
            size=size,
            start=start,
            until=until,
        )
        start += size
