"""Workbooks written part by part, as Excel lays them out (shared strings, styles), including
hostile ones: a cell of many megabytes is streamed into the zip, never held whole."""

import zipfile
from xml.sax.saxutils import escape

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
ROOT_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK_RELS = (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
    f'<Relationship Id="rId3" Type="{REL}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# Style 0: general; style 1: a date and time (numFmt 22, m/d/yy h:mm).
STYLES = (
    f'<styleSheet xmlns="{MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def workbook(date1904: bool = False) -> str:
    pr = '<workbookPr date1904="1"/>' if date1904 else ""
    return (
        f'<workbook xmlns="{MAIN}" xmlns:r="{REL}">{pr}'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


class Huge:
    """A text of `length` times `char`, written into the zip in pieces."""

    def __init__(self, length: int, char: str = "A"):
        self.length, self.char = length, char


def _cell(reference: str, value, strings: list[str]) -> list:
    if isinstance(value, Huge):
        return [f'<c r="{reference}" t="inlineStr"><is><t>', value, "</t></is></c>"]
    if isinstance(value, tuple):  # ("date", 44672.5) or ("number", "3.5") or ("rich", [...])
        kind, content = value
        if kind == "date":
            return [f'<c r="{reference}" s="1"><v>{content}</v></c>']
        if kind == "number":
            return [f'<c r="{reference}"><v>{content}</v></c>']
        runs = "".join(f"<r><t>{escape(t)}</t></r>" for t in content)
        strings.append(f'<si>{runs}<rPh sb="0" eb="1"><t>ヨミ</t></rPh></si>')
        return [f'<c r="{reference}" t="s"><v>{len(strings) - 1}</v></c>']
    strings.append(f"<si><t>{escape(str(value))}</t></si>")
    return [f'<c r="{reference}" t="s"><v>{len(strings) - 1}</v></c>']


def write_xlsx(
    path, rows: list[list], date1904: bool = False, sheet_head: str = "", prolog: str = ""
) -> str:
    """Rows of cells: text (a shared string), Huge (an inline string written in pieces), or a
    tuple for a date, a number or rich text. Row i is row i + 1 of the sheet."""
    strings: list[str] = []
    pieces: list = [f'{prolog}<worksheet xmlns="{MAIN}">{sheet_head}<sheetData>']
    for number, row in enumerate(rows, start=1):
        pieces.append(f'<row r="{number}">')
        for column, value in enumerate(row):
            pieces += _cell(f"{chr(65 + column)}{number}", value, strings)
        pieces.append("</row>")
    pieces.append("</sheetData></worksheet>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr("xl/workbook.xml", workbook(date1904))
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        book.writestr("xl/styles.xml", STYLES)
        book.writestr(
            "xl/sharedStrings.xml",
            f'<sst xmlns="{MAIN}" count="{len(strings)}">{"".join(strings)}</sst>',
        )
        with book.open("xl/worksheets/sheet1.xml", "w") as sheet:
            for piece in pieces:
                if isinstance(piece, Huge):
                    block = (piece.char * (1 << 20)).encode()
                    whole, rest = divmod(piece.length, 1 << 20)
                    for _ in range(whole):
                        sheet.write(block)
                    sheet.write((piece.char * rest).encode())
                else:
                    sheet.write(piece.encode())
    return str(path)
