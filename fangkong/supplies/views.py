"""The supply-assurance pages: figures as of a time by district, the registry of supply firms and
small supermarkets (status history, status change, import by file with its errors and flagged
rows), requests for supplies with their deliveries and the receiver's confirmation, and the
housing sites with their placements.

Who sees what is `fangkong.supplies.access`: a row outside the user's scope is a 404, a step the
user may not take a 403; the actions check again and audit. Couriers' names and phones are
masked.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from fangkong.accounts.scoping import role_of
from fangkong.accounts.views import render_staff
from fangkong.engine.id_numbers import mask_name, mask_phone
from fangkong.enterprises.models import Enterprise
from fangkong.places.queries import counties
from fangkong.supplies import access
from fangkong.supplies import actions as act
from fangkong.supplies.models import (
    Category,
    Delivery,
    FirmKind,
    FirmStatus,
    Funding,
    HousingKind,
    HousingSite,
    ImportFlag,
    Item,
    Level,
    Site,
    SupplyFirm,
    SupplyRequest,
    Upload,
)
from fangkong.supplies.rules import UNITS, plain, request_state
from fangkong.supplies.stats import by_county, figures, open_firms, reader_scope

PER_PAGE = 50
ITEM_ROWS = 5
MAX_UPLOAD = 5 * 1024 * 1024


def _names() -> dict[str, str]:
    return dict(counties().values_list("code", "name"))


def _must_read(user) -> None:
    if not access.may_read(user):
        raise PermissionDenied("您的角色无权查看保供数据")


def _as_of(raw: str | None):
    if not raw:
        return timezone.now(), ""
    try:
        return act.local_time("数据截至", raw), ""
    except act.SupplyError as exc:
        return timezone.now(), str(exc)


# --- figures ---------------------------------------------------------------------------------


@login_required
def figures_page(request):
    _must_read(request.user)
    as_of, error = _as_of(request.GET.get("as_of", "").replace("T", " "))
    county = request.GET.get("county") or None
    try:
        scope = reader_scope(request.user, county)
    except PermissionDenied:
        raise Http404("不在您负责的区县内") from None
    shown = figures(as_of, scope)
    names = _names()
    mine = access.districts_of(request.user)
    return render_staff(
        request,
        "supplies/figures.html",
        {
            "f": shown,
            "rows": by_county(as_of, scope),
            "error": error,
            "as_of": as_of,
            "county": county or "",
            "counties": [(c, n) for c, n in names.items() if mine is None or c in mine],
            "scope_name": names.get(county, "") if county else "长春市" if mine is None else "",
            "may_keep": access.may_keep(request.user),
        },
    )


# --- the registry ----------------------------------------------------------------------------


@login_required
def firm_list(request):
    _must_read(request.user)
    rows = access.scoped(request.user, SupplyFirm.objects.all()).order_by("county_code", "code")
    county, level, kind = (request.GET.get(k) or "" for k in ("county", "level", "kind"))
    if county:
        rows = rows.filter(county_code=county)
    if level in Level.values:
        rows = rows.filter(level=level)
    if kind in FirmKind.values:
        rows = rows.filter(kind=kind)
    now = timezone.now()
    if request.GET.get("open") == "1":
        rows = rows.filter(pk__in=open_firms(now).values("pk"))
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    names = _names()
    shown = [
        {
            "firm": f,
            "county": names.get(f.county_code, f.county_code),
            "status": FirmStatus(s).label if (s := act.status_of(f, now)) else "—",
        }
        for f in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render_staff(
        request,
        "supplies/firms.html",
        {
            "rows": shown,
            "page": page,
            "extra_query": query.urlencode(),
            "levels": Level.choices,
            "kinds": FirmKind.choices,
            "counties": names.items(),
            "chosen": {"county": county, "level": level, "kind": kind},
            "may_keep": access.may_keep(request.user),
            "open_flags": access.scoped(
                request.user, ImportFlag.objects.filter(resolved_at=None), "firm__county_code"
            ).count(),
        },
    )


def _firm(user, pk: int) -> SupplyFirm:
    found = access.scoped(user, SupplyFirm.objects.all()).filter(pk=pk).first()
    if found is None:
        raise Http404("没有该保供企业,或不在您负责的范围内")
    return found


@login_required
@require_http_methods(["GET", "POST"])
def firm_detail(request, pk: int):
    _must_read(request.user)
    firm = _firm(request.user, pk)
    error = ""
    if request.method == "POST":
        if not access.may_keep(request.user, firm.county_code):
            raise PermissionDenied("您无权变更该保供企业的状态")
        now = timezone.now()
        try:
            raw = request.POST.get("effective_at", "").replace("T", " ")
            at = act.local_time("生效时间", raw) if raw.strip() else now
            act.do_change_status(
                request.user,
                firm,
                status=request.POST.get("status", ""),
                effective_at=at,
                reason=request.POST.get("reason", ""),
                now=now,
            )
        except act.SupplyError as exc:
            error = str(exc)
        else:
            messages.success(request, "状态已登记")
            return redirect(reverse("supplies:firm", args=[firm.pk]))
    history = firm.changes.select_related("recorded_by").order_by("-effective_at", "-pk")
    return render_staff(
        request,
        "supplies/firm.html",
        {
            "firm": firm,
            "county": _names().get(firm.county_code, firm.county_code),
            "status": act.status_of(firm, timezone.now()),
            "history": history,
            "statuses": FirmStatus.choices,
            "may_keep": access.may_keep(request.user, firm.county_code),
            "error": error,
            "flags": firm.flags.order_by("-pk"),
        },
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request):
    if not access.may_keep(request.user):
        raise PermissionDenied("您的角色无权导入保供企业名录")
    upload, error = None, ""
    if request.method == "POST":
        sent = request.FILES.get("file")
        if sent is None:
            error = "文件:请选择要导入的 CSV 或 XLSX 文件"
        elif sent.size > MAX_UPLOAD:
            error = "文件:超过5MB,请分批导入"
        else:
            try:
                upload = act.do_import(request.user, sent.read(), sent.name, now=timezone.now())
            except act.SupplyError as exc:
                error = str(exc)
    flags = access.scoped(
        request.user,
        ImportFlag.objects.filter(resolved_at=None).select_related("firm"),
        "firm__county_code",
    ).order_by("pk")[:200]
    return render_staff(
        request,
        "supplies/import.html",
        {
            "upload": upload,
            "error": error,
            "flags": flags,
            "columns": list(act.COLUMNS),
            "required": act.REQUIRED,
            "recent": Upload.objects.order_by("-pk")[:10],
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
def resolve_flag(request, pk: int):
    flag = (
        access.scoped(request.user, ImportFlag.objects.all(), "firm__county_code")
        .filter(pk=pk)
        .first()
    )
    if flag is None:
        raise Http404("没有该待核实行")
    try:
        act.do_resolve_flag(
            request.user,
            flag,
            accept=request.POST.get("accept") == "1",
            note=request.POST.get("note", ""),
            now=timezone.now(),
        )
    except act.SupplyError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已处理")
    return redirect(reverse("supplies:import"))


# --- requests and deliveries -----------------------------------------------------------------


def _state(r: SupplyRequest) -> str:
    delivered = act.delivered_so_far(r)
    requested = {i.pk: i.quantity for i in r.items.all()}
    deliveries = list(r.deliveries.all())
    return request_state(
        requested,
        delivered,
        len(deliveries),
        sum(1 for d in deliveries if d.confirmed_at is not None),
    )


@login_required
def request_list(request):
    if role_of(request.user) not in access.READERS | {"employer"}:
        raise PermissionDenied("您的角色无权查看物资需求")
    rows = (
        access.visible_requests(request.user)
        .select_related("enterprise", "site")
        .order_by("-requested_at", "-pk")
    )
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    shown = [{"r": r, "state": _state(r)} for r in page.object_list]
    return render_staff(
        request,
        "supplies/requests.html",
        {
            "rows": shown,
            "page": page,
            "extra_query": "",
            "may_request": role_of(request.user) in access.REQUESTERS,
        },
    )


def _request_choices(user):
    enterprises = access.enterprises_for(user).order_by("name")
    if access.own_enterprise_id(user) is None and role_of(user) not in access.REQUESTERS:
        enterprises = enterprises.none()
    sites = Site.objects.none()
    if role_of(user) in access.KEEPERS | access.LIAISONS:
        sites = access.scoped(user, Site.objects.all()).order_by("name")
    return enterprises[:500], sites[:500]


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request):
    if role_of(request.user) not in access.REQUESTERS:
        raise PermissionDenied("您的角色无权申请物资")
    enterprises, sites = _request_choices(request.user)
    error, sent = "", request.POST
    if request.method == "POST":
        target = sent.get("receiver", "")
        enterprise = site = None
        if target.startswith("e"):
            enterprise = Enterprise.objects.filter(pk=target[1:] or 0).first()
        elif target.startswith("s"):
            site = Site.objects.filter(pk=target[1:] or 0).first()
        items = [
            (sent.get(f"item-{n}", ""), sent.get(f"unit-{n}", ""), sent.get(f"quantity-{n}", ""))
            for n in range(ITEM_ROWS)
            if sent.get(f"item-{n}")
        ]
        try:
            if enterprise is None and site is None:
                raise act.SupplyError("申请单位:请选择企业或工地")
            made = act.do_request(
                request.user,
                enterprise=enterprise,
                site=site,
                category=sent.get("category", ""),
                items=items,
                note=sent.get("note", ""),
                now=timezone.now(),
            )
        except act.SupplyError as exc:
            error = str(exc)
        else:
            messages.success(request, "物资需求已提交")
            return redirect(reverse("supplies:request", args=[made.pk]))
    return render_staff(
        request,
        "supplies/request_new.html",
        {
            "receivers": [(f"e{e.pk}", e.name) for e in enterprises]
            + [(f"s{x.pk}", f"{x.name}(工地)") for x in sites],
            "categories": Category.choices,
            "items": Item.choices,
            "units": sorted({u for units in UNITS.values() for u in units}),
            "unit_hint": "; ".join(f"{Item(i).label}:{'/'.join(u)}" for i, u in UNITS.items()),
            "rows": [
                {
                    "n": n,
                    "item": sent.get(f"item-{n}", ""),
                    "unit": sent.get(f"unit-{n}", ""),
                    "quantity": sent.get(f"quantity-{n}", ""),
                }
                for n in range(ITEM_ROWS)
            ],
            "error": error,
            "sent": sent,
        },
        status=400 if error else 200,
    )


def _supply_request(user, pk: int) -> SupplyRequest:
    found = access.visible_requests(user).select_related("enterprise", "site").filter(pk=pk).first()
    if found is None:
        raise Http404("没有该物资需求,或不在您负责的范围内")
    return found


@login_required
@require_http_methods(["GET", "POST"])
def request_detail(request, pk: int):
    supply_request = _supply_request(request.user, pk)
    error = ""
    if request.method == "POST":
        if not access.can_deliver(request.user, supply_request):
            raise PermissionDenied("您无权为该申请登记配送")
        now = timezone.now()
        lines = {
            key.removeprefix("line-"): value
            for key, value in request.POST.items()
            if key.startswith("line-") and value.strip()
        }
        try:
            raw = request.POST.get("delivered_at", "").replace("T", " ")
            act.do_deliver(
                request.user,
                supply_request,
                lines=lines,
                supplier=request.POST.get("supplier", ""),
                funding=request.POST.get("funding", ""),
                value_yuan=request.POST.get("value_yuan") or "0",
                courier_name=request.POST.get("courier_name", ""),
                courier_phone=request.POST.get("courier_phone", ""),
                delivered_at=act.local_time("配送时间", raw) if raw.strip() else now,
                now=now,
            )
        except act.SupplyError as exc:
            error = str(exc)
        else:
            messages.success(request, "配送已登记")
            return redirect(reverse("supplies:request", args=[supply_request.pk]))
    delivered = act.delivered_so_far(supply_request)
    items = [
        {
            "item": i,
            "delivered": plain(delivered.get(i.pk, Decimal(0))),
            "quantity": plain(i.quantity),
            "left": plain(max(i.quantity - delivered.get(i.pk, Decimal(0)), Decimal(0))),
        }
        for i in supply_request.items.order_by("pk")
    ]
    deliveries = []
    for d in supply_request.deliveries.prefetch_related("lines__item").order_by("delivered_at"):
        deliveries.append(
            {
                "d": d,
                "courier": mask_name(d.courier_name) if d.courier_name else "",
                "phone": mask_phone(d.courier_phone) if d.courier_phone else "",
                "lines": [
                    f"{ln.item.get_item_display()} {plain(ln.quantity)}{ln.item.unit}"
                    for ln in d.lines.all()
                ],
                "may_confirm": d.confirmed_at is None and access.can_confirm(request.user, d),
            }
        )
    return render_staff(
        request,
        "supplies/request.html",
        {
            "r": supply_request,
            "state": _state(supply_request),
            "items": items,
            "deliveries": deliveries,
            "may_deliver": access.can_deliver(request.user, supply_request),
            "fundings": Funding.choices,
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
def confirm_delivery(request, pk: int):
    delivery = (
        Delivery.objects.filter(request__in=access.visible_requests(request.user))
        .filter(pk=pk)
        .first()
    )
    if delivery is None:
        raise Http404("没有该配送记录")
    try:
        act.do_confirm(request.user, delivery, now=timezone.now())
    except act.SupplyError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已确认收货")
    return redirect(reverse("supplies:request", args=[delivery.request_id]))


# --- housing ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def housing(request):
    _must_read(request.user)
    error, now = "", timezone.now()
    if request.method == "POST":
        if not access.may_keep(request.user):
            raise PermissionDenied("您的角色无权登记住宿安置")
        try:
            if request.POST.get("form") == "site":
                act.do_open_housing(
                    request.user,
                    name=request.POST.get("name", ""),
                    kind=request.POST.get("kind", ""),
                    county_code=request.POST.get("county", ""),
                    address=request.POST.get("address", ""),
                    beds=request.POST.get("beds", ""),
                    opened_at=now,
                    now=now,
                )
            else:
                site = (
                    access.scoped(request.user, HousingSite.objects.all())
                    .filter(pk=request.POST.get("site") or 0)
                    .first()
                )
                enterprise = (
                    access.enterprises_for(request.user)
                    .filter(pk=request.POST.get("enterprise") or 0)
                    .first()
                )
                if site is None:
                    raise act.SupplyError("安置点:请选择安置点")
                if enterprise is None:
                    raise act.SupplyError("企业:请选择企业")
                act.do_place(
                    request.user,
                    site,
                    enterprise,
                    people=request.POST.get("people", ""),
                    placed_at=now,
                    now=now,
                )
        except act.SupplyError as exc:
            error = str(exc)
        else:
            messages.success(request, "已登记")
            return redirect(reverse("supplies:housing"))
    sites = access.scoped(request.user, HousingSite.objects.all()).order_by("county_code", "name")
    names = _names()
    rows = []
    for s in sites:
        used = act.beds_used(s, now)
        rows.append(
            {
                "s": s,
                "county": names.get(s.county_code, s.county_code),
                "used": used,
                "free": s.beds - used,
                "placements": s.placements.select_related("enterprise").order_by("placed_at"),
            }
        )
    return render_staff(
        request,
        "supplies/housing.html",
        {
            "rows": rows,
            "error": error,
            "may_keep": access.may_keep(request.user),
            "kinds": HousingKind.choices,
            "counties": names.items(),
            "enterprises": access.enterprises_for(request.user).order_by("name")[:500]
            if access.may_keep(request.user)
            else [],
        },
        status=400 if error else 200,
    )
