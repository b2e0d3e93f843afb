"""Upload pages, the batches they produce (counts, row errors, flags) and the resolution of
flags by a person."""

from __future__ import annotations

import csv
import os
import tempfile
from datetime import datetime
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from fangkong.accounts.scoping import (
    CITY_WIDE,
    FLAG_RESOLVERS,
    PERSON_READERS,
    has_role,
    in_scope,
    require_role,
    role_of,
    scope_queryset,
)
from fangkong.accounts.views import county_names, render_staff
from fangkong.audit.actions import record
from fangkong.engine.id_numbers import mask
from fangkong.enterprises.models import EmployeeRole, Industry
from fangkong.ingest.actions import UPLOADERS, do_close_abandoned, do_ingest
from fangkong.ingest.flags import do_resolve_flag
from fangkong.ingest.forms import ResolveFlagForm, UploadForm
from fangkong.ingest.limits import FORM_OVERHEAD, body_limit, ingest_file_bytes
from fangkong.ingest.models import Batch, Flag, Kind, RowError
from fangkong.ingest.schemas import SCHEMAS, Column
from fangkong.people.models import DesignationKind, Person
from fangkong.testing.models import Outcome, SiteKind, SiteStatus

ERRORS_PER_PAGE = 50
BATCHES_PER_PAGE = 30
FLAGS_PER_PAGE = 50
FLAGS_ON_BATCH_PAGE = 200
# Kinds whose flags and rows are keyed by a person's ID number.
PERSON_KEYED = frozenset({"residents", "presence", "designations", "cases", "employees"})
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# -- column descriptions --------------------------------------------------------------------


def column_label(column: Column) -> str:
    return column.aliases[0] if column.aliases else column.name


def column_rule(column: Column) -> str:
    if column.check == "id_number":
        return "18位公民身份号码,末位可为X"
    if column.check == "phone":
        return "11位手机号,或固话“区号-号码”"
    if column.check == "code":
        return "、".join(str(n) for n in column.code_lengths) + "位数字的区划代码"
    if column.check == "timestamp":
        return "带时区的时间,如 2022-04-20T08:00:00+08:00"
    if column.check == "pool_size":
        return "1、10或20"
    if column.check == "uscc":
        return "18位统一社会信用代码(GB 32100,末位为校验码)"
    if column.check == "boolean":
        return "是/否(true/false、1/0)"
    if column.check == "count":
        low, high = column.bounds
        rule = f"整数,{low}到{high}"
        return rule + (f";留空即 {column.default}" if column.default else "")
    if column.check == "percent":
        return "百分数0–200,最多一位小数,如 78.5"
    if column.check == "date":
        return "日期,如 2022-04-20,不晚于今天"
    if column.check == "choice":
        rule = "取值:" + "、".join(column.choices)
        return rule + (f";留空即 {column.default}" if column.default else "")
    return f"文本,最多{column.max_length}字"


def describe_columns(kind: str) -> list[dict]:
    return [
        {
            "name": c.name,
            "label": column_label(c),
            "aliases": c.aliases,
            "required": c.required,
            "rule": column_rule(c),
        }
        for c in SCHEMAS[kind]
    ]


def field_labels(kind: str) -> dict[str, str]:
    return {"*": "整行", **{c.name: column_label(c) for c in SCHEMAS.get(kind, ())}}


@login_required
def columns_doc(request):
    kinds = [
        {
            "kind": kind,
            "label": Kind(kind).label,
            "columns": describe_columns(kind),
            "can_upload": has_role(request.user, UPLOADERS[kind]),
        }
        for kind in SCHEMAS
    ]
    return render_staff(request, "ingest/columns.html", {"kinds": kinds})


# -- upload ---------------------------------------------------------------------------------


@body_limit(lambda: ingest_file_bytes() + FORM_OVERHEAD)
@login_required
@require_http_methods(["GET", "POST"])
def upload(request, kind: str):
    if kind not in SCHEMAS:
        raise Http404("unknown kind")
    require_role(request.user, UPLOADERS[kind])
    failed = None
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            report = _ingest_upload(request, kind, form)
            if not report.failure:
                if report.ignored_columns:
                    messages.warning(request, "已忽略的列:" + "、".join(report.ignored_columns))
                messages.success(request, f"已处理{report.rows}行。")
                return redirect("ingest:batch", pk=report.batch_id)
            # Nothing was loaded: the form again, with the reason, to send a corrected file.
            form.add_error(None, f"文件未能导入:{report.failure}")
            failed = report.batch_id
    else:
        form = UploadForm()
    return render_staff(
        request,
        "ingest/upload.html",
        {
            "form": form,
            "kind": kind,
            "kind_label": Kind(kind).label,
            "columns": describe_columns(kind),
            "failed_batch": failed,
            "max_bytes": ingest_file_bytes(),
        },
        status=422 if failed else 200,
    )


