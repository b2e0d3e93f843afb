"""The residents of the demo city: where they live, age and sex, ID numbers (historic county
codes included), phone numbers, names, employers — and who was sampled without their code being
scanned."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fangkong.demo import names
from fangkong.demo.columns import const, date_parts, digits, fixed_text, pick, table
from fangkong.demo.geography import Geography
from fangkong.engine.id_numbers import CHECK_CHARS, WEIGHTS

RESIDENT_COLUMNS = ("身份证号", "姓名", "手机号", "社区代码", "工作单位")

# The reference day for ages: the first day of the April replay (fangkong.demo.april).
REFERENCE_DATE = dt.date(2022, 4, 1)
# The residents register is loaded on the morning of 1 April: after the last birth in it (the
# day before REFERENCE_DATE), before the first sampling of the replay (3 April).
REGISTERED_AT = dt.datetime(2022, 4, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

# Share of people (among those born while a predecessor code of their county was in force)
# whose ID numbers still carry the historic code (九台市 220181, 公主岭市 220381 …).
HISTORIC_SHARE = 0.2
EMPLOYED_SHARE = 0.30  # of adults aged 18–64
UNSCANNED_SHARE = 0.02  # sampled without scanning: no sampling row, all have an employer

# 5-year age bands 0–4 … 90–94, per cent: roughly 长春's 2020 census (11% under 15, 23% 60+).
AGE_BANDS = np.array(
    [3.2, 4.0, 4.0, 3.8, 5.5, 6.5, 8.5, 7.6, 7.0, 8.3, 9.3, 8.8, 7.2, 6.6, 4.2, 2.6, 1.7, 0.9, 0.3]
)
# The second and third digits of mobile numbers (130–139, 145, 147, 150–159 …).
# fmt: off
PHONE_PREFIXES = np.array([
    30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 45, 47, 50, 51, 52, 53, 55, 56, 57, 58,
    59, 66, 73, 75, 76, 77, 78, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 91, 98, 99,
])
# fmt: on
PHONE_MULTIPLIER = 38_195_467  # coprime with 10^8: a bijection of the last 8 digits
PHONE_OFFSET = 20_220_421


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


def make_people(
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
    year = date_parts(birth)[0]
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
        digits(region, 6),
        *(digits(p, w) for p, w in zip(date_parts(birth), (4, 2, 2), strict=True)),
        digits(sequence, 3),
    ]
    digits17 = np.concatenate(body, axis=1)
    total = (digits17.astype(np.int64) - 48) @ np.array(WEIGHTS, np.int64)
    check = np.frombuffer(CHECK_CHARS.encode(), np.uint8)[total % 11].reshape(-1, 1)
    id_number = fixed_text(digits17, check)

    number = start + np.arange(n, dtype=np.int64)
    rest = (number * PHONE_MULTIPLIER + PHONE_OFFSET) % 100_000_000
    prefix = PHONE_PREFIXES[rng.integers(0, len(PHONE_PREFIXES), n)]
    phone = fixed_text(const("1", n), digits(prefix, 2), digits(rest, 8))

    surname_weights = np.array([w for _, w in names.SURNAMES], np.float64)
    surname = pick(
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
    name = pc.binary_join_element_wise(surname, pick(chars, first), pick(chars, second), "")

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


def residents_table(people: People, employers: list[str], geo: Geography) -> pa.Table:
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
    community_codes = pick(geo.community_codes, people.community)
    return table(
        RESIDENT_COLUMNS,
        [people.id_number, people.name, people.phone, community_codes, employer_text],
    )
