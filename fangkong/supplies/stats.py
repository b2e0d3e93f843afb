"""The figures of supply assurance as of a time, for the city or some districts, counted from
the stored rows: supply firms and small supermarkets open (their latest status effective and
recorded by then), requests, deliveries and quantities by item and unit, firms and sites
served, housing beds offered and used. The JSON of `fangkong supplies stats --json` and of
GET /api/supplies/stats."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDate

from fangkong.accounts.scoping import districts_of
from fangkong.supplies.actions import LOCAL
from fangkong.supplies.models import (
    Delivery,
    DeliveryLine,
    FirmStatus,
    HousingSite,
    Item,
    Level,
    Placement,
    RequestItem,
    StatusChange,
    SupplyFirm,
    SupplyRequest,
)
from fangkong.supplies.rules import plain


def reader_scope(user, county: str | None) -> list[str] | None:
    """The districts a reader's figures cover: None the city; a county outside the user's
    districts is refused."""
    scope = districts_of(user)
    if county:
        if scope is not None and county not in scope:
            raise PermissionDenied("您无权查看该区县的保供数据")
        return [county]
    return None if scope is None else sorted(scope)


def _in(qs, counties, field="county_code"):
    return qs if counties is None else qs.filter(**{f"{field}__in": counties})


def open_firms(as_of: datetime, counties: list[str] | None = None):
    """The firms whose latest status, effective and recorded by `as_of`, is open."""
    latest = (
        StatusChange.objects.filter(
            firm=OuterRef("pk"), effective_at__lte=as_of, recorded_at__lte=as_of
        )
        .order_by("-effective_at", "-recorded_at", "-pk")
        .values("status")[:1]
    )
    firms = _in(SupplyFirm.objects.filter(recorded_at__lte=as_of), counties)
    return firms.annotate(now_status=Subquery(latest)).filter(now_status=FirmStatus.OPEN)


def _number(value: Decimal | None) -> float | int:
    value = value or Decimal(0)
    return int(value) if value == value.to_integral_value() else float(plain(value))


def figures(as_of: datetime, counties: list[str] | None = None) -> dict:
    firms = open_firms(as_of, counties)
    by_level = dict(firms.values("level").annotate(n=Count("pk")).values_list("level", "n"))
    requests = _in(SupplyRequest.objects.filter(requested_at__lte=as_of), counties)
    deliveries = _in(
        Delivery.objects.filter(delivered_at__lte=as_of, recorded_at__lte=as_of),
        counties,
        "request__county_code",
    )
    confirmed = deliveries.filter(confirmed_at__lte=as_of)
    asked = {
        (r["item"], r["unit"]): r["total"]
        for r in _in(
            RequestItem.objects.filter(request__requested_at__lte=as_of),
            counties,
            "request__county_code",
        )
        .values("item", "unit")
        .annotate(total=Sum("quantity"))
    }
    given = {
        (r["item__item"], r["item__unit"]): (r["total"], r["n"])
        for r in DeliveryLine.objects.filter(delivery__in=deliveries)
        .values("item__item", "item__unit")
        .annotate(total=Sum("quantity"), n=Count("delivery", distinct=True))
    }
    by_item = []
    order = {value: i for i, value in enumerate(Item.values)}
    for item, unit in sorted(set(asked) | set(given), key=lambda k: (order[k[0]], k[1])):
        total, n = given.get((item, unit), (None, 0))
        by_item.append(
            {
                "item": item,
                "item_label": Item(item).label,
                "unit": unit,
                "requested": _number(asked.get((item, unit))),
                "delivered": _number(total),
                "deliveries": n,
            }
        )
    served = deliveries.values("request__enterprise").exclude(request__enterprise=None)
    sites = deliveries.values("request__site").exclude(request__site=None)
    housing = _in(
        HousingSite.objects.filter(opened_at__lte=as_of, recorded_at__lte=as_of), counties
    )
    placed = Placement.objects.filter(
        site__in=housing, placed_at__lte=as_of, recorded_at__lte=as_of
    ).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=as_of))
    by_day = [
        {"date": r["day"].isoformat(), "deliveries": r["n"]}
        for r in deliveries.annotate(day=TruncDate("delivered_at", tzinfo=LOCAL))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("day")
    ]
    return {
        "as_of": as_of.astimezone(LOCAL).isoformat(),
        "counties": counties,
        "supply_firms": by_level.get(Level.CITY, 0) + by_level.get(Level.DISTRICT, 0),
        "city_level_firms": by_level.get(Level.CITY, 0),
        "district_level_firms": by_level.get(Level.DISTRICT, 0),
        "small_supermarkets": by_level.get(Level.SMALL, 0),
        "requests": requests.count(),
        "deliveries": deliveries.count(),
        "confirmed_deliveries": confirmed.count(),
        "donated_deliveries": deliveries.filter(funding="donated").count(),
        "value_yuan": _number(deliveries.aggregate(v=Sum("value_yuan"))["v"]),
        "firms_served": served.distinct().count(),
        "sites_served": sites.distinct().count(),
        "by_item": by_item,
        "by_day": by_day,
        "housing_sites": housing.count(),
        "beds_offered": housing.aggregate(n=Sum("beds"))["n"] or 0,
        "beds_used": placed.aggregate(n=Sum("people"))["n"] or 0,
        "people_placed_firms": placed.values("enterprise").distinct().count(),
    }


def by_county(as_of: datetime, counties: list[str] | None = None) -> list[dict]:
    """Firms open, small supermarkets, deliveries and beds per district."""
    from fangkong.places.queries import counties as all_counties

    names = dict(all_counties().values_list("code", "name"))
    firms = {}
    for row in open_firms(as_of, counties).values("county_code", "level").annotate(n=Count("pk")):
        entry = firms.setdefault(row["county_code"], {"firms": 0, "small": 0})
        entry["small" if row["level"] == Level.SMALL else "firms"] += row["n"]
    deliveries = dict(
        _in(
            Delivery.objects.filter(delivered_at__lte=as_of, recorded_at__lte=as_of),
            counties,
            "request__county_code",
        )
        .values("request__county_code")
        .annotate(n=Count("pk"))
        .values_list("request__county_code", "n")
    )
    beds = dict(
        _in(HousingSite.objects.filter(opened_at__lte=as_of, recorded_at__lte=as_of), counties)
        .values("county_code")
        .annotate(n=Sum("beds"))
        .values_list("county_code", "n")
    )
    rows = []
    for code in sorted(set(firms) | set(deliveries) | set(beds)):
        rows.append(
            {
                "county": code,
                "county_name": names.get(code, code),
                "supply_firms": firms.get(code, {}).get("firms", 0),
                "small_supermarkets": firms.get(code, {}).get("small", 0),
                "deliveries": deliveries.get(code, 0),
                "beds_offered": beds.get(code, 0),
            }
        )
    return rows
