"""Employer batch applications (单位集中申请解码).

In April 2022 many employees were swabbed at their workplace without their health code being
scanned: no sampling row exists, and a rule such as "not sampled 20–22 April" turned them
yellow. Their employer may send a list of them with a stamped statement. Every row is checked
against what the city knows; the rows that pass become clearances for the district reviewers,
the others are kept with the reasons they failed, and the reviewers decide the batch in bulk.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, QuerySet
from django.db.models.functions import TruncHour

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import districts_of, role_of
from fangkong.audit.actions import record
from fangkong.clearances.actions import (
    DECIDERS,
    MAX_REASON,
    ClearanceError,
    do_review,
    do_submit,
    may_decide,
)
from fangkong.clearances.evidence import check as check_document
from fangkong.clearances.evidence import store
from fangkong.clearances.models import (
    OPEN_STATUSES,
    Channel,
    Clearance,
    EmployerBatch,
    EmployerBatchRow,
)
from fangkong.codes.actions import do_reevaluate
from fangkong.codes.models import CodeChange
from fangkong.codes.queries import explain
from fangkong.engine import clearances as machine
from fangkong.engine.id_numbers import check_id_number, normalise_id_number
from fangkong.engine.policies import Policy
from fangkong.ingest.reading import CONTROL, RESTART, UnreadableFile, open_file
from fangkong.people.models import Person
from fangkong.policies.queries import published_policies
from fangkong.testing.models import LabResult, Outcome, Sampling, TestingSite, Tube

LOCAL = ZoneInfo("Asia/Shanghai")
_CONTROL = re.compile(CONTROL)
# Each row is evaluated (explain(), about 20 ms on PostgreSQL) before the transaction that opens
# the requests, so 1000 rows is about 20 s of checking: the worker does it, not the request
# (clearances.batch_tasks). Bigger employers split their list.
MAX_ROWS = 1000
MAX_BYTES = 5 * 1024 * 1024
# A site "operated" at the claimed time if it scanned anybody this close to it.
SITE_WINDOW = timedelta(hours=3)
TIME_EXAMPLE = "2022-04-21 09:30"

# field: (label, headers accepted for it, required). Headers compare without blanks or "*".
COLUMNS = {
    "id_number": (
        "身份证号",
        ("身份证号", "身份证号码", "公民身份号码", "证件号码", "身份证"),
        True,
    ),
    "name": ("姓名", ("姓名", "名字"), True),
    "site": ("采样点", ("采样点", "采样点编码", "采样点名称", "采样地点"), True),
    "sampled_at": ("采样时间", ("采样时间", "采样日期时间", "采样日期"), True),
    "tube": ("试管条码", ("试管条码", "试管编码", "试管号", "条码"), False),
}
# No "more evidence" for a list: the employer answers a rejection with a corrected list.
DECISIONS = (machine.APPROVE, machine.REJECT)


class BatchError(ValueError):
    """A list refused as a whole (unreadable, a column missing, too long), said in Chinese."""


# -- reading the list --------------------------------------------------------------------------


@dataclass
class Listed:
    """One row as the employer typed it (values stripped)."""

    row_number: int
    id_number: str = ""
    name: str = ""
    site: str = ""
    sampled_at: str = ""
    tube: str = ""
    problem: str = ""  # the row could not be read at all (wrong number of columns)


def _header_key(title: str) -> str:
    return "".join(title.split()).strip("*").lower()


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        key = _header_key(title)
        for name, (_, accepted, _) in COLUMNS.items():
            if name not in found and (key in accepted or key == name):
                found[name] = index
    missing = [
        label for name, (label, _, required) in COLUMNS.items() if required and name not in found
    ]
    if missing:
        raise BatchError(f"名单缺少“{'”、“'.join(missing)}”列(第1行应为列名,见模板)")
    return found


def read_list(data: bytes, filename: str) -> list[Listed]:
    """The rows of a CSV (UTF-8 or GBK) or .xlsx list, numbered as a spreadsheet shows them."""
    if len(data) > MAX_BYTES:
        raise BatchError(f"名单文件超过 {MAX_BYTES // (1024 * 1024)} MB,请分批上传")
    if not data.strip():
        raise BatchError("名单文件是空的")
    suffix = Path(filename).suffix.lower()
    if suffix == ".xls":
        raise BatchError("不支持旧版 Excel(.xls),请另存为 .xlsx 或 CSV 后上传")
    # Our own temporary file rather than reading.open_bytes: that one leaves its file behind
    # when the reader refuses it, and these lists hold ID numbers.
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, removed in finally
        prefix="fangkong-batch-", suffix=suffix or ".csv", delete=False
    )
    try:
        with handle:
            handle.write(data)
        opened = open_file(Path(handle.name))
        columns = _columns(opened.header)
        rows: list[Listed] = []
        for chunk in opened.chunks:
            if chunk is RESTART:  # the fast reader gave up: the line reader starts over
                rows = []
                continue
            rows.extend(_listed(chunk, columns))
            if len(rows) > MAX_ROWS:
                raise BatchError(f"名单最多 {MAX_ROWS} 行,请分批上传")
    except UnreadableFile as error:
        raise BatchError(f"名单文件无法读取:{error}") from None
    finally:
        os.unlink(handle.name)
    if not rows:
        raise BatchError("名单中没有数据行")
    return rows


def _listed(chunk, columns: dict[str, int]) -> list[Listed]:
    values = {name: chunk.column(index).to_pylist() for name, index in columns.items()}
    rows = []
    for i, number in enumerate(chunk.column(chunk.num_columns - 1).to_pylist()):
        if number < 0:  # the reader could not take this row apart (reason in the first column)
            rows.append(Listed(-number, problem=chunk.column(0)[i].as_py()))
            continue
        typed = {name: (v[i] or "").strip() for name, v in values.items()}
        garbled = [COLUMNS[name][0] for name, v in typed.items() if _CONTROL.search(v)]
        if garbled:  # a NUL cannot even be stored; none of these is a real name or number
            rows.append(Listed(number, problem=f"“{garbled[0]}”含有控制字符(如NUL、换行)或乱码"))
        # A blank line, or a row of empty cells as spreadsheets save them, is nobody: not a row.
        elif any(typed.values()):
            rows.append(Listed(number, **typed))
    return rows


def parse_local_time(text: str) -> datetime | None:
    """A claimed time such as 2022-04-21 09:30, 2022/4/21 9:30 or Excel's 2022-04-21T09:30:00,
    in Beijing time unless an offset is written. A date alone is refused: midnight would be a
    guess."""
    value = text.strip().replace("/", "-")
    if ":" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
            try:
                moment = datetime.strptime(value, pattern)
                break
            except ValueError:
                continue
        else:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=LOCAL)


def _local(moment: datetime) -> str:
    return moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")


# -- checking the rows -------------------------------------------------------------------------


@dataclass
class Checked:
    listed: Listed
    person: Person | None = None
    site: TestingSite | None = None
    sampled_at: datetime | None = None  # the claimed time, if it passed its checks
    claimed_at: datetime | None = None  # the time as written, if it could be read
    errors: list[str] = field(default_factory=list)
    held: object = None  # the contested reason as the person holds it now (explain())


class _Checker:
    """Looks everything up once for the whole list, then checks row by row."""

    def __init__(self, rows: list[Listed], policy: Policy, employer: str, now: datetime):
        self.policy, self.employer, self.now = policy, employer, now
        numbers = {normalise_id_number(r.id_number) for r in rows}
        self.people = {p.id_number: p for p in Person.objects.filter(id_number__in=sorted(numbers))}
        self.sites = self._sites({r.site for r in rows if r.site})
        self.tubes = self._tubes({r.tube for r in rows if r.tube})
        self.pending = set(
            Clearance.objects.filter(
                person__in=list(self.people.values()),
                policy_id=policy.id,
                status__in=OPEN_STATUSES,
            ).values_list("person_id", flat=True)
        )
        self.spans: dict[int, list[tuple[datetime, datetime]]] = {}
        self.first_row: dict[str, int] = {}

    @staticmethod
    def _sites(values: set[str]) -> dict[str, TestingSite | None]:
        """By code, else by exact name; None for a name shared by several sites."""
        found: dict[str, TestingSite | None] = {}
        by_name = TestingSite.objects.filter(name__in=sorted(values)).order_by("pk")
        for site in by_name:
            found[site.name] = None if site.name in found else site
        for site in TestingSite.objects.filter(code__in=sorted(values)):
            found[site.code] = site
        return found

    @staticmethod
    def _tubes(barcodes: set[str]) -> dict[str, list[str]]:
        """Each known tube's current results (corrected ones left out)."""
        tubes = dict(Tube.objects.filter(barcode__in=sorted(barcodes)).values_list("pk", "barcode"))
        results = list(
            LabResult.objects.filter(tube_id__in=list(tubes)).values_list(
                "pk", "tube_id", "result", "supersedes_id"
            )
        )
        replaced = {r[3] for r in results if r[3]}
        current: dict[str, list[str]] = {barcode: [] for barcode in tubes.values()}
        for pk, tube_id, result, _ in results:
            if pk not in replaced:
                current[tubes[tube_id]].append(result)
        return current

    def load_spans(self, claims: list[tuple[TestingSite, datetime]]) -> None:
        """When each claimed site scanned anybody, as (first, last) per hour: one grouped query
        for the whole list, because samplings have no index by site and time."""
        if not claims:
            return
        times = [at for _, at in claims]
        rows = (
            Sampling.objects.filter(
                site_id__in=sorted({site.pk for site, _ in claims}),
                sampled_at__gte=min(times) - SITE_WINDOW,
                sampled_at__lte=max(times) + SITE_WINDOW,
            )
            .annotate(hour=TruncHour("sampled_at"))
            .values("site_id", "hour")
            .annotate(first=Min("sampled_at"), last=Max("sampled_at"))
        )
        for row in rows:
            self.spans.setdefault(row["site_id"], []).append((row["first"], row["last"]))

    def operated(self, site: TestingSite, at: datetime) -> bool:
        low, high = at - SITE_WINDOW, at + SITE_WINDOW
        return any(first <= high and last >= low for first, last in self.spans.get(site.pk, ()))

    def sampling(self, item: Checked) -> None:
        """Where and when the employee says they were swabbed, and the tube if given."""
        row = item.listed
        if not row.site:
            item.errors.append("采样点为空")
        elif row.site not in self.sites:
            item.errors.append(f"采样点“{row.site}”不存在(请填采样点编码或完整名称)")
        elif self.sites[row.site] is None:
            item.errors.append(f"采样点名称“{row.site}”对应多个采样点,请改填采样点编码")
        else:
            item.site = self.sites[row.site]
        at = item.claimed_at = parse_local_time(row.sampled_at)
        trigger = self.policy.trigger
        if not row.sampled_at:
            item.errors.append("采样时间为空")
        elif at is None:
            item.errors.append(f"采样时间“{row.sampled_at}”无法识别,应如 {TIME_EXAMPLE}(北京时间)")
        elif at > self.now:
            item.errors.append(f"采样时间 {_local(at)} 晚于当前时间")
        elif trigger.start and trigger.end and not trigger.start <= at < trigger.end:
            # A swab outside the rule's window does not answer "not sampled in the window".
            item.errors.append(
                f"采样时间 {_local(at)} 不在政策要求的采样期间"
                f"({_local(trigger.start)} 至 {_local(trigger.end)})内"
            )
        else:
            item.sampled_at = at
        # Only for the employer's own staff, and one answer for every failure: a list must not
        # tell anyone whether a barcode exists or what it held.
        if row.tube and item.person is not None:
            results = self.tubes.get(row.tube)
            if not results or Outcome.POSITIVE in results:
                item.errors.append(
                    f"试管条码“{row.tube}”无法核实(条码不存在、尚无结果或结果不能作为解码依据)"
                )

    def identity(self, item: Checked) -> None:
        """The ID number and name name one resident who works here. Not found, a wrong name and
        another employer say the same thing, so that a list cannot learn who is registered."""
        row = item.listed
        number = normalise_id_number(row.id_number)
        if not number:
            item.errors.append("身份证号为空")
            return
        if number in self.first_row:
            item.errors.append(f"身份证号与第{self.first_row[number]}行重复,重复的行不予受理")
            return
        self.first_row[number] = row.row_number
        problem = check_id_number(number, self.now.astimezone(LOCAL).date())
        if problem:
            item.errors.append(f"身份证号无效:{problem}")
            return
        person = self.people.get(number)
        if not row.name:
            item.errors.append("姓名为空")
        elif (
            person is None
            or "".join(person.name.split()) != "".join(row.name.split())
            or person.employer.strip() != self.employer
        ):
            item.errors.append(
                f"身份证号、姓名与本单位({self.employer})登记的员工不符:请核对,或请员工本人线上申诉"
            )
        else:
            item.person = person

    def pending_request(self, item: Checked) -> None:
        if item.person.pk in self.pending:
            item.errors.append("此人因该政策已有进行中的申请,请等待审核结果")