def _ingest_upload(request, kind: str, form: UploadForm):
    """Stream the upload to a temporary file, load it, and remove the file whatever happens."""
    upload_file = form.cleaned_data["file"]
    suffix = Path(upload_file.name).suffix.lower()
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, removed in finally
        prefix="fangkong-upload-", suffix=suffix, delete=False
    )
    try:
        with handle:
            for chunk in upload_file.chunks():
                handle.write(chunk)
        return do_ingest(
            kind,
            path=handle.name,
            filename=upload_file.name,
            user=request.user,
            source="web",
            assume_offset=form.assume_offset,
            encoding=form.encoding_name,
        )
    finally:
        os.unlink(handle.name)


# -- batches --------------------------------------------------------------------------------


def visible_batches(user):
    """The uploader sees their batches; city-wide roles see all."""
    if role_of(user) in CITY_WIDE:
        return Batch.objects.all()
    return Batch.objects.filter(uploaded_by=user)


@login_required
def batches(request):
    do_close_abandoned()  # a batch whose process died shows failed at once
    page = Paginator(
        visible_batches(request.user).select_related("uploaded_by").order_by("-started_at", "-id"),
        BATCHES_PER_PAGE,
    ).get_page(request.GET.get("page"))
    return render_staff(
        request,
        "ingest/batches.html",
        {
            "page": page,
            "city_wide": role_of(request.user) in CITY_WIDE,
        },
    )


def shown_value(field: str, value: str) -> str:
    """ID numbers are masked wherever a list shows them (DESIGN §6)."""
    return mask(value) if field == "id_number" and value else value


def flag_key(flag: Flag) -> str:
    return mask(flag.key) if flag.kind in PERSON_KEYED else flag.key


@login_required
def batch(request, pk: int):
    do_close_abandoned()
    item = get_object_or_404(visible_batches(request.user).select_related("uploaded_by"), pk=pk)
    labels = field_labels(item.kind)
    errors = Paginator(
        RowError.objects.filter(batch=item).order_by("row", "id"), ERRORS_PER_PAGE
    ).get_page(request.GET.get("page"))
    for error in errors:
        error.field_label = labels.get(error.field, error.field)
        error.shown_value = shown_value(error.field, error.value)
    flags_qs = Flag.objects.filter(batch=item).order_by("row", "id")
    flags = list(flags_qs[:FLAGS_ON_BATCH_PAGE])
    can_resolve = has_role(request.user, FLAG_RESOLVERS)
    for f in flags:
        f.shown_key = flag_key(f)
        f.can_open = can_resolve and (
            in_scope(request.user, f.county_code)
            if f.county_code
            else role_of(request.user) in CITY_WIDE
        )
    return render_staff(
        request,
        "ingest/batch.html",
        {
            "batch": item,
            "errors": errors,
            "flags": flags,
            "flag_count": flags_qs.count() if len(flags) >= FLAGS_ON_BATCH_PAGE else len(flags),
            "upload_again": has_role(request.user, UPLOADERS.get(item.kind, ())),
        },
    )


class _Echo:
    def write(self, value):
        return value


