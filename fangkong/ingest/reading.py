"""Turn an uploaded file (CSV in UTF-8, UTF-8 with BOM or GB18030; Excel .xlsx) or a list of
JSON rows into Arrow tables of strings, in chunks, each row keeping its row number in the file
(the header is row 1, as a spreadsheet shows it).

Whatever the file holds, reading raises nothing but UnreadableFile (the file as a whole, with the
reason). A row that cannot be taken apart as the header says (a wrong number of fields, a quote
left open that swallows the lines after it, an over-long Excel cell) comes out with a negative
row number and the reason in its first column, for validation to report on that row."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from fangkong.ingest import xlsx
from fangkong.ingest.errors import UnreadableFile

ROW = "_row"
CHUNK_ROWS = 250_000
XLSX_MAGIC = b"PK\x03\x04"
HEAD_BYTES = 1 << 20
# Characters no cell of ours holds: C0 controls (NUL above all: PostgreSQL refuses it), DEL, and
# U+FFFD, the mark of text that was already garbled before it reached us.
# The pattern holds the characters themselves, not escapes: Arrow's RE2 has no \\u escape.
CONTROL = "[\x00-\x1f\x7f\ufffd]"
_CONTROL = re.compile(CONTROL)


@dataclass
class Opened:
    file_format: str  # csv, xlsx, json
    encoding: str
    header: list[str]
    chunks: Iterator[pa.Table]


# -- encodings --------------------------------------------------------------------------------

# A GB18030 character in two bytes, or in four; anything else is a byte on its own.
_GB_TOKEN = re.compile(rb"[\x81-\xfe][\x30-\x39][\x81-\xfe][\x30-\x39]|[\x81-\xfe][\x40-\xfe]")


def _utf8_prefix(head: bytes) -> str | None:
    """`head` as UTF-8 text, or None; a character cut at the end of `head` is fine."""
    try:
        return codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return None


def _mostly_utf8(head: bytes) -> bool:
    """UTF-8 with a few bad bytes (a pasted Latin-1 character), not another encoding: GB18030
    text read as UTF-8 is nearly all errors, with one character in seven valid by chance."""
    text = head.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 0x7F) - bad
    return good >= 4 * bad


def _looks_like_big5(head: bytes) -> bool:
    """Big5 (traditional Chinese) bytes are mostly valid GB18030 too, and read as such give
    kana, Greek, box drawing and rare characters where simplified text has common hanzi."""
    try:
        codecs.getincrementaldecoder("cp950")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    common = odd = 0
    for token in _GB_TOKEN.findall(head):
        lead, trail = token[0], token[1]
        if len(token) == 2 and trail >= 0xA1 and (0xB0 <= lead <= 0xF7 or lead in (0xA1, 0xA3)):
            common += 1  # GB2312 hanzi, and the punctuation rows (,。、·)
        else:
            odd += 1
    return odd >= 2 and odd > 0.3 * (common + odd)


def detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if _utf8_prefix(head) is not None:
        return "utf-8"
    if _mostly_utf8(head):
        line = _first_bad_line(head, "utf-8")
        raise UnreadableFile(
            f"文件是UTF-8编码,但第{line}行有不是UTF-8的字节(可能混入了其他编码的文字),"
            "请修正该行后重新上传"
        )
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=False)
        return "gb18030"
    except UnicodeDecodeError as exc:
        raise UnreadableFile("无法识别文件编码:请使用UTF-8或GB18030") from exc


def _first_bad_line(head: bytes, encoding: str) -> int:
    try:
        codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except UnicodeDecodeError as exc:
        return head[: exc.start].count(b"\n") + 1
    return 1


def _check_encoding(head: bytes, encoding: str) -> None:
    """Refuse a file whose bytes say it is not in the encoding it would be read in."""
    if encoding != "gb18030":
        return
    if not head.isascii() and _utf8_prefix(head) is not None:
        raise UnreadableFile(
            "文件是UTF-8编码,不是GB18030:请选择UTF-8或“自动识别”(否则中文会读成乱码)"
        )
    if _looks_like_big5(head):
        raise UnreadableFile(
            "文件像是Big5(繁体中文)编码,不是GB18030:请在Excel中另存为“CSV UTF-8”后上传"
        )


# -- files ------------------------------------------------------------------------------------


def open_file(path: Path, encoding: str | None = None) -> Opened:
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    if head.startswith(XLSX_MAGIC) or path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _open_xlsx(path)
    if not head.strip():
        raise UnreadableFile("文件为空")
    encoding = encoding or detect_encoding(head)
    _check_encoding(head, encoding)
    return _open_csv(path, head, encoding)


def check_header(header: list[str]) -> list[str]:
    """The header with unnamed columns named by position; refused if a name repeats or holds
    control characters, because then no one can say which column a value came from."""
    named = []
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if _CONTROL.search(name):
            raise UnreadableFile(f"第1行第{i}列的列名含有控制字符或乱码")
        name = name.strip()
        key = name.lower()
        if key and key in seen:
            raise UnreadableFile(
                f"第1行的列名“{name}”出现了两次(第{seen[key]}列和第{i}列):请删除或改名其中一列"
            )
        seen[key] = i
        named.append(name or f"列{i}")
    return named


class _NeedsLineReader(Exception):
    pass


def _open_csv(path: Path, head: bytes, encoding: str) -> Opened:
    first_line, newline, _ = head.partition(b"\n")
    if not newline and len(head) == HEAD_BYTES:
        raise UnreadableFile("第1行(列名)过长")
    try:
        text = first_line.decode(encoding).rstrip("\r")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"第1行(列名)的字符不是{encoding}编码") from exc
    header = next(csv.reader([text]), [])
    if not header or not any(h.strip() for h in header):
        raise UnreadableFile("第1行应为列名")
    header = check_header(header)
    return Opened("csv", encoding, header, _csv_chunks(path, header, encoding))


def _csv_chunks(path: Path, header: list[str], encoding: str) -> Iterator[pa.Table]:
    """Arrow's parser for speed. A file it cannot parse row for row (a row with the wrong
    number of fields, a blank line, a line break inside a field) is read again by the line
    reader, which names each bad row. Callers consume every chunk before writing anything, so
    the restart loses nothing."""
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
            read_options=pa_csv.ReadOptions(
                encoding=arrow_encoding,
                block_size=16 << 20,
                column_names=header,
                skip_rows=1,
            ),
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
        # A field with a line break spans lines: only the line reader numbers those rows right.
        if any(_has_line_break(column) for column in table.columns):
            raise _NeedsLineReader
        yield _with_rows(table, pa.array(range(start, start + table.num_rows), pa.int64()))
        start += table.num_rows


def _has_line_break(column: pa.ChunkedArray) -> bool:
    # The bytes of the strings, searched whole: many times faster than a per-value match. A hit
    # outside the column's slice only costs the slower reader.
    for chunk in column.chunks:
        data = chunk.buffers()[2]
        if data is not None:
            raw = data.to_pybytes()
            if b"\n" in raw or b"\r" in raw:
                return True
    return False


def _line_chunks(path: Path, header: list[str], encoding: str) -> Iterator[pa.Table]:
    width = len(header)
    columns: list[list[str]] = [[] for _ in range(width)]
    numbers: list[int] = []

    def refuse(number: int, reason: str) -> None:
        numbers.append(-number)  # a row error, reported by validation
        for column, value in zip(columns, [reason] + [""] * (width - 1), strict=True):
            column.append(value)

    line = 1
    try:
        with open(path, encoding=encoding, errors="strict", newline="") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            line = reader.line_num
            for fields in reader:
                number, line = line + 1, reader.line_num
                if line > number:
                    refuse(
                        number,
                        f"第{number}行有未闭合的引号(或单元格内有换行):"
                        f"第{number}至{line}行被读成了一行,请检查引号",
                    )
                elif not fields or not any(f.strip() for f in fields):
                    continue
                elif len(fields) != width:
                    refuse(number, f"应有{width}列,实有{len(fields)}列")
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
        if "field larger than field limit" in str(exc):
            raise UnreadableFile(
                f"第{line + 1}行附近有超过{csv.field_size_limit()}个字符的单元格(可能是引号未闭合)"
            ) from exc
        raise UnreadableFile(f"第{line + 1}行无法解析:{exc}") from exc
    if numbers:
        yield _columns_table(header, columns, numbers)


def _with_rows(table: pa.Table, rows: pa.Array) -> pa.Table:
    return table.append_column(ROW, rows)


def _columns_table(header: list[str], columns: list[list[str]], numbers: list[int]) -> pa.Table:
    table = pa.table({str(i): pa.array(c, type=pa.string()) for i, c in enumerate(columns)})
    table = table.rename_columns(header)
    return _with_rows(table, pa.array(numbers, type=pa.int64()))


# -- Excel ------------------------------------------------------------------------------------


def _open_xlsx(path: Path) -> Opened:
    try:
        book, sheet = xlsx.open_sheet(path)
    except xlsx.XlsxError as exc:
        raise UnreadableFile(str(exc)) from exc
    rows = sheet.rows()
    try:
        number, cells = next(rows, (0, {}))
    except xlsx.XlsxError as exc:
        book.close()
        raise UnreadableFile(str(exc)) from exc
    texts = {i: v for i, v in cells.items() if isinstance(v, str) and v.strip()}
    if number != 1 or not texts:
        book.close()
        raise UnreadableFile("Excel第一个工作表的第1行应为列名")
    if any(isinstance(v, xlsx.Oversize) for v in cells.values()):
        book.close()
        raise UnreadableFile(f"Excel第1行(列名)有超过{xlsx.MAX_CELL_CHARS}个字符的单元格")
    sheet.width = max(texts) + 1
    try:
        header = check_header([texts.get(i, "") for i in range(sheet.width)])
    except UnreadableFile:
        book.close()
        raise
    return Opened("xlsx", "", header, _xlsx_chunks(book, rows, header))


def _xlsx_chunks(book, rows, header: list[str]) -> Iterator[pa.Table]:
    width = len(header)
    columns: list[list[str]] = [[] for _ in range(width)]
    numbers: list[int] = []
    try:
        for number, cells in rows:
            texts = [cells.get(i, "") for i in range(width)]
            oversize = [i for i, v in enumerate(texts) if isinstance(v, xlsx.Oversize)]
            if oversize:
                i = oversize[0]
                texts = [
                    f"{xlsx.column_letters(i)}列(“{header[i]}”)的单元格有{texts[i].length}个字符,"
                    f"超过{xlsx.MAX_CELL_CHARS}个"
                ] + [""] * (width - 1)
                number = -number
            elif not any(t.strip() for t in texts):
                continue  # Excel keeps formatted but empty rows; they are not data
            for column, text in zip(columns, texts, strict=True):
                column.append(text)
            numbers.append(number)
            if len(numbers) >= CHUNK_ROWS:
                yield _columns_table(header, columns, numbers)
                columns, numbers = [[] for _ in range(width)], []
        if numbers:
            yield _columns_table(header, columns, numbers)
    except xlsx.XlsxError as exc:
        raise UnreadableFile(str(exc)) from exc
    finally:
        book.close()


# -- JSON rows --------------------------------------------------------------------------------

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _clean(text: str) -> str:
    """A lone surrogate (possible in JSON) cannot be encoded; it becomes U+FFFD, which
    validation refuses."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def open_rows(rows: list[dict]) -> Opened:
    """JSON rows (the API): every value as text, so they go through the same checks."""
    header: list[str] = []
    for row in rows:
        for key in row:
            if key not in header:
                header.append(key)
    names = check_header([_clean(k) for k in header])

    def text(value) -> str:
        return "" if value is None else _clean(str(value))

    def chunks() -> Iterator[pa.Table]:
        for offset in range(0, len(rows), CHUNK_ROWS):
            part = rows[offset : offset + CHUNK_ROWS]
            table = pa.table(
                {
                    name: pa.array([text(r.get(key)) for r in part], type=pa.string())
                    for key, name in zip(header, names, strict=True)
                }
            )
            # In the API, "row" is the 1-based position in the submitted list.
            numbers = pa.array(range(offset + 1, offset + 1 + len(part)), pa.int64())
            yield _with_rows(table, numbers)

    return Opened("json", "utf-8", names, chunks())


def open_bytes(data: bytes, filename: str, encoding: str | None = None) -> tuple[Opened, Path]:
    """For uploads held in memory: spill to a temporary file so large files stream."""
    import tempfile

    suffix = Path(filename).suffix or ".csv"
    handle = tempfile.NamedTemporaryFile(delete=False, suffix=suffix)  # noqa: SIM115
    with handle:
        handle.write(data)
    path = Path(handle.name)
    return open_file(path, encoding), path


__all__ = [
    "CONTROL",
    "ROW",
    "RESTART",
    "Opened",
    "UnreadableFile",
    "check_header",
    "open_file",
    "open_rows",
    "open_bytes",
]
RESTART = _RESTART
