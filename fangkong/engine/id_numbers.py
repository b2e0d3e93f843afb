"""Citizen ID numbers (公民身份号码, GB 11643-1999): checks that say what is wrong, and masking.

Why not ``stdnum.cn.ric.validate``: it also requires the region code to have existed in the
birth year, and its table starts most codes in 1983, so a 南关区 resident born in 1980
(220102 1980…) is rejected although such numbers are real: the region is where the number was
issued, not where the person was born. Here a region counts if it was ever a county-level code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from stdnum import numdb
from stdnum.cn.ric import calc_check_digit

LENGTH = 18
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH_YEAR = 1880
# "Today" for a birth date is the Beijing calendar day: a baby born at 00:30 on 20 April in
# 长春 has a valid number while UTC still reads 19 April.
BEIJING = ZoneInfo("Asia/Shanghai")

_DIGITS = frozenset("0123456789")
_CHECK_CODES = np.array([ord(c) for c in CHECK_CHARS], dtype=np.uint32)
# Rows per block in check_digits_ok: big enough to amortise numpy's per-call cost, small
# enough that the (rows, 17) work arrays stay in cache.
_BLOCK = 1 << 16


def normalise_id_number(value: str) -> str:
    """The form in which numbers are stored and compared: no surrounding blanks, upper-case X."""
    return value.strip().upper()


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


@lru_cache(maxsize=8192)
def is_known_region(code6: str) -> bool:
    """Whether ``code6`` is or was a county-level code anywhere in China (GB/T 2260 history).

    Year ranges are ignored on purpose (see the module docstring). Statistical codes of
    development zones such as 220171 are simply not regions.
    """
    if len(code6) != 6 or not set(code6) <= _DIGITS:
        return False
    parts = numdb.get("cn/loc").info(code6)
    if sum(len(part) for part, _ in parts) != 6:
        return False
    return any("county" in props for _, props in parts[1:])


def _looks_like_development_zone(code6: str) -> bool:
    # 国家统计局 gives 经济技术开发区/高新区 etc. county digits 71-79 (220171 长春经开区) in its
    # statistical codes; under a known prefecture, an unknown 7x code is most likely one of those,
    # copied from a statistics table.
    if code6[4] != "7" or code6[5] == "0":
        return False
    parts = numdb.get("cn/loc").info(code6[:4] + "00")
    return any("county" in props for _, props in parts[1:])


def beijing_date(moment: dt.datetime) -> dt.date:
    """The calendar day in Beijing at the aware instant ``moment``: the ``today`` of the checks."""
    return moment.astimezone(BEIJING).date()


def check_id_number(value: str, today: dt.date | None = None) -> str | None:
    """None when ``value`` is a valid 18-character ID number, else a short reason in Chinese.

    ``today`` bounds the birth date: pass ``beijing_date(now)``. Without it, the Beijing date of
    the wall clock is used (for callers that have no ``now`` yet).
    """
    number = normalise_id_number(value)
    if len(number) != LENGTH:
        return "应为18位"
    if not set(number[:17]) <= _DIGITS:
        return "前17位应为数字"
    if number[17] not in _DIGITS and number[17] != "X":
        return "第18位应为数字或X"
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "出生日期无效"
    if birth.year < EARLIEST_BIRTH_YEAR:
        return f"出生日期早于{EARLIEST_BIRTH_YEAR}年"
    if birth > (today or beijing_date(dt.datetime.now(dt.UTC))):
        return "出生日期晚于今天"
    region = number[:6]
    if not is_known_region(region):
        if _looks_like_development_zone(region):
            return f"地区代码{region}是开发区统计代码,不出现在身份证号码中"
        return f"地区代码{region}不是已知的县级行政区划代码"
    expected = check_char(number[:17])
    if number[17] != expected:
        return f"校验位错误,应为{expected}"
    return None


def is_valid_id_number(value: str, today: dt.date | None = None) -> bool:
    return check_id_number(value, today) is None


def check_digit_ok(value: str) -> bool:
    """Only the check character: 18 characters, 17 ASCII digits, right MOD 11-2 character.

    Lower-case x counts as X; blanks are not stripped. The scalar twin of `check_digits_ok`.
    """
    if len(value) != LENGTH or not set(value[:17]) <= _DIGITS:
        return False
    return value[17].upper() == check_char(value[:17])


def check_digits_ok(values: Sequence[str] | np.ndarray) -> np.ndarray:
    """`check_digit_ok` for many values at once, as a bool array; for bulk ingestion.

    Anything malformed (wrong length, non-digits, None, not a string) is simply False. Numpy
    string arrays cannot hold trailing NUL characters, so in an array "1…X\0" is "1…X".
    """
    codes, lengths = _code_points(values)
    result = np.zeros(lengths.shape[0], dtype=bool)
    if codes is None:
        return result
    for start in range(0, lengths.shape[0], _BLOCK):
        stop = start + _BLOCK
        result[start:stop] = _block_ok(codes[start:stop], lengths[start:stop])
    return result


def _code_points(values: Sequence[str] | np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """((rows, 18) UCS-4 code points or None if no row can be 18 long, length of each value)."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "U":
        arr = values.ravel()
        lengths = np.strings.str_len(arr)
    else:
        items = values.ravel().tolist() if isinstance(values, np.ndarray) else values
        try:
            lengths = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
        except TypeError:
            items = [v if isinstance(v, str) else "" for v in items]
            lengths = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
        # Longer values are cut to 18 here, but their length already rules them out; a
        # fixed width is also several times faster for numpy to build than an inferred one.
        arr = np.array(items, dtype=f"<U{LENGTH}")
    width = arr.dtype.itemsize // 4
    if width < LENGTH or arr.shape[0] == 0:
        return None, lengths
    # A '<U{width}' array is a (rows, width) block of UCS-4 code points, NUL-padded.
    return arr.view(np.uint32).reshape(arr.shape[0], width)[:, :LENGTH], lengths