def check_rows(rows: list[Listed], policy: Policy, employer: str, now: datetime) -> list[Checked]:
    """Every row with the checks it failed; a row with none goes to do_submit, which refuses
    it if the person does not hold the reason (only the employer's own staff get that far:
    a code is nobody else's business)."""
    checker = _Checker(rows, policy, employer, now)
    items = [Checked(row) for row in rows]
    for item in items:
        if item.listed.problem:
            item.errors.append(item.listed.problem)
            continue
        checker.identity(item)
        checker.sampling(item)
    checker.load_spans([(i.site, i.sampled_at) for i in items if i.site and i.sampled_at])
    for item in items:
        if item.site and item.sampled_at and not checker.operated(item.site, item.sampled_at):
            item.errors.append(
                f"采样点“{item.listed.site}”在 {_local(item.sampled_at)} 前后3小时内"
                "没有任何采样记录,无法核实当时在采样"
            )
        if item.person and not item.errors:
            checker.pending_request(item)
    # Whether the person holds the reason is the last check, made by do_submit itself through
    # explain(): asking here too would double the slowest part of a long list.
    return items


# -- submitting and deciding -------------------------------------------------------------------


def appealable_policies(now: datetime) -> list[Policy]:
    """The rules an employer may contest: in force and of the "not sampled" kind, the only
    kind a claim of having been swabbed answers."""
    return [
        p for p in published_policies(now) if p.in_force(now) and p.trigger.type == "no_sampling"
    ]


