"""Doing things with enterprises: registry entries, resumption filings, daily reports. One
transaction each, each writing its audit record.

`user=None` is the system (the demo, a command); every other user is asked
`fangkong.enterprises.access` first. `now` is when it is recorded; `at` when the step happened
(never after `now`, never before the enterprise's previous step).

The filing (一企一策), as statuses (`ResumptionStatus`):
    not_started --file--> filed --check--> filed --approve--> approved --resume--> resumed
    filed --reject--> not_started (re-file);  resumed/approved --suspend--> suspended
    suspended --resume--> resumed
Approval needs an on-site check, with the whole site disinfected, recorded after the latest
filing.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from stdnum.cn import uscc as uscc_code
from stdnum.exceptions import ValidationError as StdnumError

from fangkong.accounts.models import StaffProfile
from fangkong.audit.actions import record
from fangkong.clearances.evidence import clean_name
from fangkong.clearances.models import EmployerBatch
from fangkong.enterprises import access
from fangkong.enterprises.linking import link_by_name
from fangkong.enterprises.models import (
    DailyReport,
    Employee,
    EmployeeRole,
    Enterprise,
    Industry,
    ResumptionStatus,
    ResumptionStep,
    SupplyLink,
)
from fangkong.enterprises.queries import standing_reports, status_at
from fangkong.enterprises.rules import LOCAL
from fangkong.people.models import Person
from fangkong.places.models import Division, Level
from fangkong.places.queries import CITY_CODE

Kind = ResumptionStep.Kind
S = ResumptionStatus

# (magic bytes, extension, content type). DOCX is a zip holding word/document.xml.
DOCUMENT_TYPES = (
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CONTENT_TYPES = {ext: kind for _, ext, kind in DOCUMENT_TYPES} | {"docx": DOCX}
ACCEPTED_DOCUMENTS = "PDF、JPG、PNG 或 Word(DOCX)"
PHONE = re.compile(r"[0-9+\- ]{5,20}")
TEXT_FIELDS = {
    "name": ("企业名称", 128),
    "address": ("地址", 200),
    "liaison_name": ("包保联络员", 64),
    "liaison_phone": ("联络员电话", 20),
    "instructor_name": ("疫情防控指导员", 64),
    "instructor_phone": ("指导员电话", 20),
}
EDITABLE = {
    "uscc",
    "name",
    "county_code",
    "community_code",
    "address",
    "industry",
    "above_scale",
    "normal_staff",
    "liaison_name",
    "liaison_phone",
    "instructor_name",
    "instructor_phone",
    "liaison_officer",
    "pcr_every_days",
    "antigen_every_days",
}


class FilingError(ValueError):
    """Refused, said in Chinese, naming the field or the step and why."""


def _allow(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied("您无权办理该企业的事项")


# --- the registry ----------------------------------------------------------------------------


def _clean_uscc(raw: str) -> str:
    value = (raw or "").strip().upper().replace(" ", "")
    if not value:
        raise FilingError("统一社会信用代码:必填")
    try:
        return uscc_code.validate(value)
    except StdnumError as exc:
        raise FilingError(
            f"统一社会信用代码:“{value[:20]}”不是有效的代码(18位,末位校验码须正确)"
        ) from exc


def _county(code: str) -> str:
    code = (code or "").strip()
    if not Division.objects.filter(
        code=code, level=Level.COUNTY, parent_id=CITY_CODE, is_current=True
    ).exists():
        raise FilingError(f"所属区县:“{code[:12]}”不是长春市现行的区县(开发区)代码")
    return code


def _community(code: str, county: str) -> Division | None:
    code = (code or "").strip()
    if not code:
        return None
    found = Division.objects.filter(code=code, level=Level.COMMUNITY).first()
    if found is None:
        raise FilingError(f"所在社区:“{code[:12]}”不是社区(村)代码")
    if found.county_code != county:
        raise FilingError(f"所在社区:{found.name}不在所属区县内")
    return found


def _positive(label: str, value, *, low: int = 0, high: int = 10_000_000) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise FilingError(f"{label}:应为整数") from exc
    if not low <= number <= high:
        raise FilingError(f"{label}:应在 {low} 到 {high} 之间")
    return number


def _clean(fields: dict) -> dict:
    """The registry fields checked and normalised (only those given)."""
    out: dict = {}
    for key, value in fields.items():
        if key == "uscc":
            out[key] = _clean_uscc(value)
        elif key in TEXT_FIELDS:
            label, limit = TEXT_FIELDS[key]
            text = (value or "").strip()
            if len(text) > limit:
                raise FilingError(f"{label}:不能超过{limit}个字")
            if key.endswith("_phone") and text and not PHONE.fullmatch(text):
                raise FilingError(f"{label}:“{text[:20]}”不是电话号码")
            out[key] = text
        elif key == "industry":
            if value not in Industry.values:
                raise FilingError(f"行业:“{str(value)[:20]}”不是可选的行业")
            out[key] = value
        elif key == "above_scale":
            out[key] = bool(value)
        elif key == "normal_staff":
            out[key] = _positive("正常用工人数", value)
        elif key == "pcr_every_days":
            out[key] = _positive("核酸检测间隔(天)", value, low=1, high=30)
        elif key == "antigen_every_days":
            out[key] = _positive("抗原检测间隔(天)", value, low=1, high=30)
        elif key == "county_code":
            out[key] = _county(value)
        elif key in ("community_code", "liaison_officer"):
            out[key] = value
        else:
            raise FilingError(f"“{key}”不是企业登记的字段")
    if "name" in out and not out["name"]:
        raise FilingError("企业名称:必填")
    return out


def _check_unique(name: str, code: str, exclude: int | None = None) -> None:
    others = Enterprise.objects.exclude(pk=exclude) if exclude else Enterprise.objects.all()
    if others.filter(name=name).exists():
        raise FilingError(f"企业名称:“{name}”已登记")
    if others.filter(uscc=code).exists():
        raise FilingError(f"统一社会信用代码:{code} 已登记")


def _link(name: str) -> dict:
    return link_by_name(Enterprise, Employee, Person, StaffProfile, EmployerBatch, names=[name])


def registry_fields(enterprise: Enterprise) -> dict:
    """The editable fields of an entry, as `do_update_enterprise` takes them."""
    return {
        "uscc": enterprise.uscc,
        "name": enterprise.name,
        "county_code": enterprise.county_code,
        "community_code": enterprise.community_id or "",
        "address": enterprise.address,
        "industry": enterprise.industry,
        "above_scale": enterprise.above_scale,
        "normal_staff": enterprise.normal_staff,
        "liaison_name": enterprise.liaison_name,
        "liaison_phone": enterprise.liaison_phone,
        "instructor_name": enterprise.instructor_name,
        "instructor_phone": enterprise.instructor_phone,
        "liaison_officer": enterprise.liaison_officer_id,
        "pcr_every_days": enterprise.pcr_every_days,
        "antigen_every_days": enterprise.antigen_every_days,
    }


def do_register_enterprise(
    user,
    *,
    uscc: str,
    name: str,
    county_code: str,
    industry: str,
    above_scale: bool,
    normal_staff: int,
    now: datetime,
    community_code: str = "",
    address: str = "",
    liaison_name: str = "",
    liaison_phone: str = "",
    instructor_name: str = "",
    instructor_phone: str = "",
    liaison_officer=None,
    pcr_every_days: int = 3,
    antigen_every_days: int = 1,
) -> Enterprise:
    """Register an enterprise (the district keeps it), then link the residents, employer
    accounts and employer lists whose employer text is its name."""
    data = _clean(
        {
            "uscc": uscc,
            "name": name,
            "county_code": county_code,
            "industry": industry,
            "above_scale": above_scale,
            "normal_staff": normal_staff,
            "address": address,
            "liaison_name": liaison_name,
            "liaison_phone": liaison_phone,
            "instructor_name": instructor_name,
            "instructor_phone": instructor_phone,
            "pcr_every_days": pcr_every_days,
            "antigen_every_days": antigen_every_days,
        }
    )
    _allow(user is None or access.can_keep(user, county_code=data["county_code"]))
    community = _community(community_code, data["county_code"])
    with transaction.atomic():
        _check_unique(data["name"], data["uscc"])
        try:
            with transaction.atomic():
                enterprise = Enterprise.objects.create(
                    **data,
                    community=community,
                    liaison_officer=liaison_officer,
                    recorded_at=now,
                )
        except IntegrityError as exc:  # registered meanwhile by someone else
            raise FilingError(f"企业名称或统一社会信用代码已登记:{data['name']}") from exc
        linked = _link(enterprise.name)
        record(
            user,
            "enterprise.register",
            "enterprise",
            enterprise.pk,
            {"uscc": enterprise.uscc, "name": enterprise.name, "linked": linked},
            at=now,
        )
    return enterprise


def do_update_enterprise(user, enterprise: Enterprise, *, now: datetime, reason: str, **fields):
    """Change registry fields; the audit record keeps the old and the new values."""
    reason = _required(reason, "修改原因")
    data = _clean(fields)
    _allow(user is None or access.can_keep(user, enterprise))
    if "county_code" in data:
        _allow(user is None or access.can_keep(user, county_code=data["county_code"]))
    with transaction.atomic():
        enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        before = registry_fields(enterprise)
        county = data.get("county_code", enterprise.county_code)
        if "community_code" in data or "county_code" in data:
            code = data.pop("community_code", enterprise.community_id or "")
            enterprise.community = _community(code, county)
        if "liaison_officer" in data:
            enterprise.liaison_officer = data.pop("liaison_officer")
        for key, value in data.items():
            setattr(enterprise, key, value)
        _check_unique(enterprise.name, enterprise.uscc, exclude=enterprise.pk)
        enterprise.save()
        after = registry_fields(enterprise)
        changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if before["name"] != after["name"]:
            _link(enterprise.name)
        record(
            user,
            "enterprise.update",
            "enterprise",
            enterprise.pk,
            {"reason": reason, "changed": changed},
            at=now,
        )
    return enterprise


def do_link_supplier(
    user, supplier: Enterprise, customer: Enterprise, *, note: str = "", now: datetime
) -> SupplyLink:
    """The supplier delivers to the customer (产业链配套)."""
    if supplier.pk == customer.pk:
        raise FilingError("配套企业:供货企业与客户不能是同一家")
    _allow(user is None or access.can_keep(user, supplier) or access.can_keep(user, customer))
    note = (note or "").strip()
    if len(note) > 200:
        raise FilingError("配套内容:不能超过200个字")
    with transaction.atomic():
        link, created = SupplyLink.objects.get_or_create(
            supplier=supplier, customer=customer, defaults={"note": note, "recorded_at": now}
        )
        if created:
            record(
                user,
                "enterprise.supply_link",
                "enterprise",
                supplier.pk,
                {"supplier": supplier.name, "customer": customer.name, "note": note},
                at=now,
            )
    return link


def _role(role: str) -> str:
    if role not in EmployeeRole.values:
        raise FilingError(f"员工身份:“{str(role)[:20]}”不是可选的身份(驻厂、返岗、闭环)")
    return role


def do_add_employee(
    user,
    enterprise: Enterprise,
    person: Person,
    *,
    role: str,
    now: datetime,
    since: datetime | None = None,
) -> Employee:
    role = _role(role)
    _allow(user is None or access.can_report(user, enterprise))
    since = since or now
    if since > now:
        raise FilingError("起始时间:不能晚于现在")
    with transaction.atomic():
        if Employee.objects.filter(enterprise=enterprise, person=person).exists():
            raise FilingError("员工:此人已是该企业员工,如需调整请修改其身份")
        employee = Employee.objects.create(
            enterprise=enterprise, person=person, role=role, since=since, recorded_at=now
        )
        record(
            user,
            "enterprise.employee_add",
            "enterprise",
            enterprise.pk,
            {"person": person.pk, "role": role, "since": since},
            at=now,
        )
    return employee


def do_change_employee_role(
    user,
    enterprise: Enterprise,
    person: Person,
    *,
    role: str,
    now: datetime,
    since: datetime | None = None,
) -> Employee:
    """The person's role at the enterprise changes from `since` (default now)."""
    role = _role(role)
    _allow(user is None or access.can_report(user, enterprise))
    since = since or now
    if since > now:
        raise FilingError("起始时间:不能晚于现在")
    with transaction.atomic():
        employee = (
            Employee.objects.select_for_update()
            .filter(enterprise=enterprise, person=person)
            .first()
        )
        if employee is None:
            raise FilingError("员工:此人不是该企业员工")
        old = employee.role
        employee.role, employee.since = role, since
        employee.save(update_fields=["role", "since"])
        record(
            user,
            "enterprise.employee_role",
            "enterprise",
            enterprise.pk,
            {"person": person.pk, "role": [old, role], "since": since},
            at=now,
        )
    return employee


