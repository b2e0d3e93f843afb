"""Plant gates (企业厂门): the returning worker's registration at the gate (一人一登记), exits and
the closed loop (闭环管理), the vehicle disinfection log (一车一消杀), the buffer zone of new
returnees (缓冲区) and the morning compliance check of a closed-loop plant.

The rules are in fangkong.enterprises.rules (pure); here they meet the facts as known at `now`:
the live code colour, the person's samplings and results, the standing zone levels of the place
they came from, their antigen tests. Actions (`do_*`) run in one transaction and are audited.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery

from fangkong.audit.actions import record
from fangkong.checkpoints.actions import do_create_checkpoint
from fangkong.codes.tokens import live_colour
from fangkong.engine import tokens
from fangkong.engine.id_numbers import (
    beijing_date,
    check_id_number,
    mask,
    mask_name,
    normalise_id_number,
)
from fangkong.engine.testing_state import (
    NEGATIVE,
    POSITIVE,
    PersonTestState,
    ResultFact,
    SamplingFact,
    derive_testing_state,
)
from fangkong.enterprises import rules
from fangkong.enterprises.access import can_keep, own_enterprise_id
from fangkong.enterprises.models import (
    AntigenAtGate,
    Employee,
    EmployeeRole,
    Enterprise,
    ExitPurpose,
    GateEntry,
    GateExit,
    PlantGate,
    VehicleDisinfection,
)
from fangkong.enterprises.queries import standing_reports
from fangkong.people.models import Person
from fangkong.places.models import Division
from fangkong.signing import keys
from fangkong.testing.models import AntigenTest, LabResult, Sampling
from fangkong.zones.queries import current_levels

LOCAL = rules.LOCAL
GATE_TYPE = "factory_gate"
# A thermometer reading outside this range is a typing mistake, not a temperature.
LOWEST_TEMPERATURE, HIGHEST_TEMPERATURE = Decimal("34.0"), Decimal("43.0")
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
# 吉A12345 (5 characters after the authority letter), 吉AD12345 (new energy, 6), 吉A1234学 …
PLATE = re.compile(
    rf"^[{PROVINCES}][A-HJ-NP-Z](?:[A-HJ-NP-Z0-9]{{5,6}}|[A-HJ-NP-Z0-9]{{4}}[挂学警港澳])$"
)
RECENT_ENTRIES = 20


class GateError(ValueError):
    """Bad input at the gate; the message names the field and the reason, in Chinese."""


@dataclass
class EntryVerdict:
    admitted: bool
    reasons: list[str]
    entry: GateEntry
    repeated: bool  # an earlier registration answers (same scan, or already inside)
    new_returnee: bool
    name: str  # masked
    id_number: str  # masked
    colour: str
    origin_name: str
    pcr_sampled_at: datetime | None
    scan_id: str
    at: datetime


@dataclass(frozen=True)
class BufferRow:
    entry: GateEntry
    person_id: int
    name: str  # masked
    id_number: str  # masked
    entered_at: datetime
    hours: float  # in the buffer zone so far
    state: str  # what keeps them there, in Chinese
    positive: bool


@dataclass(frozen=True)
class MissedRow:
    person_id: int
    name: str  # masked
    id_number: str  # masked
    antigen: bool
    pcr: bool
    last_antigen_at: datetime | None
    last_pcr_at: datetime | None

    @property
    def what(self) -> str:
        return "、".join(t for t, m in (("抗原", self.antigen), ("核酸", self.pcr)) if m)


@dataclass(frozen=True)
class ExitRow:
    exit: GateExit
    name: str  # masked
    id_number: str  # masked
    at: datetime
    purpose: str  # its label


@dataclass
class LoopRows:
    """Who missed which test (iterating gives them) and the previous day's loop-breaking exits."""

    missed: list[MissedRow] = field(default_factory=list)
    breaking_exits: list[ExitRow] = field(default_factory=list)

    def __iter__(self) -> Iterator[MissedRow]:
        return iter(self.missed)

    def __len__(self) -> int:
        return len(self.missed)

    @property
    def alert(self) -> bool:
        return bool(self.missed or self.breaking_exits)


