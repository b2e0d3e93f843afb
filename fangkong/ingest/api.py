"""POST rows of any kind as JSON; the answer is the same report a file upload gets."""

from typing import Literal

from django.core.exceptions import PermissionDenied
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from fangkong.api_errors import refusals
from fangkong.ingest.actions import do_ingest

router = Router(tags=["ingest"], auth=django_auth)


class IngestIn(Schema):
    rows: list[dict[str, str | int | None]]
    assume_offset: Literal["+08:00", "+00:00"] | None = None


class RowErrorOut(Schema):
    row: int
    field: str
    value: str
    reason: str


class ReportOut(Schema):
    batch_id: int
    kind: str
    rows: int
    inserted: int
    duplicates: int
    flagged: int
    rejected: int
    ignored_columns: list[str]
    codes_changed: int
    failure: str
    errors: list[RowErrorOut]


Kind = Literal["residents", "presence", "designations", "samplings", "results", "sites"]


@router.post(
    "/{kind}",
    response={200: ReportOut, **refusals(400, 401, 403, 413, 422)},
    summary="Load rows of one kind",
)
def ingest_rows(request, kind: Kind, payload: IngestIn):
    if len(payload.rows) > 100_000:
        raise HttpError(413, "一次最多提交100000行,请分批或上传文件")
    try:
        report = do_ingest(
            kind,
            rows=payload.rows,
            user=request.user,
            source="api",
            assume_offset=payload.assume_offset,
        )
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from exc
    return report.to_dict()
