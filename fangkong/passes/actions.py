"""Applying for a vehicle pass, deciding, issuing numbered batches and revoking: one
transaction each, every decision in the audit log. Bad input raises PassError with a Chinese
message naming the field; a step the user may not take raises PermissionDenied."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Max

from fangkong.audit.actions import record
from fangkong.engine import tokens
from fangkong.engine.id_numbers import mask, mask_name
from fangkong.enterprises.gate import PLATE, normalise_plate
from fangkong.passes import access
from fangkong.passes.models import Decision, PassBatch, VehiclePass, VehicleType
from fangkong.passes.rules import PHONE, PassError, check_validity
from fangkong.people.models import Person
from fangkong.places.models import Division
from fangkong.signing import keys

LIMITS = {"起点": 40, "终点": 40, "运输物资": 100, "处理意见": 200, "吊销原因": 200}


def _text(label: str, value: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise PassError(f"{label}:不能为空")
    if len(value) > LIMITS[label]:
        raise PassError(f"{label}:过长(最多{LIMITS[label]}字)")
    return value


def _division(label: str, code: str) -> str:
    code = (code or "").strip()
    if code and not Division.objects.filter(pk=code).exists():
        raise PassError(f"{label}区划:未知的区划代码 {code}")
    return code


def do_apply(
    user,
    *,
    enterprise,
    plate: str,
    vehicle_type: str,
    driver_id_number: str,
    driver_phone: str,
    origin: str,
    destination: str,
    cargo: str,
    valid_from: datetime,
    valid_until: datetime,
    now: datetime,
    origin_code: str = "",
    destination_code: str = "",
    previous: VehiclePass | None = None,
) -> VehiclePass:
    """An application (or, with `previous`, a re-application after a rejection): its handling
    clock starts now."""
    access.require(access.can_apply(user, enterprise), "为该企业申请通行证")
    number = normalise_plate(plate)
    if not number:
        raise PassError("车牌号:不能为空")
    if not PLATE.match(number):
        raise PassError(f"车牌号:“{plate.strip()}”格式不正确,应如吉A12345或吉AD12345")
    if vehicle_type not in VehicleType.values:
        raise PassError(f"车辆类型:未知的类型 {vehicle_type}")
    id_number = (driver_id_number or "").strip().upper()
    if not id_number:
        raise PassError("驾驶员身份证号:不能为空")
    driver = Person.objects.filter(id_number=id_number).first()
    if driver is None:
        raise PassError("驾驶员身份证号:未找到该居民,驾驶员须为已登记的人员")
    phone = (driver_phone or "").strip()
    if not PHONE.match(phone):
        raise PassError("驾驶员电话:应为11位手机号")
    origin, destination = _text("起点", origin), _text("终点", destination)
    cargo = _text("运输物资", cargo)
    origin_code, destination_code = (
        _division("起点", origin_code),
        _division("终点", destination_code),
    )
    check_validity(valid_from, valid_until, now)
    with transaction.atomic():
        if previous is not None:
            previous = VehiclePass.objects.select_for_update().get(pk=previous.pk)
            if previous.enterprise_id != enterprise.pk:
                raise PassError("原申请:不是本企业的申请")
            if previous.decision != Decision.REJECTED:
                raise PassError("原申请:只有被驳回的申请可以重新申请")
            if VehiclePass.objects.filter(previous=previous).exists():
                raise PassError("原申请:已经重新申请过")
        vehicle_pass = VehiclePass.objects.create(
            enterprise=enterprise,
            county_code=enterprise.county_code,
            plate=number,
            vehicle_type=vehicle_type,
            driver=driver,
            driver_phone=phone,
            origin=origin,
            origin_code=origin_code,
            destination=destination,
            destination_code=destination_code,
            cargo=cargo,
            valid_from=valid_from,
            valid_until=valid_until,
            previous=previous,
            applied_at=now,
            applied_by=user if getattr(user, "is_authenticated", False) else None,
        )
        record(
            user,
            "vehicle_pass.reapply" if previous else "vehicle_pass.apply",
            "vehicle_pass",
            str(vehicle_pass.pk),
            {"enterprise": enterprise.pk, "plate": number, "previous": previous and previous.pk},
            at=now,
        )
    return vehicle_pass


def do_decide(user, vehicle_pass: VehiclePass, *, approve: bool, reason: str, now: datetime):
    """Approve or reject a pending application; a rejection needs its reason."""
    access.require(access.can_decide(user, vehicle_pass.county_code), "审批该通行证")
    reason = _text("处理意见", reason, required=not approve) or "符合通行条件"
    with transaction.atomic():
        vehicle_pass = VehiclePass.objects.select_for_update().get(pk=vehicle_pass.pk)
        if vehicle_pass.decision:
            raise PassError(f"该申请已于{vehicle_pass.decided_at:%m-%d %H:%M}处理过")
        if now < vehicle_pass.applied_at:
            raise PassError("处理时间:早于申请时间")
        vehicle_pass.decision = Decision.APPROVED if approve else Decision.REJECTED
        vehicle_pass.decided_at, vehicle_pass.decided_by = now, user
        vehicle_pass.decision_reason = reason
        vehicle_pass.save(update_fields=["decision", "decided_at", "decided_by", "decision_reason"])
        record(
            user,
            "vehicle_pass.approve" if approve else "vehicle_pass.reject",
            "vehicle_pass",
            str(vehicle_pass.pk),
            {
                "reason": reason,
                "handling_seconds": int((now - vehicle_pass.applied_at).total_seconds()),
            },
            at=now,
        )
    return vehicle_pass


def pass_claims(vehicle_pass: VehiclePass, now: datetime) -> dict:
    """The claims of the signed pass (docs/tokens.md, `fk-vehicle`)."""
    driver = vehicle_pass.driver
    return {
        "v": 1,
        "pid": vehicle_pass.pk,
        "no": vehicle_pass.number_text,
        "pl": vehicle_pass.plate,
        "vt": vehicle_pass.get_vehicle_type_display(),
        "sub": keys.person_ref(driver.pk),
        "nm": mask_name(driver.name),
        "idm": mask(driver.id_number),
        "ent": vehicle_pass.enterprise.name[:32],
        "rt": f"{vehicle_pass.origin}→{vehicle_pass.destination}",
        "iat": int(now.timestamp()),
        "nbf": int(vehicle_pass.valid_from.timestamp()),
        "exp": int(vehicle_pass.valid_until.timestamp()),
    }


def do_issue_batch(user, *, now: datetime) -> PassBatch:
    """Close the current batch: every approved pass not yet issued (and not yet expired) in the
    officer's districts gets this batch, the next pass numbers and its signed QR."""
    access.require(access.is_officer(user), "发放通行证")
    from fangkong.accounts.scoping import districts_of

    scope = districts_of(user)
    with transaction.atomic():
        waiting = VehiclePass.objects.select_for_update().filter(
            decision=Decision.APPROVED,
            issued_at__isnull=True,
            revoked_at__isnull=True,
            valid_until__gt=now,
            decided_at__lte=now,
        )
        if scope is not None:
            waiting = waiting.filter(county_code__in=sorted(scope))
        waiting = list(waiting.select_related("driver", "enterprise").order_by("decided_at", "pk"))
        if not waiting:
            raise PassError("没有待发放的已批准通行证")
        # Batch and pass numbers are city-wide sequences; the lock on the batches table's last
        # row keeps two officers closing batches at once from taking the same numbers.
        last = PassBatch.objects.select_for_update().order_by("-number").first()
        batch = PassBatch.objects.create(
            number=(last.number if last else 0) + 1,
            closed_at=now,
            closed_by=user,
            districts=sorted(scope) if scope is not None else [],
        )
        first = (VehiclePass.objects.aggregate(m=Max("number"))["m"] or 0) + 1
        kid, private = keys.active_key(now)
        for offset, vehicle_pass in enumerate(waiting):
            vehicle_pass.batch = batch
            vehicle_pass.number = first + offset
            vehicle_pass.issued_at = now
            vehicle_pass.token = tokens.sign(
                tokens.VEHICLE, pass_claims(vehicle_pass, now), kid, private
            )
            vehicle_pass.kid = kid
        VehiclePass.objects.bulk_update(
            waiting, ["batch", "number", "issued_at", "token", "kid"], batch_size=500
        )
        record(
            user,
            "vehicle_pass.issue_batch",
            "pass_batch",
            str(batch.number),
            {"issued": len(waiting), "first": first, "last": first + len(waiting) - 1},
            at=now,
        )
    return batch


def do_revoke(user, vehicle_pass: VehiclePass, *, reason: str, now: datetime) -> VehiclePass:
    """Revoke an issued pass: online checkpoints deny it at once, offline ones from their next
    bundle refresh (GET /api/passes/revoked)."""
    access.require(access.can_decide(user, vehicle_pass.county_code), "吊销该通行证")
    reason = _text("吊销原因", reason)
    with transaction.atomic():
        vehicle_pass = VehiclePass.objects.select_for_update().get(pk=vehicle_pass.pk)
        if vehicle_pass.issued_at is None:
            raise PassError("该通行证尚未发放,无需吊销")
        if vehicle_pass.revoked_at is not None:
            raise PassError(f"该通行证已于{vehicle_pass.revoked_at:%m-%d %H:%M}吊销")
        vehicle_pass.revoked_at, vehicle_pass.revoked_by = now, user
        vehicle_pass.revoke_reason = reason
        vehicle_pass.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        record(
            user,
            "vehicle_pass.revoke",
            "vehicle_pass",
            str(vehicle_pass.pk),
            {"reason": reason},
            at=now,
        )
    return vehicle_pass
