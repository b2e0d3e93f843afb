"""Policy pages: the published policies and their versions, the editor where the command
centre previews a policy's impact by district before publishing it, withdrawing a policy, and
the help page (docs/policies.md) with examples to start from.

Reading: command centre, admin, district reviewers, auditors. Previewing, publishing and
withdrawing: the roles in `PUBLISHERS` only, through `do_publish` / `do_withdraw` (audited).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from fangkong.accounts.scoping import require_role, role_of, scope_queryset
from fangkong.accounts.views import POLICY_READERS, county_names, render_staff
from fangkong.codes.models import CodeChange
from fangkong.engine.evaluate import KIND_LABELS
from fangkong.engine.policies import (
    COLOUR_LABELS,
    ZONE_LABELS,
    Policy,
    PolicyError,
    Trigger,
    describe_clear,
)
from fangkong.places.models import Division
from fangkong.places.queries import counties
from fangkong.policies.actions import (
    PUBLISHERS,
    Impact,
    do_publish,
    do_withdraw,
    preview,
    preview_withdrawal,
)
from fangkong.policies.examples import example_text, examples
from fangkong.policies.forms import BEIJING, PolicyForm, WithdrawForm
from fangkong.policies.models import PolicyVersion

# The colour changes an impact table shows, in this order.
TRANSITIONS = (
    ("green->yellow", "绿→黄"),
    ("green->red", "绿→红"),
    ("yellow->red", "黄→红"),
    ("red->yellow", "红→黄"),
    ("yellow->green", "黄→绿"),
    ("red->green", "红→绿"),
)


# -- describing a policy in words ------------------------------------------------------------


def local(value) -> str:
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if value else ""


def describe_trigger(trigger: Trigger) -> str:
    if trigger.type == "no_sampling":
        return f"{local(trigger.start)} 至 {local(trigger.end)} 期间没有采样记录(按采样时间)"
    if trigger.type == "positive_result":
        return "单管核酸检测结果为阳性"
    if trigger.type == "pooled_positive":
        return "所在混管检测结果为阳性,本人单管复核尚无阴性结果"
    if trigger.type == "designation":
        return f"被判定为{KIND_LABELS.get(trigger.kind, trigger.kind)},且判定在有效期内"
    if trigger.type == "zone_level":
        levels = "或".join(ZONE_LABELS.get(level, level) for level in trigger.levels)
        return f"居住社区为{levels}"
    return trigger.type


def division_names(codes) -> dict[str, str]:
    return dict(Division.objects.filter(code__in=set(codes)).values_list("code", "name"))


def describe_policy(policy: Policy) -> dict:
    """What a staff page shows of a policy: scope by name, trigger and clears in words."""
    names = division_names(policy.scope.include + policy.scope.exclude)
    return {
        "colour_label": COLOUR_LABELS.get(policy.colour, policy.colour),
        "include": [{"code": c, "name": names.get(c, "")} for c in policy.scope.include],
        "exclude": [{"code": c, "name": names.get(c, "")} for c in policy.scope.exclude],
        "trigger": describe_trigger(policy.trigger),
        "also_present": policy.trigger.type == "no_sampling",
        "clears": [describe_clear(c) for c in policy.clears],
        "effective_from": policy.effective_from,
        "effective_until": policy.effective_until,
    }


def status_of(version: PolicyVersion, now) -> tuple[str, str]:
    """(label, badge class) for a version that is its policy's latest."""
    if version.withdrawn:
        return ("已撤回", "") if version.published_at <= now else ("将撤回", "warn")
    if version.published_at > now or version.effective_from > now:
        return "未生效", "warn"
    if version.effective_until is not None and version.effective_until <= now:
        return "已失效", ""
    return "生效中", "ok"


# -- pages -----------------------------------------------------------------------------------


