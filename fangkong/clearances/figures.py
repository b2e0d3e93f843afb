"""Clearance figures for the command centre (解码统计).

Two cohorts over a range of Beijing days (default: the last 30 days, today included):

- requests (申请): clearances *submitted* in the range, counted by channel and by district
  against their status now;
- decisions (审结): clearances *decided* (approved or rejected) in the range, with the time from
  submission to decision (median and 90th percentile, in hours) and the approval rate
  (approved / decided), by channel and by reviewer. Counting decisions by the day they were made
  keeps the times honest: a cohort of recent submissions would leave out the slow ones still open.

Plus, by day, how many were submitted, decided and approved; and the backlog as of now (open
requests, and those open longer than settings.CLEARANCE_TARGET_HOURS), whatever their date.

The counts are grouped in SQL; the times are computed in Python over the decided rows of the range
(a few thousand at city scale), the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import districts_of, require_role, scope_queryset
from fangkong.accounts.views import county_names, render_staff
from fangkong.base.spreadsheets import spreadsheet_safe
from fangkong.clearances.models import OPEN_STATUSES, Channel, Clearance
from fangkong.engine.clearances import APPROVED, REJECTED, STATUS_LABELS

BEIJING = ZoneInfo("Asia/Shanghai")
# District reviewers read the figures of their own districts (scope_queryset).
FIGURES_READERS = frozenset({Role.COMMAND_CENTRE, Role.ADMIN, Role.AUDITOR, Role.DISTRICT_REVIEWER})
DEFAULT_DAYS = 30
MAX_DAYS = 366
STATUSES = tuple(STATUS_LABELS)
DECIDED = (APPROVED, REJECTED)


# -- arithmetic -----------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0 ≤ q ≤ 1) by linear interpolation between closest ranks (as numpy's
    default and Excel's PERCENTILE.INC); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def approval_rate(approved: int, decided: int) -> float | None:
    return approved / decided if decided else None


def fmt_hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def default_range(now: datetime) -> tuple[date, date]:
    today = now.astimezone(BEIJING).date()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00), Beijing time."""
    return (
        datetime.combine(start, time.min, BEIJING),
        datetime.combine(end + timedelta(days=1), time.min, BEIJING),
    )


def _channel_label(value: str) -> str:
    return Channel(value).label if value in Channel.values else value


# -- the figures ----------------------------------------------------------------------------


def _status_rows(qs: QuerySet, field: str, keys: Iterable[str], label) -> dict:
    """Rows of counts by `field` × status (every status a column), with a totals row."""
    keys = list(keys)
    grid: dict[str, Counter] = defaultdict(Counter)
    grouped = qs.order_by().values(field, "status").annotate(n=Count("id"))
    for row in grouped.values_list(field, "status", "n"):
        grid[row[0]][row[1]] += row[2]
    ordered = [*keys, *sorted(k for k in grid if k not in keys)]
    rows = []
    for key in ordered:
        counts = grid.get(key, Counter())
        rows.append(
            {
                "key": key,
                "label": label(key),
                "counts": [counts[s] for s in STATUSES],
                "open": sum(counts[s] for s in OPEN_STATUSES),
                "total": sum(counts.values()),
            }
        )
    totals = [sum(r["counts"][i] for r in rows) for i in range(len(STATUSES))]
    return {
        "rows": rows,
        "totals": totals,
        "open": sum(r["open"] for r in rows),
        "total": sum(totals),
    }


def _decision_row(key: str, label: str, items: list[tuple[str, float]]) -> dict:
    """items: (status, hours to decision) of the decisions of one channel or reviewer."""
    hours = [h for _, h in items]
    approved = sum(1 for s, _ in items if s == APPROVED)
    rate = approval_rate(approved, len(items))
    median, p90 = percentile(hours, 0.5), percentile(hours, 0.9)
    return {
        "key": key,
        "label": label,
        "decided": len(items),
        "approved": approved,
        "rejected": len(items) - approved,
        "rate": rate,
        "rate_text": fmt_rate(rate),
        "median_hours": median,
        "p90_hours": p90,
        "median_text": fmt_hours(median),
        "p90_text": fmt_hours(p90),
    }


def _backlog_rows(open_qs: QuerySet, field: str, overdue_before: datetime, label) -> list[dict]:
    grouped = (
        open_qs.order_by()
        .values(field)
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(submitted_at__lt=overdue_before)))
        .values_list(field, "open", "overdue")
    )
    return [
        {"key": key, "label": label(key), "open": n_open, "overdue": n_overdue}
        for key, n_open, n_overdue in sorted(grouped)
    ]


