"""Column-at-a-time checks of one chunk. Good rows come out typed; every bad row comes out with
its row number, the field and the reason, in Chinese for the person who sent the file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from stdnum.cn import uscc as gb32100
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

from fangkong.engine.id_numbers import beijing_date, check_id_numbers
from fangkong.ingest.reading import CONTROL, ROW
from fangkong.ingest.schemas import SCHEMAS, Column

TIMESTAMP = pa.timestamp("us", tz="UTC")
_ISO = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?"
# Offsets that exist: whole hours, or :30 and :45 (India, Nepal, Chatham), within ±14:00.
_OFFSET = r"(Z|z|[+-](0\d|1[0-3])(:?(00|30|45))?|[+-]14(:?00)?)"
_WITH_ZONE = _ISO + _OFFSET + "$"
_ANY_OFFSET = _ISO + r"[+-]\d{2}(:?\d{2})?$"
_NAIVE = _ISO + "$"
_PHONE = r"^(1\d{10}|0\d{2,3}-?\d{7,8})$"
EARLIEST = datetime(2019, 12, 1).astimezone()
ERROR_SCHEMA = pa.schema(
    [("row", pa.int64()), ("field", pa.string()), ("value", pa.string()), ("reason", pa.string())]
)


@dataclass
class Checked:
    good: pa.Table  # schema names, typed, plus _row
    errors: pa.Table  # row, field, value, reason


class _Errors:
    def __init__(self, rows: np.ndarray):
        self.rows = rows
        self.parts: list[pa.Table] = []
        self.bad = np.zeros(len(rows), dtype=bool)

    def add(self, mask: np.ndarray, field: str, values: pa.Array, reason) -> None:
        """Record `reason` (one text, or an array with one per row) for the rows in `mask`."""
        mask = np.asarray(mask, dtype=bool) & ~self.bad  # one reason per row is enough
        if not mask.any():
            return
        index = np.flatnonzero(mask)
        # Shown and stored as found, but a NUL cannot be stored (PostgreSQL) or shown.
        picked = pc.replace_substring_regex(values.take(pa.array(index)), CONTROL, "\ufffd")
        reasons = (
            pa.array([reason] * len(index), pa.string())
            if isinstance(reason, str)
            else pa.array(reason, pa.string()).take(pa.array(index))
        )
        self.parts.append(
            pa.table(
                {
                    "row": pa.array(np.abs(self.rows[index]), pa.int64()),
                    "field": pa.array([field] * len(index), pa.string()),
                    "value": pc.utf8_slice_codeunits(picked, 0, 200),
                    "reason": reasons,
                },
                schema=ERROR_SCHEMA,
            )
        )
        self.bad |= mask

    def table(self) -> pa.Table:
        if not self.parts:
            return ERROR_SCHEMA.empty_table()
        return pa.concat_tables(self.parts).sort_by([("row", "ascending")])


def _mask(array) -> np.ndarray:
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def check_chunk(
    kind: str,
    chunk: pa.Table,
    mapping: dict[str, str],
    *,
    now: datetime,
    assume_offset: str | None = None,
) -> Checked:
    rows = chunk[ROW].to_numpy()
    errors = _Errors(rows)
    by_schema = {target: source for source, target in mapping.items()}
    first = chunk.column(0) if chunk.num_columns > 1 else pa.array([""] * len(rows))
    # The line reader marks rows with the wrong number of fields by a negative row number.
    errors.add(rows < 0, "*", first, pc.cast(first, pa.string()).to_pylist())
    typed: dict[str, pa.Array] = {}
    for column in SCHEMAS[kind]:
        source = by_schema.get(column.name)
        if source is None:
            values = pa.array([""] * len(rows), pa.string())
        else:
            values = pc.utf8_trim_whitespace(chunk[source].combine_chunks())
            control = _mask(pc.match_substring_regex(values, CONTROL))
            errors.add(control, column.name, values, "含有控制字符(如NUL、换行)或乱码“\ufffd”")
        empty = _mask(pc.equal(pc.utf8_length(values), 0))
        if column.default:
            values = pc.if_else(pa.array(empty), column.default, values)
            empty = np.zeros_like(empty)
        if column.required:
            errors.add(empty, column.name, values, "必填项为空")
        typed[column.name] = _CHECKS[column.check](
            column, values, empty, errors, now=now, assume_offset=assume_offset
        )
    keep = pa.array(~errors.bad)
    good = pa.table({**typed, ROW: chunk[ROW]}).filter(keep)
    return Checked(good, errors.table())


def _text(column: Column, values, empty, errors, **_):
    too_long = _mask(pc.greater(pc.utf8_length(values), column.max_length))
    errors.add(too_long, column.name, values, f"超过{column.max_length}个字符")
    return values


def _phone(column: Column, values, empty, errors, **_):
    values = pc.replace_substring(values, " ", "")
    bad = ~_mask(pc.match_substring_regex(values, _PHONE)) & ~empty
    errors.add(bad, column.name, values, "手机号应为11位数字(固话为区号-号码)")
    return values


def _code(column: Column, values, empty, errors, **_):
    digits = _mask(pc.match_substring_regex(values, r"^\d+$"))
    length = pc.utf8_length(values).to_numpy(zero_copy_only=False)
    ok = digits & np.isin(length, column.code_lengths)
    lengths = "或".join(str(n) for n in column.code_lengths)
    errors.add(~ok & ~empty, column.name, values, f"应为{lengths}位数字的区划代码")
    return values


def _choice(column: Column, values, empty, errors, **_):
    keys = list(column.choices)
    lowered = pc.utf8_lower(values)
    index = pc.index_in(lowered, value_set=pa.array(keys))
    unknown = _mask(pc.is_null(index)) & ~empty
    allowed = "、".join(dict.fromkeys(column.choices.values()))
    errors.add(unknown, column.name, values, f"取值应为 {allowed} 之一")
    stored = pa.array(list(column.choices.values()), pa.string())
    return pc.fill_null(pc.take(stored, index), "")


def _pool_size(column: Column, values, empty, errors, **_):
    ok = _mask(pc.is_in(values, value_set=pa.array(["1", "10", "20"])))
    errors.add(~ok & ~empty, column.name, values, "混采人数应为1、10或20")
    return pc.cast(pc.if_else(pa.array(ok), values, "0"), pa.int16())


def _timestamp(column: Column, values, empty, errors, *, now, assume_offset, **_):
    naive = _mask(pc.match_substring_regex(values, _NAIVE))
    if assume_offset:
        values = pc.if_else(
            pa.array(naive), pc.binary_join_element_wise(values, assume_offset, ""), values
        )
    zoned = _mask(pc.match_substring_regex(values, _WITH_ZONE))
    errors.add(
        _mask(pc.match_substring_regex(values, _ANY_OFFSET)) & ~zoned,
        column.name,
        values,
        "UTC偏移无效:应为±HH:MM,分钟为00、30或45,且不超过±14:00(北京时间为+08:00)",
    )
    errors.add(
        naive & ~zoned,
        column.name,
        values,
        "时间缺少UTC偏移,请写明时区,如 2022-04-20T08:00:00+08:00",
    )
    errors.add(
        ~zoned & ~naive & ~empty, column.name, values, "时间格式无效,应为 2022-04-20T08:00:00+08:00"
    )
    parsed = _parse_times(values, zoned)
    bad = _mask(pc.and_(pa.array(zoned), pc.is_null(parsed)))
    errors.add(bad, column.name, values, "不是有效的日期时间")
    # Clocks drift and zones get mixed up, but an observation a day ahead of us is an error.
    latest = now + timedelta(days=3650 if column.planned else 1)
    out_of_range = _mask(
        pc.or_(
            pc.less(parsed, pa.scalar(EARLIEST, TIMESTAMP)),
            pc.greater(parsed, pa.scalar(latest, TIMESTAMP)),
        )
    )
    errors.add(out_of_range, column.name, values, "时间不合理(早于2019年12月或晚于当前时间)")
    return parsed


def _parse_times(values: pa.Array, zoned: np.ndarray) -> pa.Array:
    """Arrow's ISO parser for the well-formed texts; if any of those is still not a real time
    (a 31 February), fall back to one at a time so only that row fails."""
    text = pc.if_else(
        pa.array(zoned), pc.replace_substring(values, " ", "T"), pa.scalar(None, pa.string())
    )
    try:
        return pc.cast(text, TIMESTAMP)
    except pa.ArrowInvalid:
        parsed = []
        for value in text.to_pylist():
            try:
                parsed.append(datetime.fromisoformat(value.replace("z", "Z")) if value else None)
            except ValueError:
                parsed.append(None)
        return pa.array(parsed, TIMESTAMP)


def _id_number(column: Column, values, empty, errors, *, now, **_):
    # The same check, and the same "today" (Beijing's), as the sign-in page's.
    verdicts = check_id_numbers(values.to_numpy(zero_copy_only=False), beijing_date(now))
    reasons = [""] * len(values)
    for i, reason in verdicts.reasons.items():
        reasons[i] = reason
    errors.add(~verdicts.ok & ~empty, column.name, values, reasons)
    # Stored and compared in one spelling: no blanks around it, upper-case X.
    return pc.utf8_upper(values)


_USCC_REASONS = (
    (InvalidChecksum, "校验位不符:统一社会信用代码第18位应为按GB 32100计算的校验码"),
    (InvalidLength, "统一社会信用代码应为18位"),
    (InvalidComponent, "统一社会信用代码的登记管理部门代码、机构类别代码或区划码无效"),
    (InvalidFormat, "统一社会信用代码含有无效字符(只能是数字和除I、O、Z、S、V外的大写字母)"),
)


def _uscc_reason(value: str) -> str:
    try:
        gb32100.validate(value)
    except ValidationError as exc:
        return next(
            (reason for kind, reason in _USCC_REASONS if isinstance(exc, kind)),
            "不是有效的统一社会信用代码",
        )
    return ""


def _uscc(column: Column, values, empty, errors, **_):
    """A unified social credit code (GB 32100), checked by its check character; stored upper-case
    without blanks."""
    values = pc.utf8_upper(pc.replace_substring(values, " ", ""))
    reasons = [_uscc_reason(v) if v else "" for v in values.to_pylist()]
    bad = np.array([bool(r) for r in reasons], dtype=bool)
    errors.add(bad & ~empty, column.name, values, reasons)
    return values


_TRUE = ("是", "true", "1", "yes", "y", "√")
_FALSE = ("否", "false", "0", "no", "n", "×")


def _boolean(column: Column, values, empty, errors, **_):
    lowered = pc.utf8_lower(values)
    yes = _mask(pc.is_in(lowered, value_set=pa.array(_TRUE)))
    no = _mask(pc.is_in(lowered, value_set=pa.array(_FALSE)))
    errors.add(~yes & ~no & ~empty, column.name, values, "取值应为 是 或 否(true/false、1/0)")
    return pa.array(yes, pa.bool_())


def _count(column: Column, values, empty, errors, **_):
    low, high = column.bounds
    digits = _mask(pc.match_substring_regex(values, r"^\d{1,9}$"))
    errors.add(~digits & ~empty, column.name, values, "应为不带小数的非负整数")
    numbers = pc.cast(pc.if_else(pa.array(digits), values, "0"), pa.int64())
    outside = digits & _mask(
        pc.or_(pc.less(numbers, pa.scalar(low)), pc.greater(numbers, pa.scalar(high)))
    )
    errors.add(outside, column.name, values, f"应在{low}到{high}之间")
    return numbers


def _percent(column: Column, values, empty, errors, **_):
    """A percentage from 0 to 200 with at most one decimal ("78", "78.5", "78.5%")."""
    values = pc.utf8_rtrim(values, "%")
    ok = _mask(pc.match_substring_regex(values, r"^\d{1,3}(\.\d)?$"))
    errors.add(~ok & ~empty, column.name, values, "应为百分数,最多一位小数,如 78 或 78.5")
    numbers = pc.cast(pc.if_else(pa.array(ok), values, "0"), pa.decimal128(5, 1))
    over = ok & _mask(pc.greater(numbers, pa.scalar(200, pa.decimal128(5, 1))))
    errors.add(over, column.name, values, "应在0到200之间")
    return numbers


SHANGHAI = ZoneInfo("Asia/Shanghai")
_DATE = r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})([T ]00:00(:00)?)?$"


def _date(column: Column, values, empty, errors, *, now, **_):
    """A calendar day (Asia/Shanghai), as 2022-04-20 (2022/4/20, or an Excel date at midnight),
    not after today and not before December 2019."""
    today = now.astimezone(SHANGHAI).date()
    days: list[date | None] = []
    reasons: list[str] = []
    for value in values.to_pylist():
        found = re.match(_DATE, value or "")
        if found is None:
            days.append(None)
            reasons.append("日期格式无效,应为 2022-04-20")
            continue
        try:
            day = date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError:
            days.append(None)
            reasons.append("不是有效的日期")
            continue
        days.append(day)
        if day > today:
            reasons.append(f"日期晚于今天({today.isoformat()}),不能提前报告")
        elif day < EARLIEST.date():
            reasons.append("日期不合理(早于2019年12月)")
        else:
            reasons.append("")
    bad = np.array([bool(r) for r in reasons], dtype=bool)
    errors.add(bad & ~empty, column.name, values, reasons)
    return pa.array([d if not b else None for d, b in zip(days, bad, strict=True)], pa.date32())


_CHECKS = {
    "uscc": _uscc,
    "boolean": _boolean,
    "count": _count,
    "percent": _percent,
    "date": _date,
    "id_number": _id_number,
    "text": _text,
    "phone": _phone,
    "code": _code,
    "choice": _choice,
    "pool_size": _pool_size,
    "timestamp": _timestamp,
}
