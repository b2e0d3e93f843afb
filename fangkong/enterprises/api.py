"""JSON API of resumption of work: the dashboard figures (/api/enterprises/...).

GET /stats is the JSON contract of `fangkong enterprises stats --json` (docs/enterprises-dashboard
.md); GET /stats/trend the same figures day by day. Staff authenticate with their session. Who
reads what: fangkong.enterprises.stats.reader_scope (the command centre, auditors and
administrators the whole city; a district reviewer their districts, another county is 403; an
enterprise account its own enterprise only)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from fangkong.api_errors import refusals
from fangkong.enterprises.models import Industry
from fangkong.enterprises.rules import LOCAL
from fangkong.enterprises.stats import district_figures, reader_scope, trend

router = Router(tags=["复工复产"], auth=django_auth)

MAX_TREND_DAYS = 92
DEFAULT_TREND_DAYS = 14
IndustryName = Literal[tuple(Industry.values)]  # type: ignore[valid-type]
INDUSTRY_DOC = "; ".join(f"{value} {label}" for value, label in Industry.choices)
AS_OF_DOC = (
    "数据截至: ISO 8601, Beijing time when it has no offset (2022-04-21T08:00). Default: the "
    "end of the day, or now if that is earlier"
)


class Numbers(Schema):
    registered: int = Field(description="规上工业企业: above-scale enterprises registered by then")
    resumed: int = Field(description="已复工: of them, filing status 已复工 at the end of the day")
    resumption_rate: float | None = Field(
        description="复工率 = resumed / registered, 3 decimals; null when none registered"
    )
    production_rate: float | None = Field(
        description="复产率: capacity of the day's reports of resumed enterprises weighted by "
        "their normal staff, as a fraction, 3 decimals; null when there is nothing to weigh"
    )
    staff_on_duty: int = Field(description="在岗人数: sum of the day's standing reports")
    returning_staff: int = Field(description="返岗人数: sum of the day's standing reports")
    reported: int = Field(description="已报送日报的企业数")
    not_reported: int = Field(description="未报送日报的企业数")


class IndustryFigures(Numbers):
    industry: IndustryName = Field(description=f"行业: {INDUSTRY_DOC}")
    industry_label: str = Field(description="The industry in Chinese, e.g. 汽车及零部件")


class DistrictFigures(Numbers):
    date: str = Field(description="The day, YYYY-MM-DD (Beijing time)")
    county: str | None = Field(description="区县代码, or null for the city / several districts")
    counties: list[str] | None = Field(
        description="The districts counted when limited to yours; null: as `county` says"
    )
    industry: IndustryName | None = Field(description="Only this industry, if asked")
    as_of: str = Field(description="数据截至 (ISO 8601, +08:00)")
    by_industry: list[IndustryFigures]


class TrendDay(Numbers):
    date: str = Field(description="YYYY-MM-DD")


class Trend(Schema):
    county: str | None
    counties: list[str] | None
    industry: IndustryName | None
    days: list[TrendDay] = Field(description="Oldest first, each day as GET /stats gives it")


class StatsQuery(Schema):
    date: dt.date | None = Field(None, description="日期 YYYY-MM-DD; default today (Beijing)")
    county: str | None = Field(None, pattern=r"^[0-9]{6}$", description="区县代码")
    industry: IndustryName | None = Field(None, description=f"Only this industry: {INDUSTRY_DOC}")
    as_of: str | None = Field(None, description=AS_OF_DOC)


class TrendQuery(Schema):
    start: dt.date | None = Field(
        None,
        alias="from",
        description=f"First day; default {DEFAULT_TREND_DAYS - 1} days before `to`",
    )
    end: dt.date | None = Field(None, alias="to", description="Last day; default today")
    county: str | None = Field(None, pattern=r"^[0-9]{6}$", description="区县代码")
    industry: IndustryName | None = Field(None, description=f"Only this industry: {INDUSTRY_DOC}")
    as_of: str | None = Field(None, description=AS_OF_DOC)


def _today() -> dt.date:
    return timezone.now().astimezone(LOCAL).date()


def _as_of(raw: str | None) -> dt.datetime | None:
    from fangkong.policies.forms import parse_local_time

    if raw is None or not raw.strip():
        return None
    try:
        return parse_local_time(raw)
    except ValueError:
        raise HttpError(
            400, f"as_of:“{raw[:40]}”不是有效的时间,应为ISO 8601,如 2022-04-21T08:00"
        ) from None


def _scope(request, county: str | None) -> dict:
    try:
        return reader_scope(request.user, county)
    except PermissionDenied as error:
        raise HttpError(403, str(error)) from None


@router.get(
    "/stats",
    response={200: DistrictFigures, **refusals(400, 401, 403)},
    summary="The day's resumption figures (复工复产统计)",
    operation_id="enterprises_stats",
)
def stats(request, q: Query[StatsQuery]):
    """复工率, 复产率, staff on duty and returning staff of a day, for the city, a county or by
    industry, computed from the filings and the daily reports as known at `as_of` — the JSON
    contract of `fangkong enterprises stats --json`."""
    scope = _scope(request, q.county)
    return district_figures(q.date or _today(), as_of=_as_of(q.as_of), industry=q.industry, **scope)


@router.get(
    "/stats/trend",
    response={200: Trend, **refusals(400, 401, 403)},
    summary="The resumption figures day by day (复工复产趋势)",
    operation_id="enterprises_stats_trend",
)
def stats_trend(request, q: Query[TrendQuery]):
    """The headline figures of each day from `from` to `to` (at most 92 days),
    each day as known at the end of it (or at `as_of`)."""
    end = q.end or _today()
    start = q.start or end - dt.timedelta(days=DEFAULT_TREND_DAYS - 1)
    if start > end:
        raise HttpError(400, "from:起始日期不能晚于结束日期(to)")
    count = (end - start).days + 1
    if count > MAX_TREND_DAYS:
        raise HttpError(400, f"from/to:一次最多查询{MAX_TREND_DAYS}天,现为{count}天")
    as_of = _as_of(q.as_of)
    scope = _scope(request, q.county)
    days = [start + dt.timedelta(days=n) for n in range(count)]
    return {
        "county": scope["county"],
        "counties": scope["counties"],
        "industry": q.industry,
        "days": trend(days, industry=q.industry, as_of=as_of, **scope),
    }
