"""The resumption dashboard (复工复产调度) and its Excel export: a day's headline figures, a table
by district (the city view), a table by industry and the trend of the last 14 days, computed from
the filings and daily reports as known at a moment (fangkong.enterprises.stats), never typed.

Readers: fangkong.accounts.scoping.ENTERPRISE_READERS, each what stats.reader_scope allows (the
city-wide roles the city, a district reviewer their districts — another county is 403 —, an
enterprise account its own enterprise)."""

from __future__ import annotations

import io
import re
from datetime import date, datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.utils import timezone

from fangkong.accounts.scoping import ENTERPRISE_READERS, districts_of
from fangkong.accounts.scoping import require_role as must_have
from fangkong.accounts.views import render_staff
from fangkong.enterprises.access import own_enterprise_id
from fangkong.enterprises.cli import percent
from fangkong.enterprises.models import Enterprise, Industry
from fangkong.enterprises.rules import LOCAL
from fangkong.enterprises.stats import (
    by_county,
    district_figures,
    last_days,
    moment_of,
    reader_scope,
    trend,
)
from fangkong.places.queries import counties

TREND_DAYS = 14
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _today() -> date:
    return timezone.now().astimezone(LOCAL).date()


def _choices(request) -> tuple[date, str | None, str | None, datetime | None, list[str]]:
    """The day, county, industry and as-of moment asked for; a bad value is named in an error
    and left out."""
    from fangkong.policies.forms import parse_local_time

    errors = []
    raw = request.GET.get("date", "").strip()
    day = _today()
    if raw:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            errors.append(f"日期:“{raw[:20]}”不是有效的日期,应如 2022-04-20;已显示今天")
    county = request.GET.get("county", "").strip() or None
    if county and not re.fullmatch(r"[0-9]{6}", county):
        errors.append(f"区县:“{county[:20]}”不是有效的区县代码,应为6位数字;已显示全部")
        county = None
    industry = request.GET.get("industry", "").strip() or None
    if industry and industry not in Industry.values:
        errors.append(f"行业:“{industry[:20]}”不是已知的行业;已显示全部行业")
        industry = None
    raw_as_of = request.GET.get("as_of", "").strip()
    as_of = None
    if raw_as_of:
        try:
            as_of = parse_local_time(raw_as_of)
        except ValueError:
            errors.append(f"数据截至:“{raw_as_of[:30]}”不是有效的时间,应如 2022-04-21T08:00")
    return day, county, industry, as_of, errors


def _with_text(row: dict) -> dict:
    return {
        **row,
        "resumption_text": percent(row["resumption_rate"]),
        "production_text": percent(row["production_rate"]),
    }


def _county_options(user) -> list[tuple[str, str]]:
    scope = districts_of(user)
    rows = counties().values_list("code", "name")
    return [(code, name) for code, name in rows if scope is None or code in scope]


def _scope_name(scope: dict, names: dict[str, str], enterprise: str | None) -> str:
    if enterprise:
        return enterprise
    if scope["county"]:
        return names.get(scope["county"], scope["county"])
    if scope["counties"] is not None:
        return "、".join(names.get(c, c) for c in scope["counties"]) or "(未分配区县)"
    return "长春市"


def _trend_chart(rows: list[dict]) -> dict:
    """What enterprises-trend.js draws: rates as percentages, staff as counts."""

    def pct(value):
        return None if value is None else round(value * 100, 1)

    return {
        "days": [r["date"] for r in rows],
        "rates": [
            {"label": "复工率(%)", "values": [pct(r["resumption_rate"]) for r in rows]},
            {"label": "复产率(%)", "values": [pct(r["production_rate"]) for r in rows]},
        ],
        "staff": [
            {"label": "在岗人数", "values": [r["staff_on_duty"] for r in rows]},
            {"label": "返岗人数", "values": [r["returning_staff"] for r in rows]},
        ],
    }


