"""Doing things in supply assurance: the registry of supply firms and its status history, its
import by file, building sites, requests, deliveries and their confirmation, housing sites and
placements. One transaction each, each writing its audit record.

`user=None` is the system (the demo, a command); every other user is asked
`fangkong.supplies.access` first. `now` is when it is recorded; an effective time (`at`) is
never after `now`.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Sum

from fangkong.audit.actions import record
from fangkong.enterprises.models import Employee, Enterprise
from fangkong.places.models import Division
from fangkong.places.models import Level as DivisionLevel
from fangkong.places.queries import CITY_CODE
from fangkong.supplies import access
from fangkong.supplies.models import (
    Category,
    Delivery,
    DeliveryLine,
    FirmKind,
    FirmStatus,
    Funding,
    HousingKind,
    HousingSite,
    ImportFlag,
    Item,
    Level,
    Placement,
    RequestItem,
    Site,
    StatusChange,
    SupplyFirm,
    SupplyRequest,
    Upload,
)
from fangkong.supplies.rules import ITEM_CATEGORY, RuleError, check_unit, plain, quantity

LOCAL = ZoneInfo("Asia/Shanghai")
MAX_ROWS = 20_000


class SupplyError(ValueError):
    """Refused, said in Chinese, naming the field and why."""


def _rule(fn, *args):
    try:
        return fn(*args)
    except RuleError as exc:
        raise SupplyError(str(exc)) from exc


def _counties() -> set[str]:
    return set(
        Division.objects.filter(
            level=DivisionLevel.COUNTY, parent_id=CITY_CODE, is_current=True
        ).values_list("code", flat=True)
    )


def _county(code: str, label: str = "所属区县") -> str:
    code = (code or "").strip()
    if code not in _counties():
        raise SupplyError(f"{label}:“{code[:12]}”不是长春市现行的区县(开发区)代码")
    return code


def _text(label: str, value, limit: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise SupplyError(f"{label}:必填")
    if len(value) > limit:
        raise SupplyError(f"{label}:不能超过{limit}个字")
    return value


def _choice(label: str, value: str, choices) -> str:
    """A choice by its value or its Chinese label."""
    value = (value or "").strip()
    for v, text in choices.choices:
        if value in (v, text):
            return v
    allowed = "、".join(text for _, text in choices.choices)
    raise SupplyError(f"{label}:“{value[:20]}”不是可选值(可选:{allowed})")


def _not_after(label: str, at: datetime, now: datetime) -> datetime:
    if at is None:
        raise SupplyError(f"{label}:必填")
    if at > now:
        raise SupplyError(f"{label}:不能晚于登记时间(现在)")
    return at


def local_time(label: str, raw: str) -> datetime:
    """2022-04-08 or 2022-04-08 09:00 (Beijing time), or ISO 8601 with an offset."""
    text = (raw or "").strip().replace("/", "-")
    if not text:
        raise SupplyError(f"{label}:必填")
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise SupplyError(f"{label}:“{text[:25]}”不是有效的时间(应为 2022-04-08 09:00)") from exc
    return value if value.tzinfo else value.replace(tzinfo=LOCAL)


# --- the registry ----------------------------------------------------------------------------


def _level_kind(level: str, kind: str) -> None:
    if (level == Level.SMALL) != (kind == FirmKind.SMALL_SHOP):
        raise SupplyError("类型:小超市的级别应为“小超市”,保供企业(市级、区级)不能是小超市")


@transaction.atomic
def do_register_firm(
    user,
    *,
    code: str,
    name: str,
    level: str,
    kind: str,
    county_code: str,
    address: str = "",
    enterprise: Enterprise | None = None,
    status: str = FirmStatus.OPEN,
    effective_at: datetime,
    reason: str = "",
    now: datetime,
) -> SupplyFirm:
    code = _text("登记编号", code, 32)
    county = _county(county_code)
    if user is not None:
        access.require(access.may_keep(user, county), "登记该区县的保供企业")
    level = _choice("级别", level, Level)
    kind = _choice("类型", kind, FirmKind)
    _level_kind(level, kind)
    status = _choice("状态", status, FirmStatus)
    _not_after("生效时间", effective_at, now)
    if SupplyFirm.objects.filter(code=code).exists():
        raise SupplyError(f"登记编号:{code}已登记")
    firm = SupplyFirm.objects.create(
        code=code,
        name=_text("名称", name, 128),
        level=level,
        kind=kind,
        county_code=county,
        address=_text("地址", address, 200, required=False),
        enterprise=enterprise,
        recorded_at=now,
    )
    StatusChange.objects.create(
        firm=firm,
        status=status,
        effective_at=effective_at,
        recorded_at=now,
        recorded_by=user,
        reason=_text("原因", reason, 200, required=False),
    )
    record(
        user,
        "supplies.firm.register",
        "supplies.SupplyFirm",
        str(firm.pk),
        {"code": code, "level": level, "kind": kind, "county": county, "status": status},
        at=now,
    )
    return firm


def status_of(firm: SupplyFirm, as_of: datetime) -> str | None:
    latest = (
        firm.changes.filter(effective_at__lte=as_of, recorded_at__lte=as_of)
        .order_by("-effective_at", "-recorded_at", "-pk")
        .first()
    )
    return latest.status if latest else None


@transaction.atomic
def do_change_status(
    user, firm: SupplyFirm, *, status: str, effective_at: datetime, reason: str, now: datetime
) -> StatusChange:
    if user is not None:
        access.require(access.may_keep(user, firm.county_code), "变更该保供企业的状态")
    status = _choice("状态", status, FirmStatus)
    _not_after("生效时间", effective_at, now)
    reason = _text("原因", reason, 200, required=status != FirmStatus.OPEN)
    if StatusChange.objects.filter(firm=firm, effective_at=effective_at, status=status).exists():
        raise SupplyError("状态:同一生效时间已登记过该状态")
    change = StatusChange.objects.create(
        firm=firm,
        status=status,
        effective_at=effective_at,
        recorded_at=now,
        recorded_by=user,
        reason=reason,
    )
    record(
        user,
        "supplies.firm.status",
        "supplies.SupplyFirm",
        str(firm.pk),
        {"code": firm.code, "status": status, "effective_at": effective_at, "reason": reason},
        at=now,
    )
    return change


# --- the registry by file --------------------------------------------------------------------

COLUMNS = {
    "登记编号": "code",
    "名称": "name",
    "级别": "level",
    "类型": "kind",
    "区县代码": "county_code",
    "地址": "address",
    "统一社会信用代码": "uscc",
    "状态": "status",
    "生效时间": "effective_at",
    "原因": "reason",
}
REQUIRED = ("登记编号", "名称", "级别", "类型", "区县代码", "状态", "生效时间")
COMPARED = {"name": "名称", "level": "级别", "kind": "类型", "county_code": "区县代码"}


def read_table(content: bytes, filename: str) -> list[tuple[int, dict[str, str]]]:
    """(row number, {column: text}) of a CSV (UTF-8, or GBK as Excel saves it) or XLSX file;
    the header is row 1."""
    if filename.lower().endswith(".xlsx"):
        from fangkong.ingest.xlsx import XlsxError, open_sheet

        try:
            book, sheet = open_sheet(io.BytesIO(content))
        except XlsxError as exc:
            raise SupplyError(f"文件:{exc}") from exc
        try:
            raw = [
                (number, [str(cells.get(i, "") or "") for i in range(max(cells, default=-1) + 1)])
                for number, cells in sheet.rows()
            ]
        except XlsxError as exc:
            raise SupplyError(f"文件:{exc}") from exc
        finally:
            book.close()
    elif filename.lower().endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes any byte string
            raise SupplyError("文件:无法识别的编码")
        raw = [(i, row) for i, row in enumerate(csv.reader(io.StringIO(text)), start=1)]
    else:
        raise SupplyError("文件:只接受 CSV 或 XLSX 文件")
    raw = [(n, cells) for n, cells in raw if any(c.strip() for c in cells)]
    if not raw:
        raise SupplyError("文件:没有表头")
    if len(raw) > MAX_ROWS + 1:
        raise SupplyError(f"文件:超过{MAX_ROWS}行,请分批导入")
    header = [c.strip() for c in raw[0][1]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise SupplyError(f"文件:缺少列 {'、'.join(missing)}")
    rows = []
    for number, cells in raw[1:]:
        row = {}
        for index, title in enumerate(header):
            if title in COLUMNS:
                row[COLUMNS[title]] = cells[index].strip() if index < len(cells) else ""
        rows.append((number, row))
    return rows


def _clean_row(row: dict, counties: set[str], enterprises: dict[str, Enterprise]) -> dict:
    clean = {
        "code": _text("登记编号", row.get("code"), 32),
        "name": _text("名称", row.get("name"), 128),
        "level": _choice("级别", row.get("level"), Level),
        "kind": _choice("类型", row.get("kind"), FirmKind),
        "address": _text("地址", row.get("address"), 200, required=False),
        "status": _choice("状态", row.get("status"), FirmStatus),
        "effective_at": local_time("生效时间", row.get("effective_at")),
        "reason": _text("原因", row.get("reason"), 200, required=False),
    }
    _level_kind(clean["level"], clean["kind"])
    county = (row.get("county_code") or "").strip()
    if county not in counties:
        raise SupplyError(f"区县代码:“{county[:12]}”不是长春市现行的区县(开发区)代码")
    clean["county_code"] = county
    uscc = (row.get("uscc") or "").strip().upper()
    clean["enterprise"] = None
    if uscc:
        if uscc not in enterprises:
            raise SupplyError(f"统一社会信用代码:{uscc[:20]}未在企业名录中登记")
        clean["enterprise"] = enterprises[uscc]
    return clean


def _field_of(message: str) -> str:
    return message.split(":", 1)[0] if ":" in message else ""


def do_import(user, content: bytes, filename: str, *, now: datetime) -> Upload:
    """Load a file of the registry: one row per firm and status (a firm's first row registers
    it). Rows with errors are reported (row, field, reason) and skipped; good rows are kept. A
    row naming a known firm with another name, level, kind or district is not applied but
    flagged for a person (ImportFlag). The same file again changes nothing: it is answered with
    the upload that loaded it."""
    digest = hashlib.sha256(content).hexdigest()
    earlier = Upload.objects.filter(sha256=digest).order_by("pk").first()
    if earlier is not None:
        earlier.repeated = True
        return earlier
    rows = read_table(content, filename)
    with transaction.atomic():
        return _load(user, rows, filename[:255], digest, now)


def _load(user, rows, filename: str, digest: str, now: datetime) -> Upload:
    counties = _counties()
    scope = None if user is None else access.districts_of(user)
    if user is not None:
        access.require(access.may_keep(user), "导入保供企业名录")
    usccs = {(r.get("uscc") or "").strip().upper() for _, r in rows} - {""}
    enterprises = {e.uscc: e for e in Enterprise.objects.filter(uscc__in=usccs)}
    codes = {(r.get("code") or "").strip() for _, r in rows}
    firms = {f.code: f for f in SupplyFirm.objects.filter(code__in=codes)}
    known = set(
        StatusChange.objects.filter(firm__code__in=codes).values_list(
            "firm_id", "effective_at", "status"
        )
    )
    open_flags = set(
        ImportFlag.objects.filter(firm__code__in=codes, resolved_at__isnull=True).values_list(
            "firm_id", "field", "offered"
        )
    )
    upload = Upload.objects.create(
        filename=filename, sha256=digest, uploaded_by=user, uploaded_at=now, rows=len(rows)
    )
    errors, flags, changes, unchanged, created = [], [], [], 0, 0
    for number, row in rows:
        try:
            clean = _clean_row(row, counties, enterprises)
            if scope is not None and clean["county_code"] not in scope:
                raise SupplyError("区县代码:不在您负责的区县内")
            if clean["effective_at"] > now:
                raise SupplyError("生效时间:不能晚于导入时间")
        except SupplyError as exc:
            errors.append({"row": number, "field": _field_of(str(exc)), "reason": str(exc)})
            continue
        firm = firms.get(clean["code"])
        if firm is None:
            firm = SupplyFirm.objects.create(
                code=clean["code"],
                name=clean["name"],
                level=clean["level"],
                kind=clean["kind"],
                county_code=clean["county_code"],
                address=clean["address"],
                enterprise=clean["enterprise"],
                recorded_at=now,
            )
            firms[firm.code] = firm
            created += 1
        else:
            differ = [
                (field, label)
                for field, label in COMPARED.items()
                if getattr(firm, field) != clean[field]
            ]
            if differ:
                for field, label in differ:
                    key = (firm.pk, label, str(clean[field]))
                    if key not in open_flags:
                        open_flags.add(key)
                        flags.append(
                            ImportFlag(
                                upload=upload,
                                firm=firm,
                                row=number,
                                field=label,
                                stored=str(getattr(firm, field)),
                                offered=str(clean[field]),
                            )
                        )
                continue
        key = (firm.pk, clean["effective_at"], clean["status"])
        if key in known:
            unchanged += 1
            continue
        known.add(key)
        changes.append(
            StatusChange(
                firm=firm,
                status=clean["status"],
                effective_at=clean["effective_at"],
                recorded_at=now,
                recorded_by=user,
                reason=clean["reason"],
                upload=upload,
            )
        )
    StatusChange.objects.bulk_create(changes, batch_size=2000)
    ImportFlag.objects.bulk_create(flags)
    upload.firms_created, upload.changes_created, upload.unchanged = (
        created,
        len(changes),
        unchanged,
    )
    upload.errors = errors
    upload.save(update_fields=["firms_created", "changes_created", "unchanged", "errors"])
    record(
        user,
        "supplies.registry.import",
        "supplies.Upload",
        str(upload.pk),
        {
            "filename": filename,
            "sha256": digest,
            "rows": len(rows),
            "firms_created": created,
            "changes_created": len(changes),
            "unchanged": unchanged,
            "errors": len(errors),
            "flags": len(flags),
        },
        at=now,
    )
    upload.repeated = False
    return upload


@transaction.atomic
def do_resolve_flag(user, flag: ImportFlag, *, accept: bool, note: str, now: datetime) -> None:
    """A person decides a flagged row: accept the file's value (the firm is changed) or keep
    the stored one."""
    flag = ImportFlag.objects.select_for_update(of=("self",)).select_related("firm").get(pk=flag.pk)
    if user is not None:
        access.require(access.may_keep(user, flag.firm.county_code), "处理该导入行")
    if flag.resolved_at is not None:
        raise SupplyError("处理:该行已处理过")
    note = _text("处理说明", note, 200)
    if accept:
        field = {label: field for field, label in COMPARED.items()}[flag.field]
        if field == "county_code":
            _county(flag.offered, "区县代码")
        setattr(flag.firm, field, flag.offered)
        flag.firm.save(update_fields=[field])
    flag.resolved_at, flag.resolved_by = now, user
    flag.resolution = f"{'采用文件中的值' if accept else '保留现有值'}:{note}"
    flag.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    record(
        user,
        "supplies.registry.flag",
        "supplies.SupplyFirm",
        str(flag.firm_id),
        {"field": flag.field, "stored": flag.stored, "offered": flag.offered, "accept": accept},
        at=now,
    )


# --- building sites, requests, deliveries ----------------------------------------------------


@transaction.atomic
def do_register_site(
    user,
    *,
    name: str,
    county_code: str,
    address: str = "",
    contractor: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    workers: int = 0,
    now: datetime,
) -> Site:
    county = _county(county_code)
    if user is not None:
        access.require(
            access.may_keep(user, county)
            or (access.role_of(user) in access.LIAISONS and access.in_scope(user, county)),
            "登记该区县的工地",
        )
    name = _text("工地名称", name, 128)
    if Site.objects.filter(name=name).exists():
        raise SupplyError(f"工地名称:{name}已登记")
    site = Site.objects.create(
        name=name,
        county_code=county,
        address=_text("地址", address, 200, required=False),
        contractor=_text("施工单位", contractor, 128, required=False),
        contact_name=_text("联系人", contact_name, 64, required=False),
        contact_phone=_text("联系电话", contact_phone, 20, required=False),
        workers=max(int(workers or 0), 0),
        recorded_at=now,
    )
    record(user, "supplies.site.register", "supplies.Site", str(site.pk), {"name": name}, at=now)
    return site


def _items(category: str, items) -> list[tuple[str, str, Decimal]]:
    """[(item, unit, quantity)] checked: the item's unit, a positive quantity, each (item, unit)
    once, of the request's category."""
    clean, seen = [], set()
    for index, (item, unit, amount) in enumerate(items, start=1):
        label = f"第{index}项"
        item = (item or "").strip()
        if item not in Item.values:
            raise SupplyError(f"{label}物资:“{item[:20]}”不是可申请的物资")
        if ITEM_CATEGORY[item] != category:
            raise SupplyError(f"{label}物资:{Item(item).label}不属于所选类别")
        _rule(check_unit, item, (unit or "").strip(), f"{label}单位")
        value = _rule(quantity, f"{label}数量", amount)
        if (item, unit) in seen:
            raise SupplyError(f"{label}物资:{Item(item).label}({unit})重复")
        seen.add((item, unit))
        clean.append((item, unit.strip(), value))
    if not clean:
        raise SupplyError("物资:至少填写一项")
    return clean