def clearance_figures(
    clearances: QuerySet,
    start: date | None = None,
    end: date | None = None,
    *,
    now: datetime | None = None,
) -> dict:
    """The figures of these clearances (already limited to what the reader may see) over the
    Beijing days start..end inclusive (default: the last 30 days up to today)."""
    now = now or timezone.now()
    if start is None or end is None:
        default_start, default_end = default_range(now)
        start, end = start or default_start, end or default_end
    low, high = day_bounds(start, end)
    submitted = clearances.filter(submitted_at__gte=low, submitted_at__lt=high)
    decided = clearances.filter(status__in=DECIDED, decided_at__gte=low, decided_at__lt=high)

    by_channel = _status_rows(submitted, "channel", Channel.values, _channel_label)
    counties = sorted(set(submitted.order_by().values_list("county_code", flat=True).distinct()))
    backlog_qs = clearances.filter(status__in=OPEN_STATUSES)
    backlog_counties = backlog_qs.order_by().values_list("county_code", flat=True).distinct()
    names = county_names({*counties, *backlog_counties})

    def county_label(code: str) -> str:
        return names.get(code, code)

    by_county = _status_rows(submitted, "county_code", counties, county_label)

    # Decisions: time to decision and approval, by channel and by reviewer.
    per_channel: dict[str, list] = defaultdict(list)
    per_reviewer: dict[str, list] = defaultdict(list)
    everything = []
    rows = decided.values_list(
        "channel", "status", "submitted_at", "decided_at", "decided_by__username"
    )
    for channel, status, submitted_at, decided_at, reviewer in rows.iterator(chunk_size=2000):
        item = (status, (decided_at - submitted_at).total_seconds() / 3600)
        per_channel[channel].append(item)
        per_reviewer[reviewer or ""].append(item)
        everything.append(item)
    channel_keys = [c for c in Channel.values if c in per_channel]
    channel_keys += sorted(c for c in per_channel if c not in Channel.values)
    decisions = {
        "by_channel": [_decision_row(c, _channel_label(c), per_channel[c]) for c in channel_keys],
        "by_reviewer": sorted(
            (_decision_row(r, r or "(未记录)", items) for r, items in per_reviewer.items()),
            key=lambda row: (-row["decided"], row["key"]),
        ),
        "overall": _decision_row("", "合计", everything),
    }

    # By day: submissions by the day submitted, decisions by the day decided.
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    submitted_by_day = dict(
        submitted.order_by()
        .annotate(day=TruncDate("submitted_at", tzinfo=BEIJING))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    decided_by_day = {
        day: (n, n_approved)
        for day, n, n_approved in decided.order_by()
        .annotate(day=TruncDate("decided_at", tzinfo=BEIJING))
        .values("day")
        .annotate(n=Count("id"), approved=Count("id", filter=Q(status=APPROVED)))
        .values_list("day", "n", "approved")
    }
    daily = [
        {
            "day": day,
            "submitted": submitted_by_day.get(day, 0),
            "decided": decided_by_day.get(day, (0, 0))[0],
            "approved": decided_by_day.get(day, (0, 0))[1],
        }
        for day in days
    ]
    largest = max((max(d["submitted"], d["decided"]) for d in daily), default=0)
    for d in daily:
        d["submitted_pct"] = round(100 * d["submitted"] / largest, 1) if largest else 0
        d["decided_pct"] = round(100 * d["decided"] / largest, 1) if largest else 0

    # The backlog now, whatever the date of submission.
    target_hours = settings.CLEARANCE_TARGET_HOURS
    overdue_before = now - timedelta(hours=target_hours)
    backlog = {
        "open": backlog_qs.count(),
        "overdue": backlog_qs.filter(submitted_at__lt=overdue_before).count(),
        "by_channel": _backlog_rows(backlog_qs, "channel", overdue_before, _channel_label),
        "by_county": _backlog_rows(backlog_qs, "county_code", overdue_before, county_label),
    }

    return {
        "start": start,
        "end": end,
        "now": now,
        "target_hours": target_hours,
        "statuses": [(s, STATUS_LABELS[s]) for s in STATUSES],
        "by_channel": by_channel,
        "by_county": by_county,
        "decisions": decisions,
        "daily": daily,
        "backlog": backlog,
    }


# -- CSV ------------------------------------------------------------------------------------


def figures_csv(figures: dict, scope_label: str) -> str:
    """The page's tables, one after another, each under its title row."""
    out = io.StringIO()
    writer = csv.writer(out)

    def row(*cells):
        writer.writerow([spreadsheet_safe(c) for c in cells])

    status_labels = [label for _, label in figures["statuses"]]
    row("解码统计", scope_label)
    row("统计区间(北京时间)", figures["start"].isoformat(), figures["end"].isoformat())
    row("生成时间", figures["now"].astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"))
    for title, first, table in (
        ("按渠道:区间内提交的申请及其当前状态", "渠道", figures["by_channel"]),
        ("按区县:区间内提交的申请及其当前状态", "区县", figures["by_county"]),
    ):
        row()
        row(title)
        row(first, *status_labels, "待处理", "合计")
        for r in table["rows"]:
            row(r["label"], *r["counts"], r["open"], r["total"])
        row("合计", *table["totals"], table["open"], table["total"])
    decisions = figures["decisions"]
    for title, first, rows in (
        ("按渠道:区间内审结的申请", "渠道", decisions["by_channel"]),
        ("按审核人员:区间内审结的申请", "审核人员", decisions["by_reviewer"]),
    ):
        row()
        row(title)
        row(first, "审结", "通过", "未通过", "通过率", "用时中位数(小时)", "用时90%分位(小时)")
        for r in [*rows, decisions["overall"]]:
            row(
                r["label"],
                r["decided"],
                r["approved"],
                r["rejected"],
                r["rate_text"],
                r["median_text"],
                r["p90_text"],
            )
    row()
    row("按日", "")
    row("日期", "提交", "审结", "通过")
    for d in figures["daily"]:
        row(d["day"].isoformat(), d["submitted"], d["decided"], d["approved"])
    backlog = figures["backlog"]
    for title, first, rows in (
        ("当前积压(不限提交日期):按渠道", "渠道", backlog["by_channel"]),
        ("当前积压(不限提交日期):按区县", "区县", backlog["by_county"]),
    ):
        row()
        row(title, f"超时:超过{figures['target_hours']}小时未审结")
        row(first, "待处理", "超时")
        for r in rows:
            row(r["label"], r["open"], r["overdue"])
        row("合计", backlog["open"], backlog["overdue"])
    return out.getvalue()


# -- the page -------------------------------------------------------------------------------


class RangeForm(forms.Form):
    start = forms.DateField(label="起始日期", required=False)
    end = forms.DateField(label="截止日期", required=False)

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        end = data.get("end") or self.today
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError("起始日期不能晚于截止日期。")
        if (end - start).days + 1 > MAX_DAYS:
            raise forms.ValidationError(f"统计区间最长{MAX_DAYS}天。")
        data["start"], data["end"] = start, end
        return data


@login_required
def figures(request):
    require_role(request.user, FIGURES_READERS)
    now = timezone.now()
    start, end = default_range(now)
    form = RangeForm(request.GET, today=end)
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    clearances = scope_queryset(Clearance.objects.all(), request.user)
    result = clearance_figures(clearances, start, end, now=now)
    scope = districts_of(request.user)
    if scope is None:
        scope_label = "全市"
    else:
        names = county_names(scope)
        scope_label = "、".join(names.get(c, c) for c in sorted(scope)) or "未分配区县"
    if request.GET.get("format") == "csv":
        body = "\ufeff" + figures_csv(result, scope_label)  # BOM: Excel reads it as UTF-8
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="clearance-figures-{start:%Y%m%d}-{end:%Y%m%d}.csv"'
        )
        return response
    decided = result["decisions"]["overall"]
    return render_staff(
        request,
        "clearances/figures.html",
        {
            **result,
            "form": form,
            "range_errors": [e for errors in form.errors.values() for e in errors],
            "scope_label": scope_label,
            "city_wide": scope is None,
            "summary": decided,
            "decision_tables": [
                {
                    "title": "按渠道",
                    "first": "渠道",
                    "id": "decisions-by-channel",
                    "rows": result["decisions"]["by_channel"],
                },
                {
                    "title": "按审核人员",
                    "first": "审核人员",
                    "id": "decisions-by-reviewer",
                    "rows": result["decisions"]["by_reviewer"],
                },
            ],
            "csv_query": f"start={start.isoformat()}&end={end.isoformat()}&format=csv",
        },
    )


urlpatterns = [path("figures/", figures, name="figures")]
