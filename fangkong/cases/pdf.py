"""A published bulletin as a PDF (issue 14), built with ReportLab from plain values: the title,
the publication line, the text (one paragraph a line), the figures as a small table and the
corrections, if any. Chinese is set in ReportLab's built-in CID font STSong-Light, which needs no
font file: the reader's viewer supplies the glyphs, so the characters show as characters."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _styles(font: str) -> dict[str, ParagraphStyle]:
    # wordWrap="CJK": Chinese has no spaces, so a line may break between any two characters.
    body = ParagraphStyle("body", fontName=font, fontSize=11, leading=18, wordWrap="CJK")
    return {
        "title": ParagraphStyle(
            "title", parent=body, fontSize=16, leading=24, alignment=1, spaceAfter=4 * mm
        ),
        "meta": ParagraphStyle("meta", parent=body, fontSize=9, textColor=colors.grey),
        "body": ParagraphStyle("text", parent=body, firstLineIndent=22, spaceAfter=2 * mm),
        "heading": ParagraphStyle("heading", parent=body, fontSize=12, spaceBefore=4 * mm),
    }


def bulletin_pdf(
    *,
    title: str,
    published: str,
    text: str,
    figures: list[tuple[str, int]],
    corrections: list[str],
) -> bytes:
    """The PDF's bytes. `published` is the publication line as shown; `figures` the (label,
    value) rows of the table; `corrections` one sentence each."""
    font = _font()
    style = _styles(font)
    story = [Paragraph(escape(title), style["title"]), Paragraph(escape(published), style["meta"])]
    story.append(Spacer(1, 4 * mm))
    story += [Paragraph(escape(p), style["body"]) for p in text.splitlines() if p.strip()]
    if figures:
        story.append(Paragraph("主要数据", style["heading"]))
        table = Table(
            [["项目", "人数"], *[[label, str(value)] for label, value in figures]],
            colWidths=[70 * mm, 30 * mm],
            hAlign="LEFT",
        )
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("FONTSIZE", (0, 0), (-1, -1), 10),
                    ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                    ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ]
            )
        )
        story.append(table)
    if corrections:
        story.append(Paragraph("更正", style["heading"]))
        story += [Paragraph(escape(c), style["body"]) for c in corrections]
    out = io.BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=A4,
        title=title,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
    ).build(story)
    return out.getvalue()