@transaction.atomic
def do_request(
    user,
    *,
    enterprise: Enterprise | None = None,
    site: Site | None = None,
    category: str,
    items,
    note: str = "",
    now: datetime,
) -> SupplyRequest:
    if (enterprise is None) == (site is None):
        raise SupplyError("申请单位:应为一家企业或一个工地")
    if user is not None:
        access.require(access.can_request(user, enterprise=enterprise, site=site), "为其申请物资")
    category = _choice("类别", category, Category)
    lines = _items(category, items)
    county = enterprise.county_code if enterprise is not None else site.county_code
    supply_request = SupplyRequest.objects.create(
        enterprise=enterprise,
        site=site,
        county_code=county,
        category=category,
        note=_text("说明", note, 300, required=False),
        requested_at=now,
        requested_by=user,
    )
    RequestItem.objects.bulk_create(
        [RequestItem(request=supply_request, item=i, unit=u, quantity=q) for i, u, q in lines]
    )
    record(
        user,
        "supplies.request",
        "supplies.SupplyRequest",
        str(supply_request.pk),
        {
            "enterprise": enterprise.pk if enterprise else None,
            "site": site.pk if site else None,
            "category": category,
            "items": [{"item": i, "unit": u, "quantity": plain(q)} for i, u, q in lines],
        },
        at=now,
    )
    return supply_request