def organisation_of(user) -> str:
    """The liaison's employer; PermissionDenied for anyone else."""
    if role_of(user) != Role.EMPLOYER:
        raise PermissionDenied("只有企业联络员可以提交单位集中申请")
    organisation = (user.staff.organisation or "").strip()
    if not organisation:
        raise PermissionDenied("您的账号没有登记所属单位,请联系管理员")
    return organisation


def _description(item: Checked, employer: str, note: str) -> str:
    text = f"单位集中申请({employer}):{_local(item.sampled_at)} 在{item.site.name}采样"
    if item.listed.tube:
        text += f",试管 {item.listed.tube}"
    return f"{text}。单位说明:{note}" if note else f"{text}。"


def _existing(employer: str, policy_id: str, digest: str) -> EmployerBatch | None:
    batch = EmployerBatch.objects.filter(
        employer=employer, policy_id=policy_id, sha256=digest
    ).first()
    if batch is not None:
        batch.repeated = True
    return batch


@dataclass
class Upload:
    """A list and its document as received, before any row is checked."""

    employer: str
    policy: Policy
    data: bytes  # the list
    digest: str
    document: bytes = b""
    existing: EmployerBatch | None = None  # the same list was sent before: its batch


def check_upload(upload_file, document_file, policy_id: str, user, now: datetime) -> Upload:
    """What can be refused at once, before the rows are checked: who sends it, the policy, the
    files' presence and size, a list sent before, the document's content. Raises
    PermissionDenied, BatchError or EvidenceError; reads both files."""
    employer = organisation_of(user)
    policy = next((p for p in appealable_policies(now) if p.id == policy_id), None)
    if policy is None:
        raise BatchError("请选择一项正在执行的“未按要求采样”类赋码政策")
    if upload_file is None:
        raise BatchError("请上传名单文件")
    if document_file is None:
        raise BatchError("请上传单位证明材料(加盖公章的情况说明等)")
    if upload_file.size is not None and upload_file.size > MAX_BYTES:
        raise BatchError(f"名单文件超过 {MAX_BYTES // (1024 * 1024)} MB,请分批上传")
    data = upload_file.read(MAX_BYTES + 1)
    digest = hashlib.sha256(data).hexdigest()
    upload = Upload(employer, policy, data, digest, existing=_existing(employer, policy.id, digest))
    if upload.existing is None:
        upload.document = check_document(document_file)[0]  # EvidenceError before any write
        document_file.seek(0)
    return upload


