"""The resumption figures (复工复产统计) of a day, as known at a moment
(docs/enterprises-dashboard.md).

Over the registered above-scale industrial enterprises (规上工业企业: `above_scale`, registered
— `recorded_at` — by the moment) in scope:
- 复工率 (resumption_rate): those whose filing status at the end of the day is 已复工, over
  those registered;
- 复产率 (production_rate): the capacity of the day's standing reports of resumed enterprises,
  weighted by each one's normal staff (fangkong.enterprises.rules.figures);
- 在岗人数 / 返岗人数: sums of the day's standing reports.

"As known at `as_of`": a filing step counts if it took effect by the end of the day (or by
`as_of`, if earlier) and was recorded by `as_of`; a daily report if it was recorded by `as_of`
and not corrected by then (queries.standing_reports). Without `as_of`, the moment is the end of
the day, or now if that is earlier. Nothing here is stored: every call reads the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from fangkong.enterprises.models import Enterprise, Industry, ResumptionStatus, ResumptionStep
from fangkong.enterprises.queries import standing_reports
from fangkong.enterprises.rules import LOCAL, Figures, Firm, Report, figures, local_day_start

INDUSTRY_ORDER = {value: n for n, value in enumerate(Industry.values)}


def end_of_day(day: date) -> datetime:
    """The last instant of a day, Beijing time."""
    return local_day_start(day + timedelta(days=1)) - timedelta(microseconds=1)


def moment_of(day: date, as_of: datetime | None = None, now: datetime | None = None) -> datetime:
    """The moment a day's figures are known at: `as_of`, or the end of the day, or now if that
    is earlier."""
    if as_of is not None:
        return as_of
    return min(end_of_day(day), now or timezone.now())


@dataclass(frozen=True)
class Scope:
    """Which enterprises count: those of these counties (None: the whole city), of these ids
    (None: any), of this industry (None: any)."""

    counties: frozenset[str] | None = None
    enterprise_ids: frozenset[int] | None = None
    industry: str | None = None

    @classmethod
    def of(cls, county=None, counties=None, enterprise_ids=None, industry=None) -> Scope:
        codes = None if counties is None else frozenset(counties)
        if county:
            codes = frozenset({county}) if codes is None else codes & {county}
        ids = None if enterprise_ids is None else frozenset(enterprise_ids)
        return cls(codes, ids, industry or None)

    def enterprises(self):
        qs = Enterprise.objects.filter(above_scale=True)
        if self.counties is not None:
            qs = qs.filter(county_code__in=sorted(self.counties))
        if self.enterprise_ids is not None:
            qs = qs.filter(pk__in=sorted(self.enterprise_ids))
        if self.industry is not None:
            qs = qs.filter(industry=self.industry)
        return qs


@dataclass(frozen=True)
class _Registered:
    firm: Firm
    county: str
    recorded_at: datetime


def _registered(scope: Scope, known: datetime) -> list[_Registered]:
    rows = (
        scope.enterprises()
        .filter(recorded_at__lte=known)
        .values_list("pk", "industry", "normal_staff", "county_code", "recorded_at")
        .order_by("pk")
    )
    return [_Registered(Firm(pk, ind, staff), county, at) for pk, ind, staff, county, at in rows]


def _steps(scope: Scope, effective: datetime, known: datetime) -> list[tuple]:
    """The filing steps of the enterprises in scope that took effect by `effective` and were
    recorded by `known`: (enterprise id, (at, recorded_at, pk), status)."""
    steps = ResumptionStep.objects.filter(
        enterprise__in=scope.enterprises(), at__lte=effective, recorded_at__lte=known
    ).values_list("enterprise_id", "at", "recorded_at", "pk", "status")
    return [
        (e, (at, rec, pk), status) for e, at, rec, pk, status in steps.iterator(chunk_size=5000)
    ]


def _resumed(steps: Iterable[tuple], effective: datetime, known: datetime) -> set[int]:
    """Ids whose latest step effective by `effective` and recorded by `known` left them 已复工
    (the order of queries.status_at: effective time, then recording time, then id)."""
    latest: dict[int, tuple] = {}
    for enterprise_id, key, status in steps:
        if key[0] > effective or key[1] > known:
            continue
        if enterprise_id not in latest or key > latest[enterprise_id][0]:
            latest[enterprise_id] = (key, status)
    return {e for e, (_, status) in latest.items() if status == ResumptionStatus.RESUMED}


def _reports(day: date, known: datetime, ids: set[int]) -> dict[int, Report]:
    return {
        e: Report(e, r.staff_on_duty, r.returning_staff, r.capacity_percent)
        for e, r in standing_reports(day, known).items()
        if e in ids
    }


def _numbers(f: Figures) -> dict:
    return {
        "registered": f.registered,
        "resumed": f.resumed,
        "resumption_rate": f.resumption_rate,
        "production_rate": f.production_rate,
        "staff_on_duty": f.staff_on_duty,
        "returning_staff": f.returning_staff,
        "reported": f.reported,
        "not_reported": f.registered - f.reported,
    }


def _by_industry(total: Figures) -> list[dict]:
    return [
        {"industry": name, "industry_label": Industry(name).label, **_numbers(f)}
        for name, f in sorted(total.by_industry.items(), key=lambda kv: INDUSTRY_ORDER[kv[0]])
    ]


@dataclass(frozen=True)
class _Day:
    registered: list[_Registered]
    resumed: set[int]
    reports: dict[int, Report]


def _day(scope: Scope, day: date, known: datetime) -> _Day:
    effective = min(end_of_day(day), known)
    registered = _registered(scope, known)
    ids = {r.firm.id for r in registered}
    resumed = _resumed(_steps(scope, effective, known), effective, known) & ids
    return _Day(registered, resumed, _reports(day, known, ids))


def district_figures(
    day: date,
    *,
    county: str | None = None,
    as_of: datetime | None = None,
    enterprise_ids: Iterable[int] | None = None,
    counties: Iterable[str] | None = None,
    industry: str | None = None,
) -> dict:
    """The day's figures of a county (None: the whole city, or the `counties` given), as known
    at `as_of`; `enterprise_ids` and `industry` narrow the enterprises counted. The JSON
    contract of `fangkong enterprises stats --json` and GET /api/enterprises/stats."""
    known = moment_of(day, as_of)
    scope = Scope.of(county, counties, enterprise_ids, industry)
    d = _day(scope, day, known)
    total = figures([r.firm for r in d.registered], d.resumed, d.reports)
    return {
        "date": day.isoformat(),
        "county": county or None,
        "counties": None if scope.counties is None else sorted(scope.counties),
        "industry": scope.industry,
        "as_of": known.astimezone(LOCAL).isoformat(),
        **_numbers(total),
        "by_industry": _by_industry(total),
    }


def by_county(
    day: date,
    as_of: datetime | None = None,
    *,
    counties: Iterable[str] | None = None,
    enterprise_ids: Iterable[int] | None = None,
    industry: str | None = None,
) -> list[dict]:
    """One row a county-level district with registered above-scale enterprises (and one for
    each of `counties` given, even without any), by code: the city view."""
    from fangkong.places.queries import counties as all_counties

    known = moment_of(day, as_of)
    scope = Scope.of(None, counties, enterprise_ids, industry)
    d = _day(scope, day, known)
    grouped: dict[str, list[Firm]] = {code: [] for code in (scope.counties or ())}
    for r in d.registered:
        grouped.setdefault(r.county, []).append(r.firm)
    names = dict(all_counties().values_list("code", "name"))
    return [
        {
            "county": code,
            "county_name": names.get(code, code),
            **_numbers(figures(grouped[code], d.resumed, d.reports)),
        }
        for code in sorted(grouped)
    ]


def trend(
    days: list[date],
    county: str | None = None,
    industry: str | None = None,
    as_of: datetime | None = None,
    *,
    counties: Iterable[str] | None = None,
    enterprise_ids: Iterable[int] | None = None,
) -> list[dict]:
    """Per day (in the order given) the headline figures, each as district_figures gives them
    for that day and `as_of`. Reads the registry and the filing steps once, and the standing
    reports once a day."""
    if not days:
        return []
    now = timezone.now()
    scope = Scope.of(county, counties, enterprise_ids, industry)
    moments = {d: moment_of(d, as_of, now) for d in days}
    latest_known = max(moments.values())
    registered = _registered(scope, latest_known)
    steps = _steps(scope, max(min(end_of_day(d), k) for d, k in moments.items()), latest_known)
    rows = []
    for day in days:
        known = moments[day]
        effective = min(end_of_day(day), known)
        firms = [r.firm for r in registered if r.recorded_at <= known]
        ids = {f.id for f in firms}
        resumed = _resumed(steps, effective, known) & ids
        total = figures(firms, resumed, _reports(day, known, ids))
        rows.append({"date": day.isoformat(), **_numbers(total)})
    return rows


def last_days(day: date, count: int) -> list[date]:
    """The `count` days ending with `day`, oldest first."""
    return [day - timedelta(days=n) for n in range(count - 1, -1, -1)]


# --- who reads which figures -----------------------------------------------------------------


def reader_scope(user, county: str | None = None) -> dict:
    """The keyword arguments of district_figures / by_county / trend for what `user` may read
    (the API, the dashboard and its export all ask here). Raises PermissionDenied.

    - City-wide roles (the command centre, auditors, administrators): any county, or the city.
    - A district reviewer: a county of theirs (another is refused); without one, their only
      district if they have one, else all of theirs together (`counties`).
    - An enterprise account (企业联络员): its own enterprise's figures only; a county other than
      its enterprise's is refused.
    """
    from django.core.exceptions import PermissionDenied

    from fangkong.accounts.models import Role
    from fangkong.accounts.scoping import ENTERPRISE_READERS, districts_of, role_of
    from fangkong.enterprises.access import own_enterprise_id

    role = role_of(user)
    if role not in ENTERPRISE_READERS:
        raise PermissionDenied("您的角色无权查看复工复产统计")
    if role == Role.EMPLOYER:
        own = own_enterprise_id(user)
        home = Enterprise.objects.filter(pk=own).values_list("county_code", flat=True).first()
        if home is None:
            raise PermissionDenied("您的账号未关联企业,无法查看复工复产统计")
        if county and county != home:
            raise PermissionDenied(f"区县 {county} 不是贵企业所在区县,无权查看")
        return {"county": home, "counties": None, "enterprise_ids": [own]}
    scope = districts_of(user)
    if scope is None:
        return {"county": county or None, "counties": None, "enterprise_ids": None}
    if county:
        if county not in scope:
            raise PermissionDenied(f"区县 {county} 不在您负责的区县内,无权查看")
        return {"county": county, "counties": None, "enterprise_ids": None}
    if len(scope) == 1:
        return {"county": next(iter(scope)), "counties": None, "enterprise_ids": None}
    return {"county": None, "counties": sorted(scope), "enterprise_ids": None}