# --- Who is at the gate ---------------------------------------------------------------------


def _person_from(token: str, id_number: str, now: datetime) -> Person:
    if token and id_number:
        raise GateError("请只提供健康码或身份证号之一")
    if token:
        try:
            verified = keys.verify(token.strip(), now, (tokens.CODE,))
        except tokens.TokenError as error:
            raise GateError(f"健康码无效:{error.reason}") from None
        person_id = keys.person_from_ref(verified.claims.get("sub"))
        person = Person.objects.filter(pk=person_id).first() if person_id else None
        if person is None:
            raise GateError("健康码无效:无法识别持码人")
        return person
    if id_number:
        number = normalise_id_number(id_number)
        problem = check_id_number(number, beijing_date(now))
        if problem:
            raise GateError(f"身份证号{problem}")
        person = Person.objects.filter(id_number=number).first()
        if person is None:
            raise GateError("身份证号未登记:该人员不在居民信息库中,请核实身份")
        return person
    raise GateError("请扫描健康码或输入身份证号")


def _scan_uuid(scan_id, label: str = "扫码编号(scan_id)") -> uuid.UUID:
    if scan_id is None or scan_id == "":
        return uuid.uuid4()
    try:
        return scan_id if isinstance(scan_id, uuid.UUID) else uuid.UUID(str(scan_id))
    except ValueError:
        raise GateError(f"{label}应为UUID") from None


def _temperature(value) -> Decimal:
    try:
        reading = Decimal(str(value).strip()).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise GateError("体温应为数字,如36.5") from None
    if not LOWEST_TEMPERATURE <= reading <= HIGHEST_TEMPERATURE:
        raise GateError(
            f"体温{reading}℃不在{LOWEST_TEMPERATURE}至{HIGHEST_TEMPERATURE}℃之间,请重测"
        )
    return reading


def _local(at: datetime) -> str:
    return at.astimezone(LOCAL).strftime("%m-%d %H:%M")


# --- Testing facts, for many people at once -------------------------------------------------