@login_required
def policy_list(request):
    require_role(request.user, POLICY_READERS)
    now = timezone.now()
    latest: dict[str, PolicyVersion] = {}
    counts: dict[str, int] = {}
    for version in PolicyVersion.objects.select_related("published_by").order_by(
        "policy_id", "version"
    ):
        latest[version.policy_id] = version
        counts[version.policy_id] = counts.get(version.policy_id, 0) + 1
    rows = []
    for policy_id, version in sorted(latest.items()):
        label, badge = status_of(version, now)
        rows.append({"v": version, "versions": counts[policy_id], "status": label, "badge": badge})
    return render_staff(
        request,
        "policies/list.html",
        {"rows": rows, "can_publish": role_of(request.user) in PUBLISHERS},
    )


@login_required
def policy_versions(request, policy_id: str):
    require_role(request.user, POLICY_READERS)
    versions = list(
        PolicyVersion.objects.filter(policy_id=policy_id)
        .select_related("published_by")
        .order_by("-version")
    )
    if not versions:
        raise Http404("没有这个政策")
    return render_staff(
        request,
        "policies/versions.html",
        {"policy_id": policy_id, "versions": versions, "latest": versions[0]},
    )


@login_required
def policy_version(request, policy_id: str, version: int):
    require_role(request.user, POLICY_READERS)
    row = (
        PolicyVersion.objects.filter(policy_id=policy_id, version=version)
        .select_related("published_by")
        .first()
    )
    if row is None:
        raise Http404("没有这个政策版本")
    others = list(
        PolicyVersion.objects.filter(policy_id=policy_id)
        .exclude(pk=row.pk)
        .order_by("-version")
        .values("version", "title", "published_at")
    )
    successor = next((o for o in reversed(others) if o["version"] > version), None)
    # The code changes its publication caused (in the reader's districts).
    changes = scope_queryset(
        CodeChange.objects.filter(
            at=row.published_at,
            cause=CodeChange.Cause.WITHDRAW if row.withdrawn else CodeChange.Cause.PUBLISH,
            cause_detail=f"{row.policy_id} v{row.version}",
        ),
        request.user,
    ).count()
    latest = not any(o["version"] > version for o in others)
    can_withdraw = latest and not row.withdrawn and role_of(request.user) in PUBLISHERS
    return render_staff(
        request,
        "policies/version.html",
        {
            "v": row,
            "policy": describe_policy(row.as_engine()),
            "others": others,
            "successor": successor,
            "publish_changes": changes,
            "withdraw_form": WithdrawForm() if can_withdraw else None,
        },
    )


def impact_table(impact: Impact) -> dict:
    """Rows by county (every current county, then any other county with changes), the
    transition columns, and a totals row."""
    names = {c.code: c.name for c in counties()}
    extra = sorted(set(impact.by_county) - set(names))
    names.update(county_names(extra))
    rows = []
    for code in [*sorted(n for n in names if n not in extra), *extra]:
        changes = impact.by_county.get(code, {})
        cells = [changes.get(key, 0) for key, _ in TRANSITIONS]
        rows.append({"code": code, "name": names.get(code, code), "cells": cells})
        rows[-1]["total"] = sum(cells)
    totals = [impact.totals.get(key, 0) for key, _ in TRANSITIONS]
    return {
        "columns": [label for _, label in TRANSITIONS],
        "rows": rows,
        "totals": totals,
        "total": sum(totals),
    }


def change_summary(outcome) -> str:
    """Colour changes by transition; codes that kept their colour but now rest on another
    policy version are counted apart (`Outcome.changed` counts both)."""
    moved = sum(outcome.by_transition.values())
    detail = "、".join(
        f"{label} {outcome.by_transition[key]}"
        for key, label in TRANSITIONS
        if outcome.by_transition.get(key)
    )
    text = f"{moved}人的健康码颜色变化" + (f"({detail})" if detail else "")
    if outcome.changed > moved:
        text += f";另有{outcome.changed - moved}人颜色不变、所依据的政策或版本更新"
    return text + "。"


