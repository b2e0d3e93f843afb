"""The error body every API route documents: Ninja and our routes answer `{"detail": …}`, and so
does whatever an API view raises, instead of Django's HTML error pages."""

import logging
from functools import partial
from typing import Any

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from ninja import Field, Schema

log = logging.getLogger("fangkong.api")
SERVER_ERROR = "服务器内部错误"


class Problem(Schema):
    detail: str | list[dict[str, Any]] = Field(
        description="Why the request was refused: a message in Chinese (中文说明), or the list of "
        "fields that failed validation"
    )


def refusals(*codes: int) -> dict[int, type[Problem]]:
    """The documented refusals of a route, e.g. refusals(401, 403, 404)."""
    return dict.fromkeys(codes, Problem)


def _server_error(request, exc, *, api):
    # The traceback goes to the log; the client learns only that it was not its fault.
    log.error("%s %s failed", request.method, request.path, exc_info=exc)
    return api.create_response(request, {"detail": SERVER_ERROR}, status=500)


def _forbidden(request, exc, *, api):
    return api.create_response(
        request, {"detail": str(exc) or "您的角色无权进行此操作"}, status=403
    )


def _bad_request(request, exc, *, api):
    if isinstance(exc, SuspiciousOperation):  # logged where Django logs them
        logging.getLogger(f"django.security.{type(exc).__name__}").error(str(exc), exc_info=exc)
    detail = "请求内容超过大小限制" if isinstance(exc, RequestDataTooBig) else "请求无效"
    return api.create_response(request, {"detail": detail}, status=400)


def answer_in_json(api) -> None:
    """Ninja hands exceptions it has no handler for back to Django, whose answer is an HTML page
    (400, 403 or 500); these handlers answer as the API does. Ninja's own (404, 422, HttpError)
    are more specific and still win."""
    api.add_exception_handler(Exception, partial(_server_error, api=api))
    api.add_exception_handler(PermissionDenied, partial(_forbidden, api=api))
    api.add_exception_handler(SuspiciousOperation, partial(_bad_request, api=api))
    api.add_exception_handler(BadRequest, partial(_bad_request, api=api))
