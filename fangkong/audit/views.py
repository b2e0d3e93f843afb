"""The audit log for auditors: entries newest first, a check of the hash chain, and an export of
the log (CSV for a spreadsheet, JSON Lines for re-checking the chain elsewhere).

Each entry's hash is SHA-256 over the UTF-8 JSON array
[prev_hash, at (UTC, ISO 8601 with microseconds), actor_name, action, target_type, target_id,
detail], written with sorted keys, no spaces and non-ASCII characters as they are
(fangkong.audit.actions._digest). The export gives exactly those values, so an auditor can
recompute every hash, and check that each entry's prev_hash is the hash of the one before.
"""

import csv
import json
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import AUDIT_READERS, require_role
from fangkong.accounts.throttle import SCOPE_LABELS
from fangkong.accounts.views import render_staff
from fangkong.audit.actions import record
from fangkong.audit.labels import ACTION_LABELS, TARGET_LABELS, action_label, readable_detail
from fangkong.audit.models import AuditEntry
from fangkong.audit.verify_tasks import KIND, verify_log
from fangkong.base.spreadsheets import spreadsheet_safe
from fangkong.clearances.models import Channel
from fangkong.clock import background
from fangkong.codes.models import CodeChange
from fangkong.engine import clearances as machine
from fangkong.ingest.models import Kind
from fangkong.places.models import ZoneLevel

BEIJING = ZoneInfo("Asia/Shanghai")
ENTRIES_PER_PAGE = 50
TEXT_FILTERS = ("action", "prefix", "actor", "target")
EXPORT_FORMATS = ("csv", "jsonl")
EXPORT_CHUNK = 2000