def testing_states(person_ids: Iterable[int], now: datetime) -> dict[int, PersonTestState]:
    """Each person's testing state as known at `now` (fangkong.engine.testing_state), read in
    two queries for all of them."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    corrections = Sampling.objects.filter(supersedes_id=OuterRef("pk"))
    samplings = list(
        Sampling.objects.filter(person_id__in=ids, recorded_at__lte=now)
        .select_related("tube")
        .annotate(
            correction_id=Subquery(corrections.values("id")[:1]),
            corrected_at=Subquery(corrections.values("recorded_at")[:1]),
        )
    )
    results = defaultdict(list)
    for r in LabResult.objects.filter(
        tube_id__in=sorted({s.tube_id for s in samplings}), recorded_at__lte=now
    ).select_related("tube"):
        results[r.tube_id].append(
            ResultFact(
                id=r.id,
                tube=r.tube.barcode,
                result=r.result,
                lab=r.lab,
                reported_at=r.reported_at,
                recorded_at=r.recorded_at,
                supersedes=r.supersedes_id,
            )
        )
    by_person = defaultdict(list)
    tubes = defaultdict(set)
    for s in samplings:
        by_person[s.person_id].append(
            SamplingFact(
                id=s.id,
                tube=s.tube.barcode,
                pool_size=s.tube.capacity,
                sampled_at=s.sampled_at,
                recorded_at=s.recorded_at,
                superseded_by=s.correction_id,
                superseded_at=s.corrected_at,
            )
        )
        tubes[s.person_id].add(s.tube_id)
    return {
        pid: derive_testing_state(
            by_person.get(pid, ()),
            [r for tube in tubes.get(pid, ()) for r in results[tube]],
            now,
        )
        for pid in ids
    }


def latest_negative_sampled_at(state: PersonTestState) -> datetime | None:
    """The sampling time of the latest negative PCR (what a 48-hour rule reads)."""
    return next(
        (
            item.sampling.sampled_at
            for item in reversed(state.samplings)
            if item.result is not None and item.result.result == NEGATIVE
        ),
        None,
    )


# --- Gates ----------------------------------------------------------------------------------


def do_create_plant_gate(
    user, enterprise: Enterprise, *, name: str, now: datetime
) -> tuple[PlantGate, str]:
    """A checkpoint of type 企业厂门 in the enterprise's district and its plant gate; returns
    (gate, device key) — the key is shown once."""
    if user is not None and not (
        can_keep(user, enterprise) or own_enterprise_id(user) == enterprise.pk
    ):
        raise PermissionDenied("您无权为该企业设立厂门")
    name = (name or "").strip()
    if not name:
        raise GateError("厂门名称不能为空")
    if len(name) > 100:
        raise GateError("厂门名称过长(最多100字)")
    with transaction.atomic():
        checkpoint, device_key = do_create_checkpoint(
            user,
            name=f"{enterprise.name}·{name}"[:128],
            type_code=GATE_TYPE,
            county_code=enterprise.county_code,
            community=enterprise.community,
            now=now,
        )
        gate = PlantGate.objects.create(checkpoint=checkpoint, enterprise=enterprise)
        record(
            user,
            "enterprise.plant_gate.create",
            "plant_gate",
            str(gate.pk),
            {"enterprise": enterprise.pk, "checkpoint": checkpoint.pk, "name": name},
            at=now,
        )
    return gate, device_key


def _verdict(entry: GateEntry, person: Person, *, repeated: bool) -> EntryVerdict:
    origin = Division.objects.filter(pk=entry.origin_id).values_list("name", flat=True).first()
    return EntryVerdict(
        admitted=entry.admitted,
        reasons=list(entry.reasons),
        entry=entry,
        repeated=repeated,
        new_returnee=entry.new_returnee,
        name=mask_name(person.name),
        id_number=mask(person.id_number),
        colour=entry.colour,
        origin_name=origin or "",
        pcr_sampled_at=entry.pcr_sampled_at,
        scan_id=str(entry.scan_id),
        at=entry.at,
    )


def inside_entry(enterprise_id: int, person_id: int, now: datetime) -> GateEntry | None:
    """The person's latest admitted entry at this enterprise if they have not left since."""
    latest = (
        GateEntry.objects.filter(
            enterprise_id=enterprise_id, person_id=person_id, admitted=True, at__lte=now
        )
        .order_by("-at", "-pk")
        .first()
    )
    if latest is None:
        return None
    left = GateExit.objects.filter(
        enterprise_id=enterprise_id, person_id=person_id, at__gte=latest.at, at__lte=now
    ).exists()
    return None if left else latest


def _origin(origin_code: str, person: Person) -> Division:
    code = (origin_code or "").strip()
    if not code:
        return person.community
    origin = Division.objects.filter(pk=code).first()
    if origin is None:
        raise GateError(f"来源社区代码{code}不存在")
    return origin