def delivered_so_far(supply_request: SupplyRequest) -> dict[int, Decimal]:
    return {
        row["item"]: row["total"]
        for row in DeliveryLine.objects.filter(item__request=supply_request)
        .values("item")
        .annotate(total=Sum("quantity"))
    }


@transaction.atomic
def do_deliver(
    user,
    supply_request: SupplyRequest,
    *,
    lines: dict,
    supplier: str,
    funding: str,
    delivered_at: datetime,
    now: datetime,
    courier_name: str = "",
    courier_phone: str = "",
    value_yuan="0",
    round: int | None = None,
) -> Delivery:
    """Deliver some of what was asked: `lines` is {RequestItem id: quantity}. More than is left
    to deliver of an item is refused."""
    supply_request = SupplyRequest.objects.select_for_update().get(pk=supply_request.pk)
    if user is not None:
        access.require(access.can_deliver(user, supply_request), "为该申请登记配送")
    supplier = _text("配送单位", supplier, 128)
    funding = _choice("方式", funding, Funding)
    _not_after("配送时间", delivered_at, now)
    if delivered_at < supply_request.requested_at:
        raise SupplyError("配送时间:不能早于申请时间")
    try:
        value = Decimal(str(value_yuan or "0").replace(",", ""))
    except InvalidOperation as exc:
        raise SupplyError("货值(元):应为数字") from exc
    if not value.is_finite() or value < 0:
        raise SupplyError("货值(元):不能为负数")
    items = {i.pk: i for i in supply_request.items.all()}
    done = delivered_so_far(supply_request)
    clean = []
    for item_id, amount in lines.items():
        if amount in (None, "", 0, "0"):
            continue
        item = items.get(int(item_id))
        if item is None:
            raise SupplyError("物资:不是该申请中的物资")
        label = f"{item.get_item_display()}数量"
        value_of = _rule(quantity, label, amount)
        left = item.quantity - done.get(item.pk, Decimal(0))
        if value_of > left:
            raise SupplyError(f"{label}:超过尚未配送的数量({plain(left)}{item.unit}),不能超量配送")
        clean.append((item, value_of))
    if not clean:
        raise SupplyError("配送数量:至少填写一项大于0的数量")
    delivery = Delivery.objects.create(
        request=supply_request,
        delivered_at=delivered_at,
        recorded_at=now,
        recorded_by=user,
        supplier=supplier,
        courier_name=_text("配送人", courier_name, 64, required=False),
        courier_phone=_text("配送人电话", courier_phone, 20, required=False),
        funding=funding,
        value_yuan=value,
        round=round,
    )
    DeliveryLine.objects.bulk_create(
        [DeliveryLine(delivery=delivery, item=item, quantity=q) for item, q in clean]
    )
    record(
        user,
        "supplies.deliver",
        "supplies.Delivery",
        str(delivery.pk),
        {
            "request": supply_request.pk,
            "supplier": supplier,
            "funding": funding,
            "value_yuan": str(value),
            "lines": [{"item": i.item, "unit": i.unit, "quantity": plain(q)} for i, q in clean],
        },
        at=now,
    )
    return delivery


