"""JSON API of supply assurance (/api/supplies/...). Staff authenticate with their session
(CSRF token on POST). Who may do what: fangkong.supplies.access; refusals are 403 with the
reason, bad input 400 naming the field."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from fangkong.api_errors import refusals
from fangkong.engine.id_numbers import mask_name, mask_phone
from fangkong.enterprises.models import Enterprise
from fangkong.supplies import access
from fangkong.supplies import actions as act
from fangkong.supplies.models import Delivery, Site, SupplyFirm
from fangkong.supplies.rules import plain
from fangkong.supplies.stats import figures, open_firms, reader_scope

router = Router(tags=["保供与物资保障"], auth=django_auth)
PAGE = 200


def _as_of(raw: str | None):
    if raw is None or not raw.strip():
        return timezone.now()
    try:
        return act.local_time("as_of", raw)
    except act.SupplyError as exc:
        raise HttpError(400, str(exc)) from None


def _bad(exc: act.SupplyError):
    return HttpError(400, str(exc))


class StatsQuery(Schema):
    as_of: str | None = Field(None, description="数据截至 ISO 8601, Beijing time without offset")
    county: str | None = Field(None, pattern=r"^[0-9]{6}$", description="区县代码")


@router.get("/stats", response={200: dict, **refusals(400, 401, 403)}, summary="保供数字")
def stats(request, q: Query[StatsQuery]):
    """The figures of `fangkong supplies stats --json` for your districts (or one of them)."""
    access.require(access.may_read(request.user), "查看保供数字")
    try:
        counties = reader_scope(request.user, q.county)
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    return figures(_as_of(q.as_of), counties)


class FirmQuery(Schema):
    as_of: str | None = None
    county: str | None = Field(None, pattern=r"^[0-9]{6}$")
    level: str | None = None
    open_only: bool = False
    page: int = Field(1, ge=1)


@router.get("/firms", response={200: dict, **refusals(400, 401, 403)}, summary="保供企业名录")
def firms(request, q: Query[FirmQuery]):
    access.require(access.may_read(request.user), "查看保供企业名录")
    as_of = _as_of(q.as_of)
    rows = access.scoped(request.user, SupplyFirm.objects.all())
    if q.county:
        rows = rows.filter(county_code=q.county)
    if q.level:
        rows = rows.filter(level=q.level)
    if q.open_only:
        rows = rows.filter(pk__in=open_firms(as_of).values("pk"))
    total = rows.count()
    shown = list(rows.order_by("code")[(q.page - 1) * PAGE : q.page * PAGE])
    return {
        "total": total,
        "page": q.page,
        "firms": [
            {
                "id": f.pk,
                "code": f.code,
                "name": f.name,
                "level": f.level,
                "kind": f.kind,
                "county": f.county_code,
                "enterprise": f.enterprise_id,
                "status": act.status_of(f, as_of),
            }
            for f in shown
        ],
    }


class StatusIn(Schema):
    status: str
    effective_at: str | None = None
    reason: str = ""


@router.post(
    "/firms/{firm_id}/status",
    response={200: dict, **refusals(400, 401, 403, 404)},
    summary="变更状态",
)
def change_status(request, firm_id: int, body: StatusIn):
    firm = get_object_or_404(access.scoped(request.user, SupplyFirm.objects.all()), pk=firm_id)
    now = timezone.now()
    try:
        at = act.local_time("生效时间", body.effective_at) if body.effective_at else now
        change = act.do_change_status(
            request.user, firm, status=body.status, effective_at=at, reason=body.reason, now=now
        )
    except act.SupplyError as exc:
        raise _bad(exc) from None
    return {"firm": firm.pk, "status": change.status, "effective_at": change.effective_at}


class ItemIn(Schema):
    item: str
    unit: str
    quantity: str


class RequestIn(Schema):
    enterprise_id: int | None = None
    site_id: int | None = None
    category: str
    items: list[ItemIn]
    note: str = ""


def _request_out(r) -> dict:
    delivered = act.delivered_so_far(r)
    return {
        "id": r.pk,
        "enterprise": r.enterprise_id,
        "site": r.site_id,
        "county": r.county_code,
        "category": r.category,
        "requested_at": r.requested_at,
        "items": [
            {
                "id": i.pk,
                "item": i.item,
                "unit": i.unit,
                "quantity": plain(i.quantity),
                "delivered": plain(delivered.get(i.pk, Decimal(0))),
            }
            for i in r.items.order_by("pk")
        ],
        "deliveries": [
            {
                "id": d.pk,
                "delivered_at": d.delivered_at,
                "supplier": d.supplier,
                "courier": mask_name(d.courier_name) if d.courier_name else "",
                "courier_phone": mask_phone(d.courier_phone) if d.courier_phone else "",
                "funding": d.funding,
                "confirmed_at": d.confirmed_at,
            }
            for d in r.deliveries.order_by("delivered_at", "pk")
        ],
    }


@router.post("/requests", response={200: dict, **refusals(400, 401, 403, 404)}, summary="申请物资")
def make_request(request, body: RequestIn):
    enterprise = site = None
    if body.enterprise_id is not None:
        enterprise = get_object_or_404(Enterprise, pk=body.enterprise_id)
    if body.site_id is not None:
        site = get_object_or_404(Site, pk=body.site_id)
    try:
        made = act.do_request(
            request.user,
            enterprise=enterprise,
            site=site,
            category=body.category,
            items=[(i.item, i.unit, i.quantity) for i in body.items],
            note=body.note,
            now=timezone.now(),
        )
    except act.SupplyError as exc:
        raise _bad(exc) from None
    return _request_out(made)


@router.get("/requests", response={200: list[dict], **refusals(401)}, summary="物资需求")
def list_requests(request):
    rows = access.visible_requests(request.user).order_by("-requested_at")[:PAGE]
    return [_request_out(r) for r in rows]


class LineIn(Schema):
    item_id: int
    quantity: str


class DeliveryIn(Schema):
    lines: list[LineIn]
    supplier: str
    funding: str = "donated"
    delivered_at: str | None = None
    value_yuan: str = "0"
    courier_name: str = ""
    courier_phone: str = ""


@router.post(
    "/requests/{request_id}/deliveries",
    response={200: dict, **refusals(400, 401, 403, 404)},
    summary="登记配送",
)
def deliver(request, request_id: int, body: DeliveryIn):
    supply_request = get_object_or_404(access.visible_requests(request.user), pk=request_id)
    now = timezone.now()
    try:
        at = act.local_time("配送时间", body.delivered_at) if body.delivered_at else now
        delivery = act.do_deliver(
            request.user,
            supply_request,
            lines={line.item_id: line.quantity for line in body.lines},
            supplier=body.supplier,
            funding=body.funding,
            delivered_at=at,
            value_yuan=body.value_yuan,
            courier_name=body.courier_name,
            courier_phone=body.courier_phone,
            now=now,
        )
    except act.SupplyError as exc:
        raise _bad(exc) from None
    return {"delivery": delivery.pk, **_request_out(supply_request)}


@router.post(
    "/deliveries/{delivery_id}/confirm",
    response={200: dict, **refusals(400, 401, 403, 404)},
    summary="确认收货",
)
def confirm(request, delivery_id: int):
    delivery = get_object_or_404(
        Delivery.objects.filter(request__in=access.visible_requests(request.user)), pk=delivery_id
    )
    try:
        act.do_confirm(request.user, delivery, now=timezone.now())
    except act.SupplyError as exc:
        raise _bad(exc) from None
    delivery.refresh_from_db()
    return {"delivery": delivery.pk, "confirmed_at": delivery.confirmed_at}