def do_submit_batch(
    upload_file, document_file, policy_id: str, user, now: datetime, note: str = ""
) -> EmployerBatch:
    """Check an employer's list and open a clearance for each row that passes. The batch, its
    rows, their clearances and the document land together; a refused document saves nothing.
    The same list uploaded again returns the first batch untouched, with `repeated` set."""
    upload = check_upload(upload_file, document_file, policy_id, user, now)
    if upload.existing is not None:
        return upload.existing
    employer, policy, data = upload.employer, upload.policy, upload.data
    digest = upload.digest
    items = check_rows(read_list(data, upload_file.name or ""), policy, employer, now)
    # Whether each person holds the reason is asked before the transaction: its audit entries
    # lock the chain until commit, and nothing slow should run while they do.
    for item in items:
        if not item.errors:
            item.held = next(
                (r for r in explain(item.person, now).reasons if r.policy == policy.id), None
            )
    note = note.strip()
    try:
        with transaction.atomic():
            batch = EmployerBatch.objects.create(
                employer=employer,
                # The uploader's registered enterprise (StaffProfile.enterprise), if linked.
                enterprise_id=getattr(getattr(user, "staff", None), "enterprise_id", None),
                policy_id=policy.id,
                uploaded_by=user,
                uploaded_at=now,
                file_name=(upload_file.name or "名单")[-255:],
                sha256=digest,
                note=note,
            )
            store(document_file, now, user=user, batch=batch)
            rows = [_submitted_row(batch, item, policy.id, user, now, note) for item in items]
            EmployerBatchRow.objects.bulk_create(rows)
            batch.rows_total = len(rows)
            batch.rows_accepted = sum(1 for r in rows if r.clearance_id)
            batch.rows_rejected = batch.rows_total - batch.rows_accepted
            batch.save(update_fields=["rows_total", "rows_accepted", "rows_rejected"])
            record(
                user,
                "clearance.batch_submit",
                "employer_batch",
                batch.pk,
                {
                    "employer": employer,
                    "policy": policy.id,
                    "rows": batch.rows_total,
                    "accepted": batch.rows_accepted,
                    "rejected": batch.rows_rejected,
                },
                at=now,
            )
    except IntegrityError:
        # The same list sent twice at once: the other upload made the batch.
        if batch := _existing(employer, policy.id, digest):
            return batch
        raise
    batch.repeated = False
    return batch