@transaction.atomic
def do_confirm(user, delivery: Delivery, *, now: datetime, note: str = "") -> Delivery:
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("request__enterprise")
        .get(pk=delivery.pk)
    )
    if user is not None:
        access.require(access.can_confirm(user, delivery), "确认该配送的收货")
    if delivery.confirmed_at is not None:
        raise SupplyError("确认收货:该配送已确认过")
    if now < delivery.delivered_at:
        raise SupplyError("确认收货:配送时间还没到")
    delivery.confirmed_at, delivery.confirmed_by = now, user
    delivery.save(update_fields=["confirmed_at", "confirmed_by"])
    record(
        user,
        "supplies.confirm",
        "supplies.Delivery",
        str(delivery.pk),
        {"request": delivery.request_id, "note": note[:200]},
        at=now,
    )
    return delivery


# --- housing ---------------------------------------------------------------------------------


@transaction.atomic
def do_open_housing(
    user,
    *,
    name: str,
    kind: str,
    county_code: str,
    beds,
    opened_at: datetime,
    now: datetime,
    address: str = "",
) -> HousingSite:
    county = _county(county_code)
    if user is not None:
        access.require(access.may_keep(user, county), "登记该区县的住宿安置点")
    name = _text("名称", name, 128)
    if HousingSite.objects.filter(name=name).exists():
        raise SupplyError(f"名称:{name}已登记")
    try:
        beds = int(beds)
    except (TypeError, ValueError) as exc:
        raise SupplyError("床位数:应为整数") from exc
    if not 0 < beds <= 100_000:
        raise SupplyError("床位数:应在 1 到 100000 之间")
    site = HousingSite.objects.create(
        name=name,
        kind=_choice("类型", kind, HousingKind),
        county_code=county,
        address=_text("地址", address, 200, required=False),
        beds=beds,
        opened_at=_not_after("启用时间", opened_at, now),
        recorded_at=now,
        recorded_by=user,
    )
    record(
        user,
        "supplies.housing.open",
        "supplies.HousingSite",
        str(site.pk),
        {"name": name, "beds": beds, "county": county},
        at=now,
    )
    return site


