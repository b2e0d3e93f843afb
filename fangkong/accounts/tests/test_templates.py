"""What every page is built from: no template prints its own comments.

Django's `{# #}` comment ends at the end of its line; one spread over two lines is printed on the
page as it is. The lexer tells a comment from text exactly as rendering does, so reading each
template's text tokens finds such a comment in any template, a new one included.
"""

from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType

import fangkong

TEMPLATES = sorted(
    path
    for path in Path(fangkong.__file__).parent.rglob("templates/**/*")
    if path.suffix in {".html", ".txt"}
)


def printed_comment_markers(source: str) -> list[str]:
    return [
        token.contents.strip().splitlines()[0]
        for token in Lexer(source).tokenize()
        if token.token_type == TokenType.TEXT and ("{#" in token.contents or "#}" in token.contents)
    ]


def test_the_templates_are_found():
    names = {path.name for path in TEMPLATES}
    assert {"base.html", "_search_results.html", "home.html"} <= names


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p).split("fangkong/", 1)[-1])
def test_no_template_prints_a_comment_on_the_page(path):
    assert printed_comment_markers(path.read_text()) == []


def test_a_comment_over_two_lines_is_caught():
    assert printed_comment_markers("{# one line #}<p>x</p>{# two\nlines #}") == ["<p>x</p>{# two"]
