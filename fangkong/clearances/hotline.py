"""The 12345 code desk (赋码工作专席): find the caller by ID number or phone, read why their
code is what it is and how it clears, log the call, and open a clearance on their behalf for a
reason they hold now. Identities stay masked; every search and view is audited."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from fangkong.accounts.scoping import require_role, scope_queryset
from fangkong.accounts.views import render_staff
from fangkong.audit.actions import record
from fangkong.clearances.actions import ClearanceError
from fangkong.clearances.calls import ALREADY_OPEN, HOTLINE_DESK, MAX_NOTES, OPENED, do_log_call
from fangkong.clearances.models import OPEN_STATUSES, Clearance, HotlineCall
from fangkong.codes.queries import explain
from fangkong.engine.id_numbers import mask, mask_name, mask_phone
from fangkong.engine.policies import COLOUR_LABELS
from fangkong.people.models import Person
from fangkong.people.views import (
    code_history,
    find_people,
    places_of,
    reasons_with_requests,
    result_row,
)

MAX_CALLS = 100
MAX_CLEARANCES = 100


class CallForm(forms.Form):
    notes = forms.CharField(
        label="通话记录",
        max_length=MAX_NOTES,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "请填写通话记录",
            "max_length": f"通话记录不能超过{MAX_NOTES}字",
        },
    )
    policy = forms.ChoiceField(
        label="代为申请解码",
        required=False,
        error_messages={"invalid_choice": "只能为来电人当前被赋码的原因申请解码"},
    )

    def __init__(self, *args, reasons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policy"].choices = [("", "不申请,仅记录来电")] + [
            (r.policy, f"{r.title}({r.policy} 第{r.version}版)") for r in reasons
        ]


# POST, so the ID number typed in never lands in a URL, a server log or the browser history.
@login_required
@require_http_methods(["GET", "POST"])
def search(request):
    require_role(request.user, HOTLINE_DESK)
    context: dict = {"results": None, "error": ""}
    if request.method == "POST":
        found = find_people(request.user, request.POST.get("q", ""), desk="hotline")
        context.update(found)
        if "people" in found:
            # The operator reads a caller's name back to them masked, like everything else.
            context["results"] = [
                result_row(p, found["counties"], name=mask_name(p.name)) for p in found["people"]
            ]
    return render_staff(request, "clearances/hotline_search.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def caller(request, person_pk: int):
    require_role(request.user, HOTLINE_DESK)
    subject = get_object_or_404(
        scope_queryset(Person.objects.all(), request.user).select_related(
            "community__parent__parent"
        ),
        pk=person_pk,
    )
    now = timezone.now()
    code = explain(subject, now)
    status = 200
    if request.method == "POST":
        form = CallForm(request.POST, reasons=code.reasons)
        if form.is_valid():
            try:
                call = do_log_call(
                    subject,
                    request.user,
                    form.cleaned_data["notes"],
                    now,
                    policy_id=form.cleaned_data["policy"] or None,
                )
            except ClearanceError as error:
                form.add_error(None, str(error))
            else:
                if call.outcome == OPENED:
                    messages.success(
                        request,
                        f"来电已记录,已代为提交解码申请 #{call.clearance_id},"
                        "由居民所在区县审核;居民可在“吉祥码”页面查看进度。",
                    )
                elif call.outcome == ALREADY_OPEN:
                    messages.warning(
                        request,
                        f"来电已记录。此原因已有进行中的解码申请 #{call.clearance_id}"
                        f"({call.clearance.get_status_display()}),未重复提交,"
                        "本次来电已关联到该申请。",
                    )
                else:
                    messages.success(request, "来电已记录。")
                return redirect("clearances:hotline_caller", person_pk=subject.pk)
        status = 400
    else:
        form = CallForm(reasons=code.reasons)

    clearances = list(
        Clearance.objects.filter(person=subject)
        .with_policy_title()
        .order_by("-submitted_at", "-id")[:MAX_CLEARANCES]
    )
    reasons, _ = reasons_with_requests(subject, code)
    calls = list(
        HotlineCall.objects.filter(person=subject)
        .select_related("operator", "clearance")
        .order_by("-at", "-id")[:MAX_CALLS]
    )
    code_changes, more_changes = code_history(subject)

    # Reading a caller's record is a view of the person, audited like the person page.
    record(request.user, "person.view", "person", subject.pk, {"desk": "hotline"})
    return render_staff(
        request,
        "clearances/hotline_caller.html",
        {
            "person": subject,
            "masked_name": mask_name(subject.name),
            "masked_id": mask(subject.id_number),
            "masked_phone": mask_phone(subject.phone),
            **places_of(subject),
            "code": code,
            "code_label": COLOUR_LABELS[code.colour],
            "reasons": reasons,
            "code_changes": code_changes,
            "more_code_changes": more_changes,
            "calls": calls,
            "clearances": clearances,
            "open_statuses": OPEN_STATUSES,
            "form": form,
        },
        status=status,
    )


urlpatterns = [
    path("hotline/", search, name="hotline"),
    path("hotline/<int:person_pk>/", caller, name="hotline_caller"),
]