def beds_used(site: HousingSite, at: datetime) -> int:
    from django.db.models import Q

    return (
        site.placements.filter(placed_at__lte=at, recorded_at__lte=at)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))
        .aggregate(n=Sum("people"))["n"]
        or 0
    )


@transaction.atomic
def do_place(
    user,
    site: HousingSite,
    enterprise: Enterprise,
    *,
    people=None,
    employees=(),
    placed_at: datetime,
    now: datetime,
) -> Placement:
    """Place an enterprise's returning workers: a count, or named employees (the count is
    theirs). More than the site's free beds is refused."""
    site = HousingSite.objects.select_for_update().get(pk=site.pk)
    if user is not None:
        access.require(access.may_keep(user, site.county_code), "在该安置点安置人员")
    _not_after("安置时间", placed_at, now)
    if placed_at < site.opened_at:
        raise SupplyError("安置时间:安置点还未启用")
    named = list(employees)
    if any(e.enterprise_id != enterprise.pk for e in named):
        raise SupplyError("安置人员:不是该企业的员工")
    if named:
        count = len({e.pk for e in named})
    else:
        try:
            count = int(people)
        except (TypeError, ValueError) as exc:
            raise SupplyError("安置人数:应为整数") from exc
        if count <= 0:
            raise SupplyError("安置人数:应大于0")
    free = site.beds - beds_used(site, max(placed_at, now))
    if count > free:
        raise SupplyError(f"安置人数:超过该安置点的空余床位({free}张)")
    placement = Placement.objects.create(
        site=site,
        enterprise=enterprise,
        people=count,
        placed_at=placed_at,
        recorded_at=now,
        recorded_by=user,
    )
    if named:
        placement.employees.set(named)
    record(
        user,
        "supplies.housing.place",
        "supplies.Placement",
        str(placement.pk),
        {"site": site.pk, "enterprise": enterprise.pk, "people": count, "named": len(named)},
        at=now,
    )
    return placement


@transaction.atomic
def do_end_placement(user, placement: Placement, *, ended_at: datetime, now: datetime) -> None:
    placement = (
        Placement.objects.select_for_update(of=("self",))
        .select_related("site")
        .get(pk=placement.pk)
    )
    if user is not None:
        access.require(access.may_keep(user, placement.site.county_code), "结束该安置")
    if placement.ended_at is not None:
        raise SupplyError("结束时间:该安置已结束")
    _not_after("结束时间", ended_at, now)
    if ended_at <= placement.placed_at:
        raise SupplyError("结束时间:应晚于安置时间")
    placement.ended_at = ended_at
    placement.save(update_fields=["ended_at"])
    record(
        user,
        "supplies.housing.end",
        "supplies.Placement",
        str(placement.pk),
        {"ended_at": ended_at},
        at=now,
    )


def employees_of(enterprise: Enterprise, ids) -> list[Employee]:
    return list(Employee.objects.filter(enterprise=enterprise, pk__in=list(ids)))
