"""Turn an uploaded file (CSV in UTF-8, UTF-8 with BOM or GB18030; Excel .xlsx) or a list of
JSON rows into Arrow tables of strings, in chunks, each row keeping its row number in the file
(the header is row 1, as a spreadsheet shows it)."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

ROW = "_row"
CHUNK_ROWS = 250_000
XLSX_MAGIC = b"PK\x03\x04"


class UnreadableFile(ValueError):
    """The file as a whole cannot be read; nothing was loaded."""


@dataclass
class Opened:
    file_format: str  # csv, xlsx, json
    encoding: str
    header: list[str]
    chunks: Iterator[pa.Table]


def detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)  # a character cut at the end of `head` is fine
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise UnreadableFile("无法识别文件编码:请使用UTF-8或GB18030") from exc


def open_file(path: Path, encoding: str | None = None) -> Opened:
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    if head.startswith(XLSX_MAGIC) or path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _open_xlsx(path)
    if not head.strip():
        raise UnreadableFile("文件为空")
    return _open_csv(path, head, encoding or detect_encoding(head))


class _NeedsLineReader(Exception):
    pass


def _open_csv(path: Path, head: bytes, encoding: str) -> Opened:
    text = head.decode(encoding, errors="ignore")
    first_line = text.splitlines()[0] if text else ""
    header = next(csv.reader([first_line]), [])
    if not header or not any(h.strip() for h in header):
        raise UnreadableFile("第1行应为列名")
    return Opened("csv", encoding, header, _csv_chunks(path, header, encoding))


def _csv_chunks(path: Path, header: list[str], encoding: str) -> Iterator[pa.Table]:
    """Arrow's parser for speed. A file it cannot parse row for row (a row with the wrong
    number of fields, a blank line) is read again by the line reader, which names each bad row.
    Callers consume every chunk before writing anything, so the restart loses nothing."""
    try:
        yield from _arrow_chunks(path, header, encoding)
    except _NeedsLineReader:
        yield _RESTART
        yield from _line_chunks(path, header, encoding)


# Marks the point where the fast reader gave up and everything before it must be discarded.
_RESTART = pa.table({})


def _arrow_chunks(path: Path, header: list[str], encoding: str) -> Iterator[pa.Table]:
    arrow_encoding = "utf8" if encoding in {"utf-8", "utf-8-sig"} else encoding
    try:
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(encoding=arrow_encoding, block_size=16 << 20),
            parse_options=pa_csv.ParseOptions(ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise _NeedsLineReader from exc
    start = 2
    while True:
        try:
            record_batch = reader.read_next_batch()
        except StopIteration:
            return
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise _NeedsLineReader from exc
        table = pa.Table.from_batches([record_batch])
        yield _with_rows(table, pa.array(range(start, start + table.num_rows), pa.int64()))
        start += table.num_rows


def _line_chunks(path: Path, header: list[str], encoding: str) -> Iterator[pa.Table]:
    width = len(header)
    columns: list[list[str]] = [[] for _ in range(width)]
    numbers: list[int] = []
    with open(path, encoding=encoding, errors="strict", newline="") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        line = reader.line_num
        try:
            for fields in reader:
                number, line = line + 1, reader.line_num
                if not fields or not any(f.strip() for f in fields):
                    continue
                if len(fields) != width:
                    numbers.append(-number)  # a shape error, reported by validation
                    fields = [f"应有{width}列,实有{len(fields)}列"] + [""] * (width - 1)
                else:
                    numbers.append(number)
                for column, value in zip(columns, fields, strict=True):
                    column.append(value)
                if len(numbers) >= CHUNK_ROWS:
                    yield _columns_table(header, columns, numbers)
                    columns, numbers = [[] for _ in range(width)], []
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"第{line + 1}行附近的字符不是{encoding}编码") from exc
        except csv.Error as exc:
            raise UnreadableFile(f"第{line + 1}行无法解析:{exc}") from exc
    if numbers:
        yield _columns_table(header, columns, numbers)


def _with_rows(table: pa.Table, rows: pa.Array) -> pa.Table:
    return table.append_column(ROW, rows)


def _columns_table(header: list[str], columns: list[list[str]], numbers: list[int]) -> pa.Table:
    table = pa.table({str(i): pa.array(c, type=pa.string()) for i, c in enumerate(columns)})
    table = table.rename_columns([h or f"列{i + 1}" for i, h in enumerate(header)])
    return _with_rows(table, pa.array(numbers, type=pa.int64()))


def _cell_text(value) -> str:
    """Excel cells as the text a person typed. Excel dates carry no UTC offset: they become
    naive ISO text, which validation rejects unless the uploader names the zone they are in."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep="T")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _open_xlsx(path: Path) -> Opened:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise UnreadableFile(f"无法读取Excel文件:{exc}") from exc
    rows = workbook.worksheets[0].iter_rows(values_only=True)
    header_row = next(rows, None)
    if not header_row or not any(v is not None for v in header_row):
        workbook.close()
        raise UnreadableFile("Excel第一个工作表的第1行应为列名")
    header = [_cell_text(v).strip() for v in header_row]
    while header and not header[-1]:
        header.pop()
    width = len(header)

    def chunks() -> Iterator[pa.Table]:
        columns: list[list[str]] = [[] for _ in range(width)]
        numbers: list[int] = []
        try:
            for number, values in enumerate(rows, start=2):
                texts = [_cell_text(v) for v in values[:width]]
                if not any(t.strip() for t in texts):
                    continue  # Excel keeps formatted but empty rows; they are not data
                texts += [""] * (width - len(texts))
                for column, text in zip(columns, texts, strict=True):
                    column.append(text)
                numbers.append(number)
                if len(numbers) >= CHUNK_ROWS:
                    yield _columns_table(header, columns, numbers)
                    columns, numbers = [[] for _ in range(width)], []
            if numbers:
                yield _columns_table(header, columns, numbers)
        finally:
            workbook.close()

    return Opened("xlsx", "", header, chunks())


def open_rows(rows: list[dict]) -> Opened:
    """JSON rows (the API): every value as text, so they go through the same checks."""
    header: list[str] = []
    for row in rows:
        for key in row:
            if key not in header:
                header.append(key)

    def text(value) -> str:
        return "" if value is None else str(value)

    def chunks() -> Iterator[pa.Table]:
        for offset in range(0, len(rows), CHUNK_ROWS):
            part = rows[offset : offset + CHUNK_ROWS]
            table = pa.table(
                {
                    name: pa.array([text(r.get(name)) for r in part], type=pa.string())
                    for name in header
                }
            )
            # In the API, "row" is the 1-based position in the submitted list.
            numbers = pa.array(range(offset + 1, offset + 1 + len(part)), pa.int64())
            yield _with_rows(table, numbers)

    return Opened("json", "utf-8", header, chunks())


def open_bytes(data: bytes, filename: str, encoding: str | None = None) -> tuple[Opened, Path]:
    """For uploads held in memory: spill to a temporary file so large files stream."""
    import tempfile

    suffix = Path(filename).suffix or ".csv"
    handle = tempfile.NamedTemporaryFile(delete=False, suffix=suffix)  # noqa: SIM115
    with handle:
        handle.write(data)
    path = Path(handle.name)
    return open_file(path, encoding), path


__all__ = ["ROW", "RESTART", "Opened", "UnreadableFile", "open_file", "open_rows", "open_bytes"]
RESTART = _RESTART