# --- the filing ----------------------------------------------------------------------------


def _document(document) -> tuple[bytes, str, str] | None:
    """(data, extension, display name) of an uploaded plan, checked by its bytes."""
    if document is None:
        return None
    limit = settings.EVIDENCE_MAX_BYTES
    if isinstance(document, tuple):
        name, data = document
        size = len(data)
    else:
        name = document.name or ""
        size = document.size if document.size is not None else 0
        data = b"" if size > limit else document.read(limit + 1)
    shown = clean_name(name or "复工方案")
    if max(size, len(data)) > limit:
        raise FilingError(f"方案文件:“{shown}”超过 {limit // (1024 * 1024)} MB,请压缩后再上传")
    if not data:
        raise FilingError(f"方案文件:“{shown}”是空的")
    for magic, extension, _ in DOCUMENT_TYPES:
        if data.startswith(magic):
            return data, extension, shown
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    return data, "docx", shown
        except zipfile.BadZipFile:
            pass
    raise FilingError(f"方案文件:“{shown}”不是{ACCEPTED_DOCUMENTS}(按文件内容判断,与扩展名无关)")


def _keep(data: bytes, extension: str) -> str:
    """Write the file under settings.EVIDENCE_DIR (outside the web root) with a random name."""
    stored = f"plan-{secrets.token_hex(16)}.{extension}"
    folder = Path(settings.EVIDENCE_DIR)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / stored
    with open(path, "xb") as handle:
        handle.write(data)
    path.chmod(0o600)
    return stored


