"""POST rows of any kind as JSON; the answer is the same report a file upload gets, or 422 with
the reason when the rows as a whole cannot be loaded."""

from typing import Literal

from django.core.exceptions import PermissionDenied
from ninja import Router, Schema
from ninja.decorators import decorate_view
from ninja.errors import HttpError
from ninja.security import django_auth

from fangkong.api_errors import refusals
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.limits import INGEST_API_BYTES, api_body_limit

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


Kind = Literal[
    "residents",
    "presence",
    "designations",
    "samplings",
    "results",
    "sites",
    "cases",
    "enterprises",
    "employees",
    "daily_reports",
]


@router.post(
    "/{kind}",
    response={200: ReportOut, **refusals(400, 401, 403, 413, 422)},
    summary="Load rows of one kind",
)
@decorate_view(api_body_limit(INGEST_API_BYTES))
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
    if report.failure:
        # Nothing was loaded: the rows as a whole are refused (a field named twice, …).
        raise HttpError(422, f"未能导入(批次 #{report.batch_id}):{report.failure}")
    return report.to_dict()