def _submitted_row(batch, item: Checked, policy_id: str, user, now, note) -> EmployerBatchRow:
    clearance = None
    if not item.errors:
        try:
            clearance = do_submit(
                item.person,
                policy_id,
                Channel.EMPLOYER,
                now,
                user=user,
                description=_description(item, batch.employer, note),
                batch=batch,
                held=item.held,
            )
        except ClearanceError as error:  # e.g. an appeal opened meanwhile
            item.errors.append(str(error))
    row = item.listed
    return EmployerBatchRow(
        batch=batch,
        row_number=row.row_number,
        id_number=normalise_id_number(row.id_number)[:32],
        name=row.name[:64],
        site_code=row.site[:64],
        sampled_at=item.claimed_at,  # shown as uploaded, even when it failed its checks
        tube=row.tube[:32],
        person=item.person,
        errors=item.errors,
        clearance=clearance,
    )


def visible_batches(user) -> QuerySet[EmployerBatch]:
    """The liaison: their organisation's batches. Reviewers: batches with a request from their
    districts (the command centre: all). Nobody else."""
    role = role_of(user)
    if role == Role.EMPLOYER:
        organisation = (user.staff.organisation or "").strip()
        return (
            EmployerBatch.objects.filter(employer=organisation)
            if organisation
            else EmployerBatch.objects.none()
        )
    if role not in DECIDERS:
        return EmployerBatch.objects.none()
    districts = districts_of(user)
    if districts is None:
        return EmployerBatch.objects.all()
    mine = Clearance.objects.filter(batch__isnull=False, county_code__in=sorted(districts))
    return EmployerBatch.objects.filter(pk__in=mine.values("batch_id"))