def _csv_cell(value: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(CSV_FORMULA_START) else value


@login_required
def batch_errors_csv(request, pk: int):
    item = get_object_or_404(visible_batches(request.user), pk=pk)
    labels = field_labels(item.kind)
    writer = csv.writer(_Echo())

    def rows():
        yield "\ufeff"  # UTF-8 byte-order mark: Excel then reads the file as UTF-8
        yield writer.writerow(["行号", "字段", "值", "原因"])
        errors = (
            RowError.objects.filter(batch=item)
            .order_by("row", "id")
            .values_list("row", "field", "value", "reason")
        )
        for row, field, value, reason in errors.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    row,
                    labels.get(field, field),
                    _csv_cell(shown_value(field, value)),
                    _csv_cell(reason),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="batch-{item.pk}-errors.csv"'
    return response


# -- flags ----------------------------------------------------------------------------------

STATUS_FILTERS = {
    "open": [Flag.Status.OPEN],
    "resolved": [Flag.Status.ACCEPTED, Flag.Status.REJECTED],
    "all": [Flag.Status.OPEN, Flag.Status.ACCEPTED, Flag.Status.REJECTED],
}


def visible_flags(user):
    """Flags of the user's districts; flags of no district only for city-wide roles."""
    return scope_queryset(Flag.objects.all(), user)


@login_required
def flags(request):
    require_role(request.user, FLAG_RESOLVERS)
    status = request.GET.get("status", "open")
    if status not in STATUS_FILTERS:
        status = "open"
    kind = request.GET.get("kind", "")
    qs = visible_flags(request.user).filter(status__in=STATUS_FILTERS[status])
    if kind in SCHEMAS:
        qs = qs.filter(kind=kind)
    else:
        kind = ""
    page = Paginator(qs.order_by("-id"), FLAGS_PER_PAGE).get_page(request.GET.get("page"))
    counties = county_names(f.county_code for f in page if f.county_code)
    for f in page:
        f.shown_key = flag_key(f)
        f.county_name = counties.get(f.county_code, f.county_code)
    return render_staff(
        request,
        "ingest/flags.html",
        {
            "page": page,
            "status": status,
            "kind": kind,
            "kinds": [(k, Kind(k).label) for k in SCHEMAS],
            "statuses": [("open", "待处理"), ("resolved", "已处理"), ("all", "全部")],
        },
    )


# incoming column -> (label, key of the same value in `existing`, see current.describe_current)
COMPARED: dict[str, tuple[tuple[str, str, str | None], ...]] = {
    "residents": (
        ("id_number", "身份证号", None),
        ("name", "姓名", "姓名"),
        ("phone", "手机号", "手机号"),
        ("community_code", "社区代码", "社区代码"),
        ("employer", "工作单位", "工作单位"),
    ),
    "designations": (
        ("id_number", "身份证号", None),
        ("kind", "类别", "类别"),
        ("start_at", "起始时间", "起始"),
        ("end_at", "截止时间", "截止"),
        ("designated_by", "判定单位", "判定单位"),
    ),
    "samplings": (
        ("id_number", "身份证号", None),
        ("tube", "试管条码", "试管"),
        ("pool_size", "混采人数", None),
        ("site_code", "采样点编码", "采样点"),
        ("sampled_at", "采样时间", "采样时间"),
    ),
    "results": (
        ("tube", "试管条码", None),
        ("result", "检测结果", "结果"),
        ("lab", "检测机构", "检测机构"),
        ("reported_at", "报告时间", "报告时间"),
    ),
    "cases": (
        ("id_number", "身份证号", None),
        ("event", "病例事件", "病例事件"),
        ("at", "时间", "时间"),
        ("clinical_type", "临床分型", "临床分型"),
    ),
    "sites": (
        ("site_code", "采样点编码", None),
        ("name", "名称", "名称"),
        ("community_code", "社区代码", "社区代码"),
        ("address", "地址", "地址"),
        ("kind", "类型", "类型"),
        ("site_status", "状态", "状态"),
    ),
    "enterprises": (
        ("uscc", "统一社会信用代码", None),
        ("name", "企业名称", "企业名称"),
        ("county_code", "所属区县代码", "所属区县代码"),
        ("community_code", "所在社区代码", "所在社区代码"),
        ("address", "地址", "地址"),
        ("industry", "行业", "行业"),
        ("above_scale", "规上", "规上"),
        ("normal_staff", "正常用工人数", "正常用工人数"),
        ("liaison_name", "包保联络员", "包保联络员"),
        ("liaison_phone", "联络员电话", "联络员电话"),
        ("instructor_name", "疫情防控指导员", "疫情防控指导员"),
        ("instructor_phone", "指导员电话", "指导员电话"),
        ("pcr_every_days", "核酸检测间隔天数", "核酸检测间隔天数"),
        ("antigen_every_days", "抗原检测间隔天数", "抗原检测间隔天数"),
        ("supplies_to", "配套企业统一社会信用代码", None),
    ),
    "employees": (
        ("uscc", "统一社会信用代码", "统一社会信用代码"),
        ("id_number", "身份证号", None),
        ("role", "身份", "身份"),
        ("since", "起始时间", "起始时间"),
    ),
    "daily_reports": (
        ("uscc", "统一社会信用代码", "统一社会信用代码"),
        ("day", "日期", "日期"),
        ("staff_on_duty", "在岗人数", "在岗人数"),
        ("returning_staff", "返岗人数", "返岗人数"),
        ("capacity_percent", "产能恢复(%)", "产能恢复(%)"),
        ("closed_loop", "闭环生产", "闭环生产"),
        ("problems", "存在问题", "存在问题"),
    ),
    "presence": (
        ("id_number", "身份证号", None),
        ("region_code", "区域代码", None),
        ("start_at", "开始时间", None),
        ("end_at", "结束时间", None),
        ("source", "来源", None),
    ),
}
YES_NO_FIELDS = frozenset({"above_scale", "closed_loop"})
_CHOICE_LABELS = {
    **dict(DesignationKind.choices),
    **dict(Outcome.choices),
    **dict(SiteKind.choices),
    **dict(SiteStatus.choices),
    **dict(Industry.choices),
    **dict(EmployeeRole.choices),
}


def _display(name: str, value) -> str:
    if value is None:
        return ""
    text = str(value)
    if name == "id_number" and text:
        return mask(text)
    if name in YES_NO_FIELDS and text:
        return "是" if text.lower() in ("true", "1", "是") else "否"
    if text in _CHOICE_LABELS:
        return _CHOICE_LABELS[text]
    if len(text) >= 16 and text[4:5] == "-" and text[10:11] in ("T", " "):
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return text
        if timezone.is_aware(moment):
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")
    return text


def comparison(flag: Flag) -> list[dict]:
    """Rows of (label, what we hold, what arrived), aligned by meaning."""
    existing = dict(flag.existing or {})
    incoming = dict(flag.incoming or {})
    rows = []
    for name, label, existing_key in COMPARED.get(flag.kind, ()):
        if name not in incoming and (existing_key is None or existing_key not in existing):
            continue
        new = _display(name, incoming.pop(name, ""))
        old = _display(name, existing.pop(existing_key, "")) if existing_key else ""
        rows.append(
            {
                "label": label,
                "existing": old,
                "incoming": new,
                "differs": bool(existing_key) and old != new,
            }
        )
    for name, value in incoming.items():
        rows.append(
            {"label": name, "existing": "", "incoming": _display(name, value), "differs": False}
        )
    for name, value in existing.items():
        rows.append(
            {"label": name, "existing": _display(name, value), "incoming": "", "differs": False}
        )
    return rows


def _person_link(flag: Flag, user) -> int | None:
    id_number = (flag.incoming or {}).get("id_number")
    if not id_number or not has_role(user, PERSON_READERS):
        return None
    return (
        scope_queryset(Person.objects.filter(id_number=str(id_number).upper()), user)
        .values_list("pk", flat=True)
        .first()
    )


@login_required
@require_http_methods(["GET", "POST"])
def flag(request, pk: int):
    require_role(request.user, FLAG_RESOLVERS)
    item = get_object_or_404(
        visible_flags(request.user).select_related("batch", "resolved_by"), pk=pk
    )
    form = ResolveFlagForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            do_resolve_flag(item, request.user, accept=form.accept, note=form.cleaned_data["note"])
        except ValueError as exc:
            form.add_error(None, str(exc))
            item.refresh_from_db()
        else:
            outcome = "已采纳新值" if form.accept else "已维持原值"
            messages.success(request, f"待核记录 #{item.pk}:{outcome}。")
            return redirect("ingest:flag", pk=item.pk)
    if request.method == "GET":
        record(request.user, "flag.view", "flag", item.pk, {})
    same_file_row = (item.existing or {}).get("同一文件第几行")
    return render_staff(
        request,
        "ingest/flag.html",
        {
            "flag": item,
            "shown_key": flag_key(item),
            "rows": comparison(item) if not same_file_row else comparison_same_file(item),
            "same_file_row": same_file_row,
            "county_name": county_names([item.county_code]).get(item.county_code, "")
            if item.county_code
            else "",
            "person_pk": _person_link(item, request.user),
            "form": form,
        },
    )


def comparison_same_file(flag: Flag) -> list[dict]:
    """A row that disagrees with an earlier row of the same file: only the incoming side."""
    return [
        {
            "label": label,
            "existing": "",
            "incoming": _display(name, flag.incoming.get(name, "")),
            "differs": False,
        }
        for name, label, _ in COMPARED.get(flag.kind, ())
        if name in (flag.incoming or {})
    ]
