"""How many bytes a request may send, per route, refused before any of the body is read.

Django parses a multipart body (spilling files to disk) as soon as anything touches
request.POST — the CSRF check does, before the view runs — and only then could a form see that
a file is too large. So an upload route declares its limit here: the declared Content-Length is
checked first (Django never reads past it, and reads nothing without it), and the CSRF check
runs after. The reverse proxy's own limit (docs/ingest.md, "Limits") bounds every other route.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.views.decorators.csrf import csrf_protect

MB = 1 << 20
# Multipart boundaries and part headers, and a form's text fields (a note, a description).
FORM_OVERHEAD = 64 * 1024
# One CSV or .xlsx of facts from the upload page: a round's samplings or a lab's results.
INGEST_FILE_BYTES = 512 * MB
# JSON rows posted to /api/ingest/<kind> (at most 100 000 rows of a few hundred bytes).
INGEST_API_BYTES = 32 * MB


def ingest_file_bytes() -> int:
    return getattr(settings, "FANGKONG_INGEST_MAX_UPLOAD_BYTES", INGEST_FILE_BYTES)


def declared_length(request) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def too_large_text(limit: int) -> str:
    return f"上传的内容超过{filesizeformat(limit)},未予接收:请压缩或拆分文件后重新上传"


Limit = int | Callable[[], int]


def _bytes(limit: Limit) -> int:
    return limit() if callable(limit) else limit


def body_limit(limit: Limit):
    """For a page that takes uploads: a body over `limit` bytes (or a callable giving it,
    read per request so settings apply) is answered 413 without being read."""

    def decorate(view):
        checked = csrf_protect(view)

        @wraps(view)
        def limited(request, *args, **kwargs):
            most = _bytes(limit)
            if declared_length(request) > most:
                return render(
                    request,
                    "ingest/too_large.html",
                    {"message": too_large_text(most), "back": request.get_full_path()},
                    status=413,
                )
            return checked(request, *args, **kwargs)

        # The middleware's CSRF check would read the body first: csrf_protect above runs it
        # once the size is known to be fine.
        limited.csrf_exempt = True
        return limited

    return decorate


def api_body_limit(limit: Limit):
    """The same for an API operation (with ninja's decorate_view): a JSON 413."""

    def decorate(run):
        @wraps(run)
        def limited(request, *args, **kwargs):
            most = _bytes(limit)
            if declared_length(request) > most:
                return JsonResponse({"detail": too_large_text(most)}, status=413)
            return run(request, *args, **kwargs)

        return limited

    return decorate
