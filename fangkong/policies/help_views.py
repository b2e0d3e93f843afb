"""The policy help page: docs/policies.md rendered, so officials read the reference without a
repository, next to the examples they can start from."""

from __future__ import annotations

import re
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

from fangkong.accounts.scoping import require_role, role_of
from fangkong.accounts.views import POLICY_READERS, render_staff
from fangkong.policies.actions import PUBLISHERS
from fangkong.policies.examples import examples

DOC = settings.PROJECT_DIR / "docs" / "policies.md"


@lru_cache(maxsize=4)
def _rendered(mtime: float) -> str:
    # No raw HTML from the file: the page renders only what Markdown describes.
    markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
    html = markdown.render(DOC.read_text(encoding="utf-8"))
    # The page has its own title: the document's headings go one level down.
    return re.sub(r"<(/?)h([1-5])>", lambda m: f"<{m[1]}h{int(m[2]) + 1}>", html)


@login_required
def policy_help(request):
    require_role(request.user, POLICY_READERS)
    if not DOC.is_file():
        raise Http404("帮助文档缺失")
    return render_staff(
        request,
        "policies/help.html",
        {
            "doc": mark_safe(_rendered(DOC.stat().st_mtime)),  # noqa: S308 - html=False above
            "examples": examples(),
            "can_publish": role_of(request.user) in PUBLISHERS,
        },
    )
