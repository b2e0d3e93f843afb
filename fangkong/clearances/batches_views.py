"""Employer batch applications (单位集中申请): upload, the rows' checks, review.

The liaison uploads and follows their organisation's lists; district reviewers and the command
centre see the lists with requests from their districts and decide them in bulk. Rows are shown
masked, and only a reviewer's own districts' rows."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import districts_of, require_role, role_of
from fangkong.accounts.views import render_staff
from fangkong.audit.actions import record
from fangkong.clearances.actions import DECIDERS, MAX_REASON, MAX_TEXT, ClearanceError
from fangkong.clearances.batch_tasks import KIND, do_queue_batch
from fangkong.clearances.batches import (
    COLUMNS,
    DECISIONS,
    MAX_BYTES,
    MAX_ROWS,
    TIME_EXAMPLE,
    BatchError,
    appealable_policies,
    do_decide_batch,
    visible_batches,
)
from fangkong.clearances.evidence import ACCEPTED_TEXT, EvidenceError, request_bytes
from fangkong.clearances.models import OPEN_STATUSES
from fangkong.clock import background
from fangkong.clock.models import BackgroundTask
from fangkong.engine import clearances as machine
from fangkong.engine.id_numbers import mask, mask_name
from fangkong.ingest.limits import body_limit

BATCH_READERS = DECIDERS | {Role.EMPLOYER}
# Headers only: an example row would be uploaded with the list sooner or later.
TEMPLATE_CSV = ",".join(label for label, _, _ in COLUMNS.values()) + "\n"


class BatchForm(forms.Form):
    policy = forms.ChoiceField(label="申诉的赋码政策")
    rows = forms.FileField(label="名单文件", help_text="CSV(UTF-8 或 GBK)或 Excel .xlsx")
    document = forms.FileField(
        label="单位证明材料", help_text=f"加盖公章的情况说明,{ACCEPTED_TEXT}"
    )
    note = forms.CharField(
        label="单位说明(选填)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, policies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policy"].choices = [(p.id, f"{p.title}({p.id})") for p in policies]


@login_required
def batch_list(request):
    require_role(request.user, BATCH_READERS)
    pending = Q(clearances__status__in=OPEN_STATUSES)
    districts = districts_of(request.user) if role_of(request.user) in DECIDERS else None
    if districts is not None:  # a district reviewer counts their own districts' rows
        pending &= Q(clearances__county_code__in=sorted(districts))
    batches = (
        visible_batches(request.user)
        .with_policy_title()
        .annotate(open=Count("clearances", filter=pending))
        .order_by("-uploaded_at", "-pk")
    )
    page = Paginator(batches, 50).get_page(request.GET.get("page"))
    return render_staff(
        request,
        "clearances/batch_list.html",
        {"page": page, "can_upload": role_of(request.user) == Role.EMPLOYER},
    )


# The list and one supporting document.
@body_limit(lambda: MAX_BYTES + request_bytes(files=1))
@login_required
def batch_new(request):
    require_role(request.user, {Role.EMPLOYER})
    now = timezone.now()
    form = BatchForm(request.POST or None, request.FILES or None, policies=appealable_policies(now))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            queued = do_queue_batch(
                data["rows"], data["document"], data["policy"], request.user, now, data["note"]
            )
        except (BatchError, EvidenceError, ClearanceError, PermissionDenied) as error:
            form.add_error(None, str(error))
        else:
            if isinstance(queued, BackgroundTask):  # the rows are checked by the worker
                return redirect("clearances:batch_task", pk=queued.pk)
            messages.warning(request, f"这份名单已于批次 #{queued.pk} 上传过,未作任何改动。")
            return redirect("clearances:batch", pk=queued.pk)
    return render_staff(
        request,
        "clearances/batch_new.html",
        {
            "form": form,
            "columns": [(label, required) for label, _, required in COLUMNS.values()],
            "max_rows": MAX_ROWS,
            "max_mb": MAX_BYTES // (1024 * 1024),
            "time_example": TIME_EXAMPLE,
        },
    )


# How often the page asks whether the worker has finished checking the list.
POLL_SECONDS = 2


@login_required
def batch_task(request, pk: int):
    """正在处理…: the list being checked by the worker; once it is, the batch's page."""
    require_role(request.user, {Role.EMPLOYER})
    job = background.requested(KIND, request.user, pk)
    if job is None:
        raise Http404("没有这个上传记录")
    state = background.progress(job, timezone.now())
    if state == BackgroundTask.Status.DONE:
        result = job.result
        if result["repeated"]:
            messages.warning(request, f"这份名单已于批次 #{result['batch']} 上传过,未作任何改动。")
        else:
            messages.success(
                request,
                f"名单共 {result['rows']} 行:{result['accepted']} 行已提交审核,"
                f"{result['rejected']} 行未通过核验(原因见下表)。",
            )
        target = reverse("clearances:batch", args=[result["batch"]])
        if request.headers.get("HX-Request"):  # htmx follows this header, not a 302
            return HttpResponse(headers={"HX-Redirect": target})
        return redirect(target)
    context = {"job": job, "state": state, "poll_seconds": POLL_SECONDS}
    if request.headers.get("HX-Request"):
        return render_staff(request, "clearances/_batch_task.html", context)
    return render_staff(request, "clearances/batch_task.html", context)