def document_path(step: ResumptionStep) -> Path:
    """Where a step's document is kept; only plain names of ours are ever read."""
    name = Path(step.document).name
    if not step.document or name != step.document or not name.startswith("plan-"):
        raise FileNotFoundError(step.document)
    return Path(settings.EVIDENCE_DIR) / name


def document_type(step: ResumptionStep) -> str:
    return CONTENT_TYPES.get(step.document.rsplit(".", 1)[-1], "application/octet-stream")


def _when(at: datetime | None, now: datetime) -> datetime:
    at = at or now
    if at > now:
        raise FilingError("时间:不能晚于现在")
    return at


def _locked(enterprise: Enterprise, at: datetime, now: datetime) -> tuple[Enterprise, str, list]:
    """The enterprise row locked, its status now and its steps, refusing a step dated before
    the latest one (the history is appended in order)."""
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    steps = list(
        ResumptionStep.objects.filter(enterprise=enterprise).order_by("at", "recorded_at", "pk")
    )
    if steps and at < steps[-1].at:
        last = steps[-1]
        raise FilingError(
            f"时间:早于上一环节({last.get_kind_display()},"
            f"{last.at.astimezone(LOCAL):%Y-%m-%d %H:%M}),请按实际顺序登记"
        )
    status = status_at([enterprise.pk], now).get(enterprise.pk, S.NOT_STARTED)
    return enterprise, status, steps