def do_register_entry(
    gate: PlantGate,
    *,
    now: datetime,
    antigen: str,
    temperature,
    mask: bool,
    token: str = "",
    id_number: str = "",
    origin_code: str = "",
    scan_id=None,
    user=None,
) -> EntryVerdict:
    """一人一登记: check and register a returning worker at the plant gate. The same scan sent
    again, or a person scanned again while inside, gets the first registration back."""
    user = user if getattr(user, "is_authenticated", False) else None
    scan_uuid = _scan_uuid(scan_id)
    earlier = GateEntry.objects.filter(scan_id=scan_uuid).first()
    if earlier is not None:
        return _verdict(earlier, Person.objects.get(pk=earlier.person_id), repeated=True)
    if antigen not in AntigenAtGate.values:
        raise GateError("入厂抗原结果应为阴性、阳性或无效")
    reading = _temperature(temperature)
    person = _person_from(token, id_number, now)
    origin = _origin(origin_code, person)
    enterprise = gate.enterprise
    with transaction.atomic():
        # One registration at a time per person: two scans at once cannot both enter.
        Person.objects.select_for_update().filter(pk=person.pk).first()
        inside = inside_entry(enterprise.pk, person.pk, now)
        if inside is not None:
            return _verdict(inside, person, repeated=True)
        colour = live_colour(person.pk)
        state = testing_states([person.pk], now)[person.pk]
        pcr_at = latest_negative_sampled_at(state)
        standing = current_levels([origin.pk], now).get(origin.pk, {})
        levels = [s.level for s in standing.values()]
        check = rules.check_entry(
            colour=colour,
            pcr_negative_sampled_at=pcr_at,
            origin_levels=levels,
            origin_name=origin.name,
            antigen=antigen,
            temperature=reading,
            mask=bool(mask),
            now=now,
        )
        risky = [lv for lv in levels if lv in rules.RISK_LEVELS]
        new_returnee = not GateEntry.objects.filter(
            enterprise=enterprise, person=person, admitted=True
        ).exists()
        try:
            with transaction.atomic():
                entry = GateEntry.objects.create(
                    scan_id=scan_uuid,
                    enterprise=enterprise,
                    gate=gate,
                    person=person,
                    at=now,
                    admitted=check.admitted,
                    reasons=list(check.reasons),
                    colour=colour[:6],
                    pcr_sampled_at=pcr_at,
                    origin=origin,
                    origin_level=(risky or levels or [""])[0],
                    antigen=antigen,
                    temperature=reading,
                    mask=bool(mask),
                    new_returnee=new_returnee,
                    recorded_by=user,
                    recorded_at=now,
                )
        except IntegrityError:  # the same scan raced in
            entry = GateEntry.objects.get(scan_id=scan_uuid)
            return _verdict(entry, person, repeated=True)
        if antigen in (AntigenAtGate.NEGATIVE, AntigenAtGate.POSITIVE):
            AntigenTest.objects.create(
                person=person, result=antigen, tested_at=now, recorded_at=now
            )
        detail = {
            "enterprise": enterprise.pk,
            "gate": gate.pk,
            "person": person.pk,
            "reasons": list(check.reasons),
            "new_returnee": new_returnee,
        }
        action = "enterprise.gate.admit" if check.admitted else "enterprise.gate.refuse"
        record(user, action, "gate_entry", str(entry.pk), detail, at=now)
        if antigen == AntigenAtGate.POSITIVE:
            record(
                user,
                "enterprise.gate.antigen_positive",
                "gate_entry",
                str(entry.pk),
                {"enterprise": enterprise.pk, "gate": gate.pk, "person": person.pk},
                at=now,
            )
    return _verdict(entry, person, repeated=False)


def is_closed_loop(enterprise: Enterprise, person_id: int, now: datetime) -> bool:
    """A closed-loop employee of this enterprise, or the plant's standing report of today says
    it works in a closed loop."""
    member = Employee.objects.filter(
        enterprise=enterprise, person_id=person_id, role=EmployeeRole.CLOSED_LOOP
    ).exists()
    if member:
        return True
    today = now.astimezone(LOCAL).date()
    report = standing_reports(today, now, [enterprise.pk]).get(enterprise.pk)
    return bool(report and report.closed_loop)