def _editor(request, form, *, status=200, problems=(), impact=None, text="", at=None):
    context = {"form": form, "problems": list(problems), "impact": None, "examples": examples()}
    if impact is not None:
        previous = (
            PolicyVersion.objects.filter(policy_id=impact.policy.id).order_by("-version").first()
        )
        context.update(
            impact=impact,
            table=impact_table(impact),
            policy=describe_policy(impact.policy),
            previous=previous,
            text=text,
            at=at,
        )
    return render_staff(request, "policies/new.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def policy_new(request):
    """Paste or upload a policy; "预览影响" shows its problems or its impact by district."""
    require_role(request.user, PUBLISHERS)
    if request.method == "GET":
        name = request.GET.get("example", "")
        start = example_text(name) if name else None
        if name and start is None:
            raise Http404("没有这个示例")
        return _editor(request, PolicyForm(initial={"text": start or ""}))
    form = PolicyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _editor(request, form, status=400)
    text = form.cleaned_data["text"]
    now = timezone.now()
    try:
        impact = preview(text, now)
    except PolicyError as exc:
        return _editor(request, form, status=400, problems=exc.problems)
    # The editor shows what was previewed, even when it came from an uploaded file.
    form = PolicyForm(initial={"text": text})
    return _editor(request, form, impact=impact, text=text, at=now)


@login_required
@require_POST
def policy_publish(request):
    """Publish exactly the text that was previewed, then recompute every code."""
    require_role(request.user, PUBLISHERS)
    text = request.POST.get("text", "")
    form = PolicyForm({"text": text})
    if not form.is_valid():
        return _editor(request, form, status=400)
    try:
        version, outcome = do_publish(
            form.cleaned_data["text"], user=request.user, now=timezone.now()
        )
    except PolicyError as exc:
        return _editor(request, form, status=400, problems=exc.problems)
    except IntegrityError:
        messages.error(request, "该政策刚刚有新版本发布,请重新预览后再发布。")
        return _editor(request, form, status=409)
    messages.success(
        request,
        f"已发布 {version.policy_id} 第{version.version}版。重新计算{outcome.evaluated}人,"
        + change_summary(outcome),
    )
    return redirect(
        reverse("policies:version", args=[version.policy_id, version.version]),
    )


def _withdrawal(request, policy_id: str, form, *, status=200, impact=None, at=None):
    latest = PolicyVersion.objects.filter(policy_id=policy_id).order_by("-version").first()
    if latest is None:
        raise Http404("没有这个政策")
    context = {"latest": latest, "form": form, "impact": impact, "at": at}
    if impact is not None:
        context["table"] = impact_table(impact)
    return render_staff(request, "policies/withdraw.html", context, status=status)


@login_required
@require_POST
def policy_withdraw_preview(request, policy_id: str):
    """The impact of withdrawing a policy now, with the reason typed, before confirming."""
    require_role(request.user, PUBLISHERS)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _withdrawal(request, policy_id, form, status=400)
    now = timezone.now()
    try:
        impact = preview_withdrawal(policy_id, now)
    except PolicyError as exc:
        form.add_error(None, exc.problems)
        return _withdrawal(request, policy_id, form, status=400)
    return _withdrawal(request, policy_id, form, impact=impact, at=now)


@login_required
@require_POST
def policy_withdraw(request, policy_id: str):
    """Withdraw the policy from now on, with the reason, then recompute every code."""
    require_role(request.user, PUBLISHERS)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _withdrawal(request, policy_id, form, status=400)
    try:
        version, outcome = do_withdraw(
            policy_id, user=request.user, now=timezone.now(), reason=form.cleaned_data["reason"]
        )
    except PolicyError as exc:
        form.add_error(None, exc.problems)
        return _withdrawal(request, policy_id, form, status=400)
    except IntegrityError:
        messages.error(request, "该政策刚刚有新版本发布,请刷新后再撤回。")
        return _withdrawal(request, policy_id, form, status=409)
    messages.success(
        request,
        f"已撤回 {policy_id}(记为第{version.version}版)。重新计算{outcome.evaluated}人,"
        + change_summary(outcome),
    )
    return redirect(reverse("policies:version", args=[policy_id, version.version]))