def _required(text: str, label: str) -> str:
    text = (text or "").strip()
    if not text:
        raise FilingError(f"{label}:必填")
    return text


def _refuse(status: str, doing: str, needs: str) -> FilingError:
    return FilingError(f"当前状态为“{S(status).label}”,不能{doing}:{needs}")


def _step(user, enterprise, kind, status, at, now, detail: dict | None = None, **fields):
    step = ResumptionStep.objects.create(
        enterprise=enterprise,
        kind=kind,
        status=status,
        at=at,
        recorded_at=now,
        recorded_by=user,
        **fields,
    )
    record(
        user,
        f"enterprise.{kind}",
        "enterprise",
        enterprise.pk,
        {"step": step.pk, "status": status, "at": at, **(detail or {})},
        at=now,
    )
    return step


def do_file_plan(
    user,
    enterprise: Enterprise,
    *,
    note: str,
    now: datetime,
    at: datetime | None = None,
    document=None,
) -> ResumptionStep:
    """The enterprise files its plan and commitment (一企一策), with the document."""
    _allow(user is None or access.can_report(user, enterprise))
    at = _when(at, now)
    note = (note or "").strip()
    checked = _document(document)
    if not note and checked is None:
        raise FilingError("复工方案:请填写方案说明或上传方案文件")
    with transaction.atomic():
        enterprise, status, _ = _locked(enterprise, at, now)
        if status not in (S.NOT_STARTED, S.FILED):
            raise _refuse(status, "提交复工方案", "只有未复工或已报备的企业可以提交")
        stored = name = ""
        digest = ""
        if checked is not None:
            data, extension, name = checked
            stored = _keep(data, extension)
            digest = hashlib.sha256(data).hexdigest()
        return _step(
            user,
            enterprise,
            Kind.FILE,
            S.FILED,
            at,
            now,
            {"document": name, "sha256": digest, "refiled": status == S.FILED},
            note=note,
            document=stored,
            document_name=name,
        )