def do_register_exit(
    gate: PlantGate,
    *,
    now: datetime,
    purpose: str,
    token: str = "",
    id_number: str = "",
    note: str = "",
    scan_id=None,
    user=None,
) -> GateExit:
    """A person leaving through the gate; in a closed loop, leaving for anything but testing or
    collecting supplies breaks the loop and is flagged (and audited as such)."""
    user = user if getattr(user, "is_authenticated", False) else None
    scan_uuid = _scan_uuid(scan_id)
    earlier = GateExit.objects.filter(scan_id=scan_uuid).first()
    if earlier is not None:
        return earlier
    if purpose not in ExitPurpose.values:
        raise GateError("出厂事由应为参加核酸检测、领取生活物资或其他")
    note = (note or "").strip()
    if len(note) > 200:
        raise GateError("说明过长(最多200字)")
    if purpose == ExitPurpose.OTHER and not note:
        raise GateError("事由为“其他”时须填写说明")
    person = _person_from(token, id_number, now)
    enterprise = gate.enterprise
    breaks = rules.exit_breaks_loop(purpose, is_closed_loop(enterprise, person.pk, now))
    with transaction.atomic():
        try:
            with transaction.atomic():
                leaving = GateExit.objects.create(
                    scan_id=scan_uuid,
                    enterprise=enterprise,
                    gate=gate,
                    person=person,
                    at=now,
                    purpose=purpose,
                    note=note,
                    breaks_loop=breaks,
                    recorded_by=user,
                    recorded_at=now,
                )
        except IntegrityError:
            return GateExit.objects.get(scan_id=scan_uuid)
        record(
            user,
            "enterprise.gate.exit_breaks_loop" if breaks else "enterprise.gate.exit",
            "gate_exit",
            str(leaving.pk),
            {"enterprise": enterprise.pk, "person": person.pk, "purpose": purpose},
            at=now,
        )
    return leaving


def normalise_plate(value: str) -> str:
    return re.sub(r"[\s·•\-.]", "", value or "").upper()


def do_record_vehicle(
    gate: PlantGate,
    *,
    now: datetime,
    plate: str,
    method: str,
    disinfected_by: str,
    driver_name: str = "",
    entry_id=None,
    user=None,
) -> tuple[VehicleDisinfection, bool]:
    """一车一消杀: one row per vehicle per entry (the device's `entry_id`); (row, created)."""
    user = user if getattr(user, "is_authenticated", False) else None
    entry_uuid = _scan_uuid(entry_id, "登记编号(entry_id)")
    earlier = VehicleDisinfection.objects.filter(entry_id=entry_uuid).first()
    if earlier is not None:
        return earlier, False
    number = normalise_plate(plate)
    if not number:
        raise GateError("车牌号不能为空")
    if not PLATE.match(number):
        raise GateError(f"车牌号“{plate.strip()}”格式不正确,应如吉A12345或吉AD12345")
    method, disinfected_by = (method or "").strip(), (disinfected_by or "").strip()
    driver_name = (driver_name or "").strip()
    if not method:
        raise GateError("消杀方式不能为空")
    if not disinfected_by:
        raise GateError("消杀人员不能为空")
    for label, value, limit in (("消杀方式", method, 64), ("消杀人员", disinfected_by, 64)):
        if len(value) > limit:
            raise GateError(f"{label}过长(最多{limit}字)")
    if len(driver_name) > 64:
        raise GateError("驾驶员姓名过长(最多64字)")
    with transaction.atomic():
        try:
            with transaction.atomic():
                vehicle = VehicleDisinfection.objects.create(
                    entry_id=entry_uuid,
                    enterprise=gate.enterprise,
                    gate=gate,
                    plate=number,
                    driver_name=driver_name,
                    at=now,
                    method=method,
                    disinfected_by=disinfected_by,
                    recorded_by=user,
                    recorded_at=now,
                )
        except IntegrityError:
            return VehicleDisinfection.objects.get(entry_id=entry_uuid), False
        record(
            user,
            "enterprise.gate.vehicle",
            "vehicle_disinfection",
            str(vehicle.pk),
            {"enterprise": gate.enterprise_id, "plate": number, "method": method},
            at=now,
        )
    return vehicle, True


# --- What the plant sees --------------------------------------------------------------------