@login_required
def batch_template(request):
    require_role(request.user, {Role.EMPLOYER})
    # With a BOM so that Excel opens the Chinese headers right.
    reply = HttpResponse("\ufeff" + TEMPLATE_CSV, content_type="text/csv; charset=utf-8")
    reply["Content-Disposition"] = 'attachment; filename="employer-batch-template.csv"'
    return reply


def _decide(request, batch, chosen: list[int]) -> bool:
    """The reviewer's form; True when a decision was made."""
    action = request.POST.get("action", "")
    whole = request.POST.get("scope") == "all"
    if action not in DECISIONS:
        messages.error(request, "请选择审核操作")
        return False
    if not whole and not chosen:
        messages.error(request, "请勾选要处理的行,或选择“整批”")
        return False
    try:
        outcome = do_decide_batch(
            batch.pk,
            action,
            request.user,
            timezone.now(),
            request.POST.get("reason", ""),
            None if whole else chosen,
        )
    except (ClearanceError, PermissionDenied) as error:
        messages.error(request, str(error))
        return False
    summary = f"已{machine.ACTION_LABELS[action]} {outcome.decided} 行"
    if outcome.out_of_scope:
        summary += f";{outcome.out_of_scope} 行不在您负责的区县,未处理"
    messages.success(request, summary + "。")
    for failure in outcome.failed:
        messages.warning(request, failure)
    return True


@login_required
def batch_detail(request, pk: int):
    require_role(request.user, BATCH_READERS)
    batch = visible_batches(request.user).with_policy_title().filter(pk=pk).first()
    if batch is None:
        raise Http404("没有这个批次,或不在您负责的区县")
    deciding = role_of(request.user) in DECIDERS
    # On a refusal the form comes back as the reviewer left it, reason and ticks included.
    typed = {key: request.POST.get(key, "")[:MAX_TEXT] for key in ("action", "reason", "scope")}
    chosen = [int(v) for v in request.POST.getlist("clearance") if v.isascii() and v.isdecimal()]
    if request.method == "POST":
        if not deciding:
            raise PermissionDenied("您无权审核单位集中申请")
        if _decide(request, batch, chosen):
            return redirect("clearances:batch", pk=pk)
    rows = batch.rows.select_related("person", "clearance")
    districts = districts_of(request.user) if deciding else None
    if districts is not None:  # a district reviewer sees their districts' people only
        # A request belongs to the district it was filed in, even if the person moved since.
        mine = sorted(districts)
        rows = rows.filter(
            Q(clearance__county_code__in=mine)
            | Q(clearance__isnull=True, person__county_code__in=mine)
        )
    rows = list(rows)
    for row in rows:
        row.masked_name = mask_name(row.name)
        row.masked_id = mask(row.id_number)
        row.decidable = (
            deciding
            and row.clearance is not None
            and row.clearance.status in (machine.SUBMITTED, machine.UNDER_REVIEW)
        )
    # Opening a list shows residents' records: audited like any other view of them.
    record(
        request.user,
        "employer_batch.view",
        "employer_batch",
        batch.pk,
        {"employer": batch.employer, "rows_shown": len(rows)},
    )
    return render_staff(
        request,
        "clearances/batch_detail.html",
        {
            "batch": batch,
            "rows": rows,
            "hidden": batch.rows_total - len(rows),
            "documents": batch.evidence.order_by("pk"),
            "deciding": deciding,
            "any_decidable": any(r.decidable for r in rows),
            "decisions": [(a, machine.ACTION_LABELS[a]) for a in DECISIONS],
            "typed": typed,
            "chosen": chosen,
            "max_reason": MAX_REASON,
        },
    )


urlpatterns = [
    path("batches/", batch_list, name="batches"),
    path("batches/new/", batch_new, name="batch_new"),
    path("batches/new/<int:pk>/", batch_task, name="batch_task"),
    path("batches/template.csv", batch_template, name="batch_template"),
    path("batches/<int:pk>/", batch_detail, name="batch"),
]