def do_record_check(
    user,
    enterprise: Enterprise,
    *,
    check_team: str,
    findings: str,
    disinfected: bool,
    now: datetime,
    at: datetime | None = None,
) -> ResumptionStep:
    """The on-site check (现场检查) of a filed plan: its team, findings and whether the whole
    site was disinfected. The status stays 已报备."""
    _allow(user is None or access.can_keep(user, enterprise))
    at = _when(at, now)
    check_team, findings = (check_team or "").strip(), (findings or "").strip()
    if not check_team:
        raise FilingError("检查组:必填")
    if len(check_team) > 128:
        raise FilingError("检查组:不能超过128个字")
    if not findings:
        raise FilingError("检查发现:必填(无问题请写“未发现问题”)")
    with transaction.atomic():
        enterprise, status, _ = _locked(enterprise, at, now)
        if status != S.FILED:
            raise _refuse(status, "登记现场检查", "企业须先提交复工方案")
        return _step(
            user,
            enterprise,
            Kind.CHECK,
            S.FILED,
            at,
            now,
            {"check_team": check_team, "disinfected": bool(disinfected)},
            check_team=check_team,
            findings=findings,
            disinfected=bool(disinfected),
        )


def do_approve(
    user, enterprise: Enterprise, *, now: datetime, note: str = "", at: datetime | None = None
) -> ResumptionStep:
    """The district approves a filed plan, once an on-site check after the latest filing found
    the site disinfected."""
    _allow(user is None or access.can_keep(user, enterprise))
    at = _when(at, now)
    with transaction.atomic():
        enterprise, status, steps = _locked(enterprise, at, now)
        if status != S.FILED:
            raise _refuse(status, "批准复工", "只有已报备的企业可以批准")
        since_filing: list[ResumptionStep] = []
        for step in steps:
            since_filing = [] if step.kind == Kind.FILE else [*since_filing, step]
        checks = [s for s in since_filing if s.kind == Kind.CHECK]
        if not checks:
            raise FilingError("不能批准:提交方案后尚未登记现场检查")
        if not any(s.disinfected for s in checks):
            raise FilingError("不能批准:现场检查未确认已完成全场区消杀")
        return _step(
            user, enterprise, Kind.APPROVE, S.APPROVED, at, now, {"note": note}, note=note.strip()
        )


def do_reject(
    user, enterprise: Enterprise, *, reason: str, now: datetime, at: datetime | None = None
) -> ResumptionStep:
    """Send a filed plan back: the enterprise must file again."""
    _allow(user is None or access.can_keep(user, enterprise))
    at = _when(at, now)
    reason = _required(reason, "退回原因")
    with transaction.atomic():
        enterprise, status, _ = _locked(enterprise, at, now)
        if status != S.FILED:
            raise _refuse(status, "退回", "只有已报备的企业可以退回")
        return _step(
            user, enterprise, Kind.REJECT, S.NOT_STARTED, at, now, {"reason": reason}, note=reason
        )


def do_resume(
    user, enterprise: Enterprise, *, now: datetime, at: datetime | None = None, note: str = ""
) -> ResumptionStep:
    """Start (or, after a suspension, restart) production. The enterprise starts once approved;
    a suspension was the district's decision, so only the district lifts it."""
    _allow(user is None or access.can_report(user, enterprise))
    at = _when(at, now)
    with transaction.atomic():
        enterprise, status, _ = _locked(enterprise, at, now)
        if status not in (S.APPROVED, S.SUSPENDED):
            raise _refuse(status, "复工", "须经区县批准(或停工后恢复)")
        if status == S.SUSPENDED and user is not None and not access.can_keep(user, enterprise):
            raise FilingError("不能复工:停工由区县决定,须经区县复查后恢复生产")
        return _step(
            user, enterprise, Kind.RESUME, S.RESUMED, at, now, {"note": note}, note=note.strip()
        )