def recent_entries(gate: PlantGate, now: datetime, limit: int = RECENT_ENTRIES) -> list[dict]:
    entries = list(GateEntry.objects.filter(gate=gate, at__lte=now).order_by("-at", "-pk")[:limit])
    people = Person.objects.in_bulk({e.person_id for e in entries})
    return [
        {
            "entry": e,
            "name": mask_name(people[e.person_id].name) if e.person_id in people else "—",
            "id_number": mask(people[e.person_id].id_number) if e.person_id in people else "—",
        }
        for e in entries
    ]


def _buffer_state(state: PersonTestState, entered_at: datetime) -> tuple[bool, str, bool]:
    """(still in the buffer zone, why, positive)."""
    after = [item for item in state.samplings if item.sampling.sampled_at > entered_at]
    positive = state.status in ("positive", "pooled_positive_awaiting_retest") or any(
        item.result is not None and item.result.result == POSITIVE for item in after
    )
    if positive:
        return True, f"核酸阳性({state.label})", True
    if any(item.result is not None and item.result.result == NEGATIVE for item in after):
        return False, "", False
    if not after:
        return True, "入厂后尚未采样", False
    if all(item.result is None for item in after):
        return True, f"已于{_local(after[-1].sampling.sampled_at)}采样,待出结果", False
    return True, "结果无效,需重新采样", False


def buffer_zone(enterprise: Enterprise, now: datetime) -> list[BufferRow]:
    """New returnees admitted and not gone out since, whose first PCR after entry has not come
    back negative (as known at `now`); a positive one stays and is marked."""
    entries = list(
        GateEntry.objects.filter(
            enterprise=enterprise, admitted=True, new_returnee=True, at__lte=now
        ).order_by("at", "pk")
    )
    if not entries:
        return []
    # Whoever is no longer inside (left, and not admitted again since) is not in the zone; one
    # who left for a test and came back still is, until a negative.
    person_ids = sorted({e.person_id for e in entries})
    last_in: dict[int, datetime] = {}
    for person_id, at in GateEntry.objects.filter(
        enterprise=enterprise, person_id__in=person_ids, admitted=True, at__lte=now
    ).values_list("person_id", "at"):
        last_in[person_id] = max(at, last_in.get(person_id, at))
    last_out: dict[int, datetime] = {}
    for person_id, at in GateExit.objects.filter(
        enterprise=enterprise, person_id__in=person_ids, at__lte=now
    ).values_list("person_id", "at"):
        last_out[person_id] = max(at, last_out.get(person_id, at))
    entries = [
        e
        for e in entries
        if e.person_id not in last_out or last_out[e.person_id] < last_in[e.person_id]
    ]
    states = testing_states((e.person_id for e in entries), now)
    people = Person.objects.in_bulk({e.person_id for e in entries})
    rows = []
    for e in entries:
        still, why, positive = _buffer_state(states[e.person_id], e.at)
        if not still:
            continue
        person = people.get(e.person_id)
        rows.append(
            BufferRow(
                entry=e,
                person_id=e.person_id,
                name=mask_name(person.name) if person else "—",
                id_number=mask(person.id_number) if person else "—",
                entered_at=e.at,
                hours=round((now - e.at).total_seconds() / 3600, 1),
                state=why,
                positive=positive,
            )
        )
    rows.sort(key=lambda r: (not r.positive, r.entered_at))
    return rows


