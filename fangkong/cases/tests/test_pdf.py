"""Residents download a published bulletin as a PDF: its Chinese text is set in the built-in
STSong-Light font, so it reads as characters, with the figures, the version and the time of
publication; a bulletin not yet published does not download."""

import base64
import re
import zlib

import pytest
from django.test import Client
from django.urls import reverse

from fangkong.cases.actions import do_draft_bulletin
from fangkong.cases.tests.support import at, case_of
from fangkong.cases.tests.test_pages import APRIL_20, MORNING_AFTER, published

pytestmark = pytest.mark.django_db
STREAM = re.compile(
    rb"<<(?P<dict>(?:(?!>>\s*stream).)*?)>>\s*stream\r?\n(?P<data>.*?)endstream", re.S
)
TEXT = re.compile(rb"/(?P<font>F\d+) [\d.]+ Tf|\((?P<string>(?:\\.|[^\\)])*)\) Tj", re.S)
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(literal: bytes) -> bytes:
    """A PDF literal string's bytes: backslash escapes, octal ones included, undone."""

    def one(m):
        code = m.group(1)
        if code[:1].isdigit():
            return bytes([int(code, 8) & 0xFF])
        return ESCAPES.get(code, code)

    return re.sub(rb"\\([0-7]{1,3}|.)", one, literal, flags=re.S)


def _decoded(stream: bytes, filters: bytes) -> bytes:
    data = stream.strip()
    if b"ASCII85Decode" in filters:
        data = base64.a85decode(data.removesuffix(b"~>"))
    if b"FlateDecode" in filters:
        data = zlib.decompress(data)
    return data


def text_of(pdf: bytes) -> str:
    """The text shown in the CID font, read straight from the page streams (no PDF library):
    the font resource names that stand for STSong-Light, then each string shown in one of them,
    two bytes a character (UCS-2, big-endian)."""
    cid_fonts = {
        name
        for body in re.findall(rb"\d+ 0 obj(.*?)endobj", pdf, re.S)
        if body.lstrip().startswith(b"<<\n/BaseFont /STSong-Light")
        for name in re.findall(rb"/Name /(F\d+)", body)
    }
    shown = []
    for m in STREAM.finditer(pdf):
        font = None
        for token in TEXT.finditer(_decoded(m.group("data"), m.group("dict"))):
            if token.group("font"):
                font = token.group("font")
            elif font in cid_fonts:
                shown.append(_unescape(token.group("string")).decode("utf-16-be"))
    return "".join(shown)


def test_a_published_bulletin_downloads_as_a_pdf_in_chinese_characters(city):
    case_of(city.nanguan[0], [("confirmed", at("4-20", 9))])
    bulletin = published(MORNING_AFTER)
    response = Client().get(reverse("cases:public_pdf", args=[bulletin.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert b"/BaseFont /STSong-Light" in response.content
    assert len(re.findall(rb"/Type /Page\b", response.content)) >= 1
    text = text_of(response.content)
    assert "长春市新冠肺炎疫情通报 2022年4月20日" in text
    assert bulletin.text.replace("\n", "") in text
    assert "第1版" in text and "2022-04-21 08:00" in text
    assert "新增确诊病例" in text


def test_the_public_page_links_to_the_pdf(city):
    case_of(city.nanguan[0], [("confirmed", at("4-20", 9))])
    bulletin = published(MORNING_AFTER)
    html = Client().get(reverse("cases:public")).content.decode()
    assert reverse("cases:public_pdf", args=[bulletin.pk]) in html


def test_a_bulletin_not_yet_published_does_not_download_as_a_pdf(city):
    case_of(city.nanguan[0], [("confirmed", at("4-20", 9))])
    draft = do_draft_bulletin(None, APRIL_20, now=MORNING_AFTER)
    assert Client().get(reverse("cases:public_pdf", args=[draft.pk])).status_code == 404
