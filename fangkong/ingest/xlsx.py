"""The first worksheet of an .xlsx, read as a stream with limits: a few hundred kilobytes of zip
can unpack to gigabytes of XML, one cell can hold hundreds of megabytes, and a general reader
(openpyxl) keeps each cell and the whole shared-string table in memory. Here the XML is parsed
piece by piece (expat), a cell longer than MAX_CELL_CHARS keeps only its length, and every part
has a ceiling; a file over one is refused whole (UnreadableFile) before it costs much."""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

# Longer cells are not data we take (the longest column is 200 characters): the row is refused.
MAX_CELL_CHARS = 4096
MAX_COLUMNS = 256
MAX_ROWS = 1_048_576  # Excel's own limit
MAX_SHARED_STRINGS = 4_000_000
MAX_SHEET_BYTES = 1 << 30  # unpacked XML of the worksheet
MAX_SHARED_BYTES = 256 << 20
MAX_PART_BYTES = 8 << 20  # workbook, relationships, styles
# Bytes expat may hold in one unfinished token (a tag, a comment): real ones are short.
MAX_PENDING = 1 << 20
READ = 1 << 16


class XlsxError(ValueError):
    """The workbook as a whole cannot be read; the message is for the person who sent it."""


class Oversize:
    """A cell longer than MAX_CELL_CHARS: only its length is kept."""

    def __init__(self, length: int):
        self.length = length


Cell = str | Oversize


class _LocalNames(dict):
    """x:c -> c: parts may prefix their element names; looked up once per distinct name."""

    def __missing__(self, name: str) -> str:
        self[name] = local = name.rsplit(":", 1)[-1]
        return local


LOCAL = _LocalNames()


def _refuse_dtd(*_):
    raise XlsxError("Excel文件包含DTD声明,不予读取")