def dashboard_data(user, day: date, county, industry, as_of) -> dict:
    """Everything the page and the export show. Raises PermissionDenied."""
    scope = reader_scope(user, county)
    known = moment_of(day, as_of)
    names = dict(counties().values_list("code", "name"))
    own = own_enterprise_id(user)
    enterprise = Enterprise.objects.filter(pk=own).values_list("name", flat=True).first()
    overall = district_figures(day, as_of=known, **scope)
    headline = (
        district_figures(day, as_of=known, industry=industry, **scope) if industry else overall
    )
    district_scope = [scope["county"]] if scope["county"] else scope["counties"]
    districts = by_county(
        day,
        known,
        counties=district_scope,
        enterprise_ids=scope["enterprise_ids"],
        industry=industry,
    )
    trend_rows = trend(last_days(day, TREND_DAYS), industry=industry, as_of=as_of, **scope)
    return {
        "day": day,
        "known": known,
        "scope": scope,
        "scope_name": _scope_name(scope, names, enterprise),
        "industry": industry,
        "industry_label": Industry(industry).label if industry else "",
        "headline": _with_text(headline),
        "districts": [_with_text(r) for r in districts],
        "industries": [_with_text(r) for r in overall["by_industry"]],
        "trend": [_with_text(r) for r in trend_rows],
        "chart": _trend_chart(trend_rows),
    }


@login_required
def dashboard(request):
    must_have(request.user, ENTERPRISE_READERS)
    day, county, industry, as_of, errors = _choices(request)
    data = dashboard_data(request.user, day, county, industry, as_of)
    query = request.GET.urlencode()
    return render_staff(
        request,
        "enterprises/dashboard/dashboard.html",
        {
            **data,
            "errors": errors,
            "county": county or "",
            "as_of_input": request.GET.get("as_of", "").strip() if as_of else "",
            "county_options": _county_options(request.user)
            if own_enterprise_id(request.user) is None
            else [],
            "industry_options": Industry.choices,
            "query": query,
        },
        status=400 if errors else 200,
    )


FIGURE_HEADERS = [
    "规上工业企业(户)",
    "已复工(户)",
    "复工率",
    "复产率",
    "在岗人数",
    "返岗人数",
    "已报送日报(户)",
    "当日无日报(户)",
]


def _figure_cells(row: dict) -> list:
    return [
        row["registered"],
        row["resumed"],
        row["resumption_rate"],
        row["production_rate"],
        row["staff_on_duty"],
        row["returning_staff"],
        row["reported"],
        row["not_reported"],
    ]


def _percent_format(sheet) -> None:
    """The rates are the only fractions: numbers shown as percentages (0.933 → 93.3%)."""
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, float):
                cell.number_format = "0.0%"


def dashboard_workbook(data: dict) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "复工复产"
    day = data["day"]
    sheet.append(["复工复产情况", f"{day.year}年{day.month}月{day.day}日"])
    sheet.append(["范围", data["scope_name"]])
    if data["industry"]:
        sheet.append(["行业", data["industry_label"]])
    sheet.append(["数据截至", data["known"].astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")])
    sheet.append([])
    sheet.append(["", "", *FIGURE_HEADERS])
    sheet.append(["", "合计", *_figure_cells(data["headline"])])
    sheet.append([])
    sheet.append(["区县代码", "区县", *FIGURE_HEADERS])
    for r in data["districts"]:
        sheet.append([r["county"], r["county_name"], *_figure_cells(r)])
    sheet.append([])
    sheet.append(["行业代码", "行业", *FIGURE_HEADERS])
    for r in data["industries"]:
        sheet.append([r["industry"], r["industry_label"], *_figure_cells(r)])
    _percent_format(sheet)
    trend_sheet = book.create_sheet("趋势")
    trend_sheet.append(["日期", *FIGURE_HEADERS])
    for r in data["trend"]:
        trend_sheet.append([r["date"], *_figure_cells(r)])
    _percent_format(trend_sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@login_required
def dashboard_xlsx(request):
    must_have(request.user, ENTERPRISE_READERS)
    day, county, industry, as_of, errors = _choices(request)
    if errors:
        return HttpResponse(";".join(errors), status=400, content_type="text/plain; charset=utf-8")
    data = dashboard_data(request.user, day, county, industry, as_of)
    response = HttpResponse(dashboard_workbook(data), content_type=XLSX)
    name = f"resumption-{day.isoformat()}{'-' + county if county else ''}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