def _block_ok(codes: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    # Column by column: 17 passes over contiguous-enough vectors beat reducing along a short
    # axis several times over. Unsigned wrap-around turns every non-digit into a value > 9,
    # and the garbage it adds to `total` does not matter once `ok` is False.
    ok = lengths == LENGTH
    total = np.zeros(codes.shape[0], dtype=np.uint32)
    for column, weight in enumerate(WEIGHTS):
        digit = codes[:, column] - np.uint32(ord("0"))
        ok &= digit <= 9
        total += digit * np.uint32(weight)
    last = codes[:, 17]
    last = np.where(last == ord("x"), np.uint32(ord("X")), last)
    return ok & (last == _CHECK_CODES[total % 11])


@dataclass(frozen=True)
class Verdicts:
    """`check_id_numbers`' answer: ``ok[i]`` is ``check_id_number(values[i], today) is None``."""

    ok: np.ndarray  # bool, one per value
    reasons: dict[int, str]  # index -> check_id_number's reason, for each value not ok


def check_id_numbers(values: Sequence[str] | np.ndarray, today: dt.date) -> Verdicts:
    """`check_id_number` for many values at once, for bulk ingestion: the same verdict and
    reason for every input.

    Numbers already in stored form (18 ASCII characters, upper- or lower-case X) are judged
    whole by numpy; anything else (blanks around it, bad characters, any rejection) goes through
    `check_id_number` itself, one at a time, which also yields the reason. A value the fast path
    accepts passes every check of `check_id_number`, so the two cannot disagree. ``values`` are
    strings; a None counts as empty.
    """
    codes, lengths = _code_points(values)
    ok = np.zeros(lengths.shape[0], dtype=bool)
    if codes is not None:
        limit = today.year * 10_000 + today.month * 100 + today.day
        regions = np.zeros(lengths.shape[0], dtype=np.int64)
        for start in range(0, lengths.shape[0], _BLOCK):
            stop = start + _BLOCK
            ok[start:stop], regions[start:stop] = _block_valid(
                codes[start:stop], lengths[start:stop], limit
            )
        known = [r for r in np.unique(regions[ok]).tolist() if is_known_region(f"{r:06d}")]
        ok &= np.isin(regions, known)
    reasons: dict[int, str] = {}
    refused = np.flatnonzero(~ok).tolist()
    items = values.ravel().tolist() if isinstance(values, np.ndarray) and refused else values
    for i in refused:
        value = items[i]
        reason = check_id_number(value if isinstance(value, str) else "", today)
        if reason is None:
            ok[i] = True
        else:
            reasons[i] = reason
    return Verdicts(ok, reasons)


def _digits_value(codes: np.ndarray, start: int, stop: int) -> np.ndarray:
    """The number written by columns start..stop (meaningful only where they are digits)."""
    value = np.zeros(codes.shape[0], dtype=np.int64)
    for column in range(start, stop):
        value *= 10
        value += (codes[:, column] - np.uint32(ord("0"))) & np.uint32(15)
    return value


# Days per month of a common year; February gains one in leap years.
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _block_valid(codes: np.ndarray, lengths: np.ndarray, limit: int):
    """(every check but the region's, the region as a number) for a block of code points."""
    ok = _block_ok(codes, lengths)
    region = _digits_value(codes, 0, 6)
    birth = _digits_value(codes, 6, 14)
    year, month, day = birth // 10_000, birth // 100 % 100, birth % 100
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days = _MONTH_DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)
    ok &= (year >= EARLIEST_BIRTH_YEAR) & (birth <= limit)
    return ok, region


def make_id_number(region: str, birth: dt.date, sequence: int) -> str:
    """A number with a correct check character, for synthetic people.

    The region is not checked against the code table, so tests can also build numbers that
    `check_id_number` must reject (e.g. a development-zone code). Odd sequences are men.
    """
    if len(region) != 6 or not set(region) <= _DIGITS:
        raise ValueError(f"region must be 6 digits, not {region!r}")
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be 0..999, not {sequence}")
    body = f"{region}{birth.year:04d}{birth.month:02d}{birth.day:02d}{sequence:03d}"
    # calc_check_digit ignores the last character of what it is given: it expects a whole
    # number, check character included, so a placeholder goes in its place.
    return body + calc_check_digit(body + "0")


def mask(id_number: str) -> str:
    """220102********123X: region and last four kept, birth date and sequence hidden."""
    value = normalise_id_number(id_number)
    if len(value) < 10:
        return "*" * len(value)
    return f"{value[:6]}{'*' * 8}{value[-4:]}"


def mask_phone(phone: str) -> str:
    """138****1234: carrier prefix and last four kept."""
    value = phone.strip()
    if len(value) < 8:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def mask_name(name: str) -> str:
    """张三 → *三, 欧阳娜娜 → **娜娜: only the last character(s) of the given name are shown."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    keep = 1 if len(name) <= 3 else 2
    return "*" * (len(name) - keep) + name[-keep:]