def loop_members(
    enterprise: Enterprise, day: date, now: datetime
) -> tuple[list[rules.LoopMember], dict[int, Employee]]:
    """The plant's closed-loop employees known at `now` and in the loop by the morning of `day`,
    with their antigen tests and PCR samplings of the windows the check reads."""
    start_of_day = rules.local_day_start(day)
    employees = {
        e.person_id: e
        for e in Employee.objects.filter(
            enterprise=enterprise,
            role=EmployeeRole.CLOSED_LOOP,
            recorded_at__lte=now,
            since__lte=start_of_day,
        )
    }
    ids = sorted(employees)
    window = max(enterprise.pcr_every_days, enterprise.antigen_every_days, 1)
    since = start_of_day - timedelta(days=window)
    antigen = defaultdict(list)
    for pid, at in AntigenTest.objects.filter(
        person_id__in=ids, tested_at__gte=since, tested_at__lt=start_of_day, recorded_at__lte=now
    ).values_list("person_id", "tested_at"):
        antigen[pid].append(at)
    corrected = Sampling.objects.filter(supersedes_id=OuterRef("pk"), recorded_at__lte=now)
    pcr = defaultdict(list)
    for pid, at in (
        Sampling.objects.filter(
            person_id__in=ids,
            sampled_at__gte=since,
            sampled_at__lt=start_of_day,
            recorded_at__lte=now,
        )
        .annotate(corrected_by=Subquery(corrected.values("id")[:1]))
        .filter(corrected_by__isnull=True)
        .values_list("person_id", "sampled_at")
    ):
        pcr[pid].append(at)
    members = [
        rules.LoopMember(
            person_id=pid,
            since=employees[pid].since,
            antigen_at=tuple(sorted(antigen[pid])),
            pcr_sampled_at=tuple(sorted(pcr[pid])),
        )
        for pid in ids
    ]
    return members, employees


def loop_compliance(
    enterprise: Enterprise, day: date, now: datetime
) -> tuple[rules.Compliance, LoopRows]:
    """The morning check of `day` for a closed-loop plant: (rules.Compliance, LoopRows) — who
    missed which test (masked), and the exits of the previous day that broke the loop."""
    members, _ = loop_members(enterprise, day, now)
    compliance = rules.closed_loop_compliance(
        members,
        day,
        pcr_every_days=enterprise.pcr_every_days,
        antigen_every_days=enterprise.antigen_every_days,
    )
    start_of_day = rules.local_day_start(day)
    exits = list(
        GateExit.objects.filter(
            enterprise=enterprise,
            breaks_loop=True,
            at__gte=start_of_day - timedelta(days=1),
            at__lt=start_of_day,
            recorded_at__lte=now,
        ).order_by("at", "pk")
    )
    people = Person.objects.in_bulk(
        {m.person_id for m in compliance.missed} | {x.person_id for x in exits}
    )
    by_id = {m.person_id: m for m in members}
    rows = LoopRows()
    for missed in compliance.missed:
        person = people.get(missed.person_id)
        member = by_id[missed.person_id]
        rows.missed.append(
            MissedRow(
                person_id=missed.person_id,
                name=mask_name(person.name) if person else "—",
                id_number=mask(person.id_number) if person else "—",
                antigen=missed.antigen,
                pcr=missed.pcr,
                last_antigen_at=member.antigen_at[-1] if member.antigen_at else None,
                last_pcr_at=member.pcr_sampled_at[-1] if member.pcr_sampled_at else None,
            )
        )
    for x in exits:
        person = people.get(x.person_id)
        rows.breaking_exits.append(
            ExitRow(
                exit=x,
                name=mask_name(person.name) if person else "—",
                id_number=mask(person.id_number) if person else "—",
                at=x.at,
                purpose=x.get_purpose_display(),
            )
        )
    return compliance, rows


def closed_loop_plants(enterprises, day: date, now: datetime) -> list[Enterprise]:
    """Of these enterprises, those working in a closed loop: with closed-loop employees, or
    whose standing report of `day` says so."""
    enterprises = list(enterprises)
    ids = [e.pk for e in enterprises]
    with_members = set(
        Employee.objects.filter(
            enterprise_id__in=ids, role=EmployeeRole.CLOSED_LOOP, recorded_at__lte=now
        ).values_list("enterprise_id", flat=True)
    )
    reported = {pk for pk, report in standing_reports(day, now, ids).items() if report.closed_loop}
    return [e for e in enterprises if e.pk in with_members | reported]
