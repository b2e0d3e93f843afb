"""Text columns built from numbers without Python loops: a million ID numbers, phone numbers,
barcodes or times become Arrow string columns straight from arrays of digits."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

HOUR = 3600
DAY = 86400
LOCAL = 8 * HOUR  # 长春 is UTC+08:00 all year


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """(n, width) ASCII digits of non-negative integers, zero-padded."""
    v = np.asarray(values, dtype=np.int64).copy()
    out = np.empty((len(v), width), np.uint8)
    for i in range(width - 1, -1, -1):
        out[:, i] = 48 + v % 10
        v //= 10
    return out


def const(text: str, n: int) -> np.ndarray:
    data = np.frombuffer(text.encode(), np.uint8)
    return np.broadcast_to(data, (n, len(data)))


def fixed_text(*parts: np.ndarray) -> pa.Array:
    """Concatenate (n, w) byte blocks row-wise into one Arrow string column, zero-copy."""
    matrix = np.ascontiguousarray(np.concatenate(parts, axis=1))
    n, width = matrix.shape
    offsets = np.arange(0, n * width + 1, width, dtype=np.int64)
    kind = pa.large_string() if n * width >= 2**31 else pa.string()
    offsets = offsets if kind == pa.large_string() else offsets.astype(np.int32)
    return pa.Array.from_buffers(kind, n, [None, pa.py_buffer(offsets), pa.py_buffer(matrix)])


def date_parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days, dtype="datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months).astype(np.int64) + 1
    return year, month, day


def time_text(seconds: np.ndarray) -> pa.Array:
    """UTC epoch seconds as local ISO text with the offset: 2022-04-20T08:15:30+08:00."""
    local = np.asarray(seconds, dtype=np.int64) + LOCAL
    year, month, day = date_parts(local // DAY)
    clock = local % DAY
    n = len(local)
    return fixed_text(
        digits(year, 4),
        const("-", n),
        digits(month, 2),
        const("-", n),
        digits(day, 2),
        const("T", n),
        digits(clock // HOUR, 2),
        const(":", n),
        digits(clock // 60 % 60, 2),
        const(":", n),
        digits(clock % 60, 2),
        const("+08:00", n),
    )


def local_midnight(day: dt.date) -> int:
    """UTC epoch seconds of 00:00 local time on `day`."""
    return (day - dt.date(1970, 1, 1)).days * DAY - LOCAL


def pick(table: list[str] | tuple[str, ...], index: np.ndarray) -> pa.Array:
    return pa.array(table, pa.string()).take(pa.array(index, pa.int64()))


def table(columns: tuple[str, ...], arrays: list[pa.Array]) -> pa.Table:
    return pa.table(dict(zip(columns, arrays, strict=True)))
