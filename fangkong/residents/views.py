"""The resident's phone pages: sign-in by one-time code, the code page with its QR and the QR's
renewal (code.json) and offline copy (sw.js), the code's history, antigen self-test reports, and
the dev outbox (clearing a reason: residents.appeals)."""

from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from fangkong.accounts.throttle import client_address
from fangkong.base.replica import replica_reads
from fangkong.clearances.models import Clearance
from fangkong.codes.history import described, titles_of
from fangkong.codes.models import CodeChange
from fangkong.residents import otp
from fangkong.residents.actions import AntigenError, do_report_antigen
from fangkong.residents.forms import AntigenForm, CodeForm, IdNumberForm
from fangkong.residents.models import OutboxMessage
from fangkong.residents.page import stored_page
from fangkong.residents.session import SESSION_KEY, resident_required, sign_in, sign_out

# What the service worker keeps so that the page opens with no network (docs/resident-page.md).
SHELL_ASSETS = (
    "fangkong/resident.css",
    "fangkong/favicon.svg",
    "fangkong/vendor/htmx-2.0.11.min.js",
    "fangkong/vendor/qrcode-generator-1.4.4.js",
    "fangkong/resident.js",
)


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/r/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}) or not target.startswith(
        "/r/"
    ):
        return "/r/"
    return target


def _answer_no_sooner(started: float) -> None:
    """Hold an answer that could tell a registered ID number from an unknown one (a code sent
    or not, a code checked or not) until the same time after the request, whichever it is."""
    floor = getattr(settings, "SIGNIN_ANSWER_SECONDS", 0.3)
    time.sleep(max(0.0, started + floor - time.perf_counter()))


@never_cache
def login(request):
    """Step 1: ID number → a code to the registered phone. Step 2: the code → signed in."""
    started, now = time.perf_counter(), timezone.now()
    client = client_address(request)
    step, message, error = "id", "", ""
    id_form, code_form = IdNumberForm(), None
    if request.method == "POST" and "code" in request.POST:
        code_form = CodeForm(request.POST)
        refusal = ""
        if code_form.is_valid():
            data = code_form.cleaned_data
            person, refusal = otp.check_code_from(client, data["id_number"], data["code"], now)
            if person is not None:
                sign_in(request, person)
                return redirect(_next_url(request))
        step, error = "code", refusal or "验证码不正确或已失效,请重新输入或重新获取"
        if not refusal:
            _answer_no_sooner(started)
    elif request.method == "POST":
        id_form = IdNumberForm(request.POST)
        if id_form.is_valid():
            sent = otp.request_code(id_form.cleaned_data["id_number"], client, now)
            if sent.ok:
                step, message = "code", sent.message
                code_form = CodeForm(initial={"id_number": id_form.cleaned_data["id_number"]})
                _answer_no_sooner(started)
            else:
                error = sent.message
    return render(
        request,
        "residents/login.html",
        {
            "step": step,
            "id_form": id_form,
            "code_form": code_form,
            "message": message,
            "error": error,
            "next": _next_url(request),
            "dev_outbox": settings.DEV_OUTBOX,
        },
    )


@require_POST
def logout(request):
    sign_out(request)
    return redirect("residents:login")


def _signed_in_id(request) -> int | None:
    # Read before `replica_reads()`: a session just created may not have reached the replica.
    return request.session.get(SESSION_KEY)


@never_cache
def home(request):
    person_id, now = _signed_in_id(request), timezone.now()
    page = None
    if person_id is not None:
        with replica_reads():
            page = stored_page(person_id, now)
            # Requests made for them (any channel): open ones to follow, decided ones with the
            # reason, an override's reason included.
            clearances = (
                _with_titles(
                    Clearance.objects.filter(person_id=person_id).order_by("-submitted_at")[:5]
                )
                if page is not None and page.has_clearances
                else []
            )
    if page is None:
        return redirect(f"/r/login/?next={request.path}")
    return render(
        request,
        "residents/home.html",
        {
            "page": page,
            "colour_label": page.code.label,
            "latest_antigen": page.latest_antigen,
            "clearances": clearances,
        },
    )


def _with_titles(clearances) -> list[Clearance]:
    clearances = list(clearances)
    titles = titles_of((c.policy_id, c.policy_version) for c in clearances)
    for clearance in clearances:
        clearance.policy_title = titles.get((clearance.policy_id, clearance.policy_version), "")
    return clearances


@never_cache
def code_json(request):
    """The QR's renewal: a new token from the stored code, and what the page shows with it."""
    person_id = _signed_in_id(request)
    page = None
    if person_id is not None:
        with replica_reads():
            page = stored_page(person_id, timezone.now(), with_clears=False)
    if page is None:
        return JsonResponse({"error": "请重新登录", "login": "/r/login/?next=/r/"}, status=401)
    return JsonResponse(page.as_json(), json_dumps_params={"ensure_ascii": False})


@cache
def _worker_source() -> str:
    return Path(finders.find("fangkong/resident-sw.js")).read_text(encoding="utf-8")


def service_worker(request):
    """The code page's worker, served from /r/ so that its scope covers the page. Revalidated
    on every update check (no-cache), so a fixed worker reaches phones at once."""
    prelude = f"const SHELL_ASSETS = {json.dumps([static(a) for a in SHELL_ASSETS])};\n"
    response = HttpResponse(prelude + _worker_source(), content_type="application/javascript")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/r/"
    return response


# How a publication or withdrawal names its policy version in a code change ("cc-… v2").
@never_cache
@resident_required
def history(request):
    changes = described(
        list(CodeChange.objects.filter(person=request.resident).order_by("-at", "-id")[:200])
    )
    for change in changes:
        # A title the reasons below already name is not repeated.
        text = change.detail_title
        change.detail_text = "" if text in {r.get("title") for r in change.reasons} else text
    return render(request, "residents/history.html", {"changes": changes})


@resident_required
@require_POST
def antigen(request):
    form = AntigenForm(request.POST)
    if form.is_valid():
        try:
            do_report_antigen(
                request.resident,
                form.cleaned_data["result"],
                form.cleaned_data["tested_at"],
                timezone.now(),
            )
        except AntigenError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "抗原结果已上报")
            return redirect("residents:home")
    return render(request, "residents/antigen_error.html", {"form": form}, status=400)


def outbox(request):
    """The demo's text messages (development only)."""
    if not settings.DEV_OUTBOX:
        raise Http404
    texts = OutboxMessage.objects.all()[:20]
    return render(request, "residents/outbox.html", {"texts": texts})