@dataclass
class BatchDecision:
    decided: int = 0
    out_of_scope: int = 0  # in another district: left for its reviewers
    failed: list[str] = field(default_factory=list)


def do_decide_batch(
    batch_id: int, action: str, user, now: datetime, reason: str, clearance_ids=None
) -> BatchDecision:
    """Approve or reject every open request of the batch, or the chosen ones. Each goes through
    do_review (district check, audit, exemption); the approved are re-evaluated once, at the
    end."""
    if action not in DECISIONS:
        raise ClearanceError("请选择审核操作")
    if role_of(user) not in DECIDERS:
        raise PermissionDenied("您无权审核单位集中申请")
    if not reason.strip():
        raise ClearanceError(f"{machine.ACTION_LABELS[action]}须写明理由(居民可见)")
    if len(reason.strip()) > MAX_REASON:
        raise ClearanceError(f"理由最多 {MAX_REASON} 字")
    batch = visible_batches(user).filter(pk=batch_id).first()
    if batch is None:
        raise PermissionDenied("没有这个批次,或不在您负责的区县")
    clearances = batch.clearances.filter(status__in=OPEN_STATUSES).order_by("pk")
    if clearance_ids is not None:
        clearances = clearances.filter(pk__in=list(clearance_ids))
    outcome = BatchDecision()
    approved: list[int] = []
    for clearance in clearances:
        if not may_decide(user, clearance):
            outcome.out_of_scope += 1
            continue
        try:  # a request still "submitted" is started and decided in one transaction
            do_review(clearance.pk, action, user, now, reason, reevaluate=False)
        except (ClearanceError, PermissionDenied) as error:
            outcome.failed.append(f"申请 #{clearance.pk}:{error}")
        else:
            outcome.decided += 1
            if action == machine.APPROVE:
                approved.append(clearance.person_id)
    if approved:  # one evaluation for the whole list rather than one per row
        do_reevaluate(
            approved, now, cause=CodeChange.Cause.CLEARANCE, detail=f"单位集中申请 #{batch.pk} 通过"
        )
    record(
        user,
        "clearance.batch_decide",
        "employer_batch",
        batch.pk,
        {
            "action": action,
            "whole_batch": clearance_ids is None,
            "decided": outcome.decided,
            "out_of_scope": outcome.out_of_scope,
            "failed": len(outcome.failed),
        },
        at=now,
    )
    return outcome