def do_suspend(
    user, enterprise: Enterprise, *, reason: str, now: datetime, at: datetime | None = None
) -> ResumptionStep:
    _allow(user is None or access.can_keep(user, enterprise))
    at = _when(at, now)
    reason = _required(reason, "停工原因")
    with transaction.atomic():
        enterprise, status, _ = _locked(enterprise, at, now)
        if status not in (S.RESUMED, S.APPROVED):
            raise _refuse(status, "停工", "只有已批准或已复工的企业可以停工")
        return _step(
            user, enterprise, Kind.SUSPEND, S.SUSPENDED, at, now, {"reason": reason}, note=reason
        )


# --- daily reports ----------------------------------------------------------------------------


def local_day(now: datetime) -> date:
    return now.astimezone(LOCAL).date()


def _capacity(value) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise FilingError("产能恢复(%):应为数字,如 78 或 78.5") from exc
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(200):
        raise FilingError("产能恢复(%):应在 0 到 200 之间")
    if number != number.quantize(Decimal("0.1")):
        raise FilingError("产能恢复(%):最多一位小数")
    return number.quantize(Decimal("0.1"))


def do_submit_report(
    user,
    enterprise: Enterprise,
    *,
    day: date,
    staff_on_duty: int,
    returning_staff: int,
    capacity_percent,
    closed_loop: bool,
    problems: str = "",
    now: datetime,
    correction_reason: str = "",
) -> DailyReport:
    """The enterprise's report for `day` (日报). One standing report a day: sending another for
    the same day is a correction, which needs its reason and replaces the standing one."""
    _allow(user is None or access.can_report(user, enterprise))
    if day > local_day(now):
        raise FilingError(f"日期:{day:%Y-%m-%d} 还没到,不能提前报送")
    staff = _positive("在岗人数", staff_on_duty)
    returning = _positive("其中返岗人数", returning_staff)
    if returning > staff:
        raise FilingError(f"其中返岗人数:{returning} 人多于在岗人数 {staff} 人")
    capacity = _capacity(capacity_percent)
    problems = (problems or "").strip()
    reason = (correction_reason or "").strip()
    if len(reason) > 200:
        raise FilingError("更正原因:不能超过200个字")
    with transaction.atomic():
        Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()
        standing = standing_reports(day, now, [enterprise.pk]).get(enterprise.pk)
        if standing is not None and not reason:
            raise FilingError(
                f"{day:%Y-%m-%d} 已报送日报(在岗{standing.staff_on_duty}人),如需更正请填写更正原因"
            )
        report = DailyReport.objects.create(
            enterprise=enterprise,
            day=day,
            staff_on_duty=staff,
            returning_staff=returning,
            capacity_percent=capacity,
            closed_loop=bool(closed_loop),
            problems=problems,
            supersedes=standing,
            correction_reason=reason if standing is not None else "",
            recorded_at=now,
            recorded_by=user,
        )
        record(
            user,
            "enterprise.daily_report",
            "enterprise",
            enterprise.pk,
            {
                "report": report.pk,
                "day": day,
                "staff_on_duty": staff,
                "returning_staff": returning,
                "capacity_percent": capacity,
                "closed_loop": bool(closed_loop),
                "supersedes": standing.pk if standing else None,
                "correction_reason": report.correction_reason,
            },
            at=now,
        )
    return report


@dataclass(frozen=True)
class Reminder:
    """An enterprise due to report that has not: who to call."""

    enterprise: Enterprise
    status: str
    liaison_name: str
    liaison_phone: str

    @property
    def status_label(self) -> str:
        return S(self.status).label


DUE = (S.APPROVED, S.RESUMED)


def reminders(user, day: date, now: datetime) -> list[Reminder]:
    """The enterprises `user` sees (all of them for the system) that should report — approved
    or resumed at `now` — and have no standing report for `day`, by district and name."""
    visible = Enterprise.objects.all() if user is None else access.visible_enterprises(user)
    ids = list(visible.values_list("pk", flat=True))
    due = [e for e, s in status_at(ids, now).items() if s in DUE]
    statuses = status_at(due, now)
    reported = standing_reports(day, now, due)
    rows = Enterprise.objects.filter(pk__in=[e for e in due if e not in reported]).order_by(
        "county_code", "name"
    )
    return [Reminder(e, statuses[e.pk], e.liaison_name, e.liaison_phone) for e in rows]