class LogFilterForm(forms.Form):
    """What the log page and the export narrow the log to: an action (exact) or the start of
    one (`clearance.` for every step of a clearance), an actor, a target (`person:12` or
    `person`), and Beijing days from start to end inclusive."""

    action = forms.CharField(required=False, max_length=48)
    prefix = forms.CharField(required=False, max_length=48)
    actor = forms.CharField(required=False, max_length=150)
    target = forms.CharField(required=False, max_length=100)
    start = forms.DateField(label="起始日期", required=False)
    end = forms.DateField(label="截止日期", required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise forms.ValidationError("起始日期不能晚于截止日期。")
        return data


def _filters(form: LogFilterForm) -> dict:
    """The filters asked for, as text (what the page links and the export record carry). An
    invalid date is left out (the page says so; the export refuses it)."""
    data = form.cleaned_data if form.is_valid() else {}
    values = {name: (form.data.get(name) or "").strip() for name in TEXT_FILTERS}
    if data:
        values |= {name: data[name].isoformat() for name in ("start", "end") if data.get(name)}
    return {name: value for name, value in values.items() if value}


def filter_entries(entries, filters: dict):
    if filters.get("action"):
        entries = entries.filter(action=filters["action"])
    if filters.get("prefix"):
        entries = entries.filter(action__startswith=filters["prefix"])
    if filters.get("actor"):
        entries = entries.filter(actor_name=filters["actor"])
    if filters.get("target"):
        kind, _, ident = filters["target"].partition(":")
        entries = (
            entries.filter(target_type=kind, target_id=ident)
            if ident
            else entries.filter(target_type=kind)
        )
    if filters.get("start"):
        day = datetime.fromisoformat(filters["start"]).date()
        entries = entries.filter(at__gte=datetime.combine(day, time.min, BEIJING))
    if filters.get("end"):
        day = datetime.fromisoformat(filters["end"]).date() + timedelta(days=1)
        entries = entries.filter(at__lt=datetime.combine(day, time.min, BEIJING))
    return entries


@login_required
def log(request):
    require_role(request.user, AUDIT_READERS)
    form = LogFilterForm(request.GET)
    filters = _filters(form)
    entries = filter_entries(AuditEntry.objects.all(), filters)
    page = Paginator(entries.order_by("-id"), ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    words = value_words()
    for entry in page:
        entry.action_label = action_label(entry.action)
        entry.target_label = TARGET_LABELS.get(entry.target_type, "")
        entry.readable = readable_detail(entry.detail, words)
        entry.raw = canonical_json(entry.detail)
    action = filters.get("action", "")
    known = {*ACTION_LABELS, action} - {""}
    query = urlencode(list(filters.items()))
    context = {
        "page": page,
        **{name: filters.get(name, "") for name in (*TEXT_FILTERS, "start", "end")},
        "filter_errors": [e for errors in form.errors.values() for e in errors],
        "extra_query": query,
        "export_filters": list(filters.items()),
        "actions": [(value, action_label(value)) for value in sorted(known)],
        "verification": _check(request, request.GET.get("check", "")),
    }
    return render_staff(request, "audit/log.html", context)


def value_words() -> dict[str, dict[str, str]]:
    """The words for the codes the apps above the audit log write into details."""
    return {
        "channel": dict(Channel.choices),
        "kind": dict(Kind.choices),
        "level": dict(ZoneLevel.choices),
        "zone_levels": dict(ZoneLevel.choices),
        "previous": dict(ZoneLevel.choices),
        "role": dict(Role.choices),
        "cause": dict(CodeChange.Cause.choices),
        "action": dict(machine.ACTION_LABELS),
        "scope": SCOPE_LABELS,
    }


# How often the page asks whether the worker has finished the check.
POLL_SECONDS = 2


def _check(request, pk: str) -> dict | None:
    """The user's check `pk`, as the fragment shows it (None: no such check of theirs)."""
    job = background.requested(KIND, request.user, int(pk)) if pk.isdecimal() else None
    if job is None:
        return None
    state = background.progress(job, timezone.now())
    return {"job": job, "state": state, "poll_seconds": POLL_SECONDS, **(job.result or {})}


@login_required
@require_POST
def verify(request):
    """Start the full check on the worker; htmx gets the fragment that waits for it."""
    require_role(request.user, AUDIT_READERS)
    job = background.start(KIND, verify_log, user=request.user, now=timezone.now())
    if not request.headers.get("HX-Request"):
        return redirect(f"{reverse('audit:log')}?check={job.pk}")
    return render_staff(
        request, "audit/_verification.html", {"verification": _check(request, str(job.pk))}
    )


@login_required
def verify_progress(request, pk: int):
    """The check's fragment: still running (it asks again), or its outcome."""
    require_role(request.user, AUDIT_READERS)
    verification = _check(request, str(pk))
    if verification is None:
        raise Http404("没有这次校验")
    return render_staff(request, "audit/_verification.html", {"verification": verification})


# -- export ---------------------------------------------------------------------------------

CSV_HEADER = [
    "编号",
    "时间(北京时间)",
    "时间(UTC,参与哈希)",
    "操作人",
    "操作",
    "对象类型",
    "对象编号",
    "详情(JSON)",
    "前一条哈希",
    "哈希",
]
EXPORT_FIELDS = (
    "id",
    "at",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "detail",
    "prev_hash",
    "hash",
)


def hashed_time(at: datetime) -> str:
    """The entry's time as it enters the hash."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(detail) -> str:
    """The detail as it enters the hash."""
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class _Echo:
    def write(self, value):
        return value


def _csv_lines(rows):
    writer = csv.writer(_Echo())
    yield "\ufeff"  # UTF-8 byte-order mark: Excel then reads the Chinese as UTF-8
    yield writer.writerow(CSV_HEADER)
    for pk, at, actor_name, action, target_type, target_id, detail, prev_hash, digest in rows:
        yield writer.writerow(
            [
                pk,
                at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
                hashed_time(at),
                # A cell made formula-safe no longer hashes as stored: JSON Lines is exact.
                spreadsheet_safe(actor_name),
                spreadsheet_safe(action),
                spreadsheet_safe(target_type),
                spreadsheet_safe(target_id),
                canonical_json(detail),
                prev_hash,
                digest,
            ]
        )


def _jsonl_lines(rows):
    for pk, at, actor_name, action, target_type, target_id, detail, prev_hash, digest in rows:
        line = {
            "id": pk,
            "at": hashed_time(at),
            "at_local": at.astimezone(BEIJING).isoformat(),
            "actor_name": actor_name,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "detail": detail,
            "prev_hash": prev_hash,
            "hash": digest,
        }
        yield json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n"


@login_required
@require_POST
def export(request):
    """The log, or the part the filters select, oldest first, streamed as CSV or JSON Lines.
    The export is itself audited: who, which filters, and the last entry it could include (so
    the file can be matched to its record; entries written meanwhile are left out). A form
    posted with its CSRF token: a link on another site cannot make an auditor's browser export
    (and have it recorded in their name)."""
    require_role(request.user, AUDIT_READERS)
    form = LogFilterForm(request.POST)
    fmt = request.POST.get("format", "csv")
    if fmt not in EXPORT_FORMATS:
        return HttpResponseBadRequest("format 只能是 csv 或 jsonl".encode())
    if not form.is_valid():
        errors = " ".join(e for errors in form.errors.values() for e in errors)
        return HttpResponseBadRequest(f"筛选条件有误:{errors}".encode())
    filters = _filters(form)
    up_to = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    record(
        request.user,
        "audit.export",
        detail={"format": fmt, "filters": filters, "up_to": up_to},
    )
    rows = (
        filter_entries(AuditEntry.objects.filter(id__lte=up_to), filters)
        .order_by("id")
        .values_list(*EXPORT_FIELDS)
        .iterator(chunk_size=EXPORT_CHUNK)
    )
    if fmt == "csv":
        response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    else:
        response = StreamingHttpResponse(
            _jsonl_lines(rows), content_type="application/x-ndjson; charset=utf-8"
        )
    stamp = timezone.now().astimezone(BEIJING).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.{fmt}"'
    return response
