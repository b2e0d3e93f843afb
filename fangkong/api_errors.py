"""The error body every API route documents: Ninja and our routes answer `{"detail": …}`."""

from typing import Any

from ninja import Field, Schema


class Problem(Schema):
    detail: str | list[dict[str, Any]] = Field(
        description="Why the request was refused: a message in Chinese (中文说明), or the list of "
        "fields that failed validation"
    )


def refusals(*codes: int) -> dict[int, type[Problem]]:
    """The documented refusals of a route, e.g. refusals(401, 403, 404)."""
    return dict.fromkeys(codes, Problem)