def _parse(book: zipfile.ZipFile, part: str, limit: int, start, end=None, text=None):
    """Feed one part of the zip to expat in pieces, calling the handlers."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = READ
    parser.StartDoctypeDeclHandler = _refuse_dtd
    # The handlers take element names as they come and look them up in LOCAL themselves.
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
    fed = 0
    try:
        with book.open(part) as stream:
            while chunk := stream.read(READ):
                fed += len(chunk)
                if fed > limit:
                    raise XlsxError(f"Excel文件的{part}解压后超过{limit >> 20} MB,不予读取")
                parser.Parse(chunk, False)
                if fed - parser.CurrentByteIndex > MAX_PENDING:
                    raise XlsxError(f"Excel文件的{part}含有异常长的标记,不予读取")
                yield
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise XlsxError(f"Excel文件的{part}不是有效的XML:{exc}") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise XlsxError(f"Excel文件已损坏:{exc}") from exc
    yield


def _parse_all(book, part, limit, start, end=None, text=None) -> None:
    for _ in _parse(book, part, limit, start, end, text):
        pass


def _relationships(book: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """id -> (type's last word, target path in the zip) of `part`'s relationships."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    found: dict[str, tuple[str, str]] = {}
    if rels not in book.NameToInfo:
        return found

    def start(tag, attrs):
        if LOCAL[tag] == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            kind = attrs.get("Type", "").rsplit("/", 1)[-1]
            found[attrs.get("Id", "")] = (kind, posixpath.normpath(path))

    _parse_all(book, rels, MAX_PART_BYTES, start)
    return found


def _workbook(book: zipfile.ZipFile) -> tuple[str, dict[str, str], bool]:
    """(the first worksheet's part, the workbook's other parts by type, 1904 dates?)."""
    office = [t for k, t in _relationships(book, "").values() if k == "officeDocument"]
    part = office[0] if office else "xl/workbook.xml"
    if part not in book.NameToInfo:
        raise XlsxError("不是Excel工作簿(.xlsx):缺少workbook.xml")
    sheets: list[str] = []
    date1904 = [False]

    def start(tag, attrs):
        tag = LOCAL[tag]
        if tag == "sheet":
            sheets.extend(v for k, v in attrs.items() if LOCAL[k] == "id")
        elif tag == "workbookPr":
            date1904[0] = attrs.get("date1904", "").lower() in ("1", "true")

    _parse_all(book, part, MAX_PART_BYTES, start)
    rels = _relationships(book, part)
    if not sheets or sheets[0] not in rels or rels[sheets[0]][1] not in book.NameToInfo:
        raise XlsxError("Excel文件中没有工作表")
    others = {kind: target for kind, target in rels.values() if target in book.NameToInfo}
    return rels[sheets[0]][1], others, date1904[0]


class _Text:
    """Character data of one cell: at most MAX_CELL_CHARS kept, the rest only counted."""

    def __init__(self):
        self.pieces: list[str] = []
        self.length = 0

    def add(self, data: str) -> None:
        if self.length + len(data) <= MAX_CELL_CHARS:
            self.pieces.append(data)
        self.length += len(data)

    def value(self) -> Cell:
        return Oversize(self.length) if self.length > MAX_CELL_CHARS else "".join(self.pieces)


def _shared_strings(book: zipfile.ZipFile, part: str | None) -> list[Cell]:
    strings: list[Cell] = []
    if part is None:
        return strings
    state = {"text": None, "depth_rph": 0, "in_t": False}

    def start(tag, attrs):
        tag = LOCAL[tag]
        if tag == "si":
            if len(strings) >= MAX_SHARED_STRINGS:
                raise XlsxError(f"Excel文件的共享字符串超过{MAX_SHARED_STRINGS}个,不予读取")
            state["text"] = _Text()
        elif tag == "rPh":  # phonetic guides are not part of the text
            state["depth_rph"] += 1
        elif tag == "t":
            state["in_t"] = state["text"] is not None and not state["depth_rph"]

    def end(tag):
        tag = LOCAL[tag]
        if tag == "si" and state["text"] is not None:
            strings.append(state["text"].value())
            state["text"] = None
        elif tag == "rPh":
            state["depth_rph"] -= 1
        elif tag == "t":
            state["in_t"] = False

    def text(data):
        if state["in_t"]:
            state["text"].add(data)

    _parse_all(book, part, MAX_SHARED_BYTES, start, end, text)
    return strings


def _date_styles(book: zipfile.ZipFile, part: str | None) -> list[str]:
    """Per cell style (the `s` of a cell): "date", "duration" or ""."""
    if part is None:
        return []
    formats = dict(BUILTIN_FORMATS)
    styles: list[str] = []
    in_cell_xfs = [False]

    def start(tag, attrs):
        tag = LOCAL[tag]
        if tag == "numFmt":
            formats[int(attrs.get("numFmtId", "0") or 0)] = attrs.get("formatCode", "")
        elif tag == "cellXfs":
            in_cell_xfs[0] = True
        elif tag == "xf" and in_cell_xfs[0]:
            code = formats.get(int(attrs.get("numFmtId", "0") or 0), "")
            kind = (
                "duration" if is_timedelta_format(code) else "date" if is_date_format(code) else ""
            )
            styles.append(kind)

    def end(tag):
        if LOCAL[tag] == "cellXfs":
            in_cell_xfs[0] = False

    try:
        _parse_all(book, part, MAX_PART_BYTES, start, end)
    except ValueError as exc:  # a numFmtId that is not a number
        raise XlsxError(f"Excel文件的样式无效:{exc}") from exc
    return styles


_LETTERS = re.compile(r"[A-Z]{1,3}$")
_COLUMNS: dict[str, int | None] = {}


def column_index(reference: str) -> int | None:
    """0 for A1, 26 for AA7; None for no reference."""
    letters = reference.rstrip("0123456789").upper()
    index = _COLUMNS.get(letters, -1)
    if index != -1:
        return index
    if _LETTERS.match(letters):
        index = 0
        for letter in letters:
            index = index * 26 + ord(letter) - 64
        index -= 1
    else:
        index = None
    if len(_COLUMNS) < 20_000:
        _COLUMNS[letters] = index
    return index


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _number_text(value: str, style: str, epoch: datetime) -> str:
    """A number cell as the text a person sees: whole numbers without ".0"; a date-formatted
    number as naive ISO text (validation asks for its zone)."""
    try:
        number = float(value) if any(c in value for c in ".eE") else int(value)
    except ValueError:
        return value
    if style and isinstance(number, int | float):
        try:
            moment = from_excel(number, epoch, timedelta=style == "duration")
        except (OverflowError, ValueError):
            return value
        if isinstance(moment, datetime):
            return moment.isoformat(sep="T")
        if isinstance(moment, date | time):
            return moment.isoformat()
        if isinstance(moment, timedelta):
            return str(moment)
    if isinstance(number, float):
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return repr(number)
    return str(number)


class _Cursor:
    """Where the worksheet's parse is: the row, the cell, and whether text belongs to it."""

    row = rows = 0
    column = -1
    kind = "n"
    style = ""
    text: _Text | None = None
    seen = receiving = in_is = False
    phonetic = 0

    def __init__(self):
        self.cells: dict[int, Cell] = {}


class Sheet:
    """The rows of the first worksheet: (row number, cells by column index). `width` bounds
    the columns kept; set it once the header is known."""

    def __init__(self, book: zipfile.ZipFile):
        part, others, date1904 = _workbook(book)
        self.book = book
        self.part = part
        self.strings = _shared_strings(book, others.get("sharedStrings"))
        self.styles = _date_styles(book, others.get("styles"))
        self.epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        self.width = MAX_COLUMNS

    def rows(self) -> Iterator[tuple[int, dict[int, Cell]]]:
        done: list[tuple[int, dict[int, Cell]]] = []
        at = _Cursor()

        def start(tag, attrs):
            tag = LOCAL[tag]
            if tag == "row":
                number = attrs.get("r", "")
                at.row = int(number) if number.isdigit() else at.row + 1
                at.rows += 1
                if at.row > MAX_ROWS or at.rows > MAX_ROWS:
                    raise XlsxError(f"Excel工作表超过{MAX_ROWS}行,不予读取")
                at.cells, at.column = {}, -1
            elif tag == "c":
                index = column_index(attrs.get("r", ""))
                at.column = at.column + 1 if index is None else index
                at.kind = attrs.get("t", "n")
                style = attrs.get("s", "")
                at.style = (
                    self.styles[int(style)]
                    if style.isdigit() and int(style) < len(self.styles)
                    else ""
                )
                at.text = _Text() if at.column < self.width else None
                at.seen = False
            elif tag == "v" or (tag == "t" and at.in_is and not at.phonetic):
                at.receiving = at.seen = at.text is not None
            elif tag == "is":
                at.in_is = True
            elif tag == "rPh":
                at.phonetic += 1

        def end(tag):
            tag = LOCAL[tag]
            if tag in ("v", "t"):
                at.receiving = False
            elif tag == "c":
                if at.seen:
                    at.cells[at.column] = self._value(at)
                at.text = None
            elif tag == "is":
                at.in_is = False
            elif tag == "rPh":
                at.phonetic -= 1
            elif tag == "row":
                done.append((at.row, at.cells))

        def text(data):
            if at.receiving:
                at.text.add(data)

        for _ in _parse(self.book, self.part, MAX_SHEET_BYTES, start, end, text):
            yield from done
            done.clear()

    def _value(self, at: _Cursor) -> Cell:
        raw = at.text.value()
        kind = at.kind
        if isinstance(raw, Oversize):
            return raw
        if kind == "s":
            try:
                return self.strings[int(raw)]
            except (ValueError, IndexError):
                raise XlsxError(f"Excel文件引用了不存在的共享字符串 {raw[:20]!r}") from None
        if kind == "n":
            return _number_text(raw, at.style, self.epoch)
        return raw  # inlineStr, str (a formula's text), b (0 or 1), e (#N/A), d (ISO text)


def open_sheet(path) -> tuple[zipfile.ZipFile, Sheet]:
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise XlsxError(f"无法读取Excel文件:{exc}") from exc
    try:
        return book, Sheet(book)
    except BaseException:
        book.close()
        raise


__all__ = [
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "Cell",
    "Oversize",
    "Sheet",
    "XlsxError",
    "column_letters",
    "open_sheet",
]
