"""The resident's exit-pass page (易行码), and the staff page of a community's exit rules.

Resident page (/r/exit/): the community, its zone level, today's rules in plain words, what the
household has used today, and the pass in use as a QR — or a button to ask for one. Asking is a
POST through `do_request_exit_pass`; a denial lists every reason.

Rules page (/zones/<code>/exit-rules/, /zones/exit-rules/ for the city default): readers of
zones see the rules in force and their history; district reviewers of the district and the
city-wide publishers publish new rules through `do_publish_rules`, filling in the common rules
field by field or writing the rule text (TOML or JSON).
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from fangkong.accounts.scoping import require_role
from fangkong.accounts.views import render_staff
from fangkong.base.display import when
from fangkong.engine.gate_rules import ZONE_LABELS
from fangkong.engine.id_numbers import mask_name
from fangkong.exits.actions import (
    Outcome,
    assess,
    can_publish_rules,
    do_publish_rules,
    do_request_exit_pass,
    household_passes_today,
    show_current,
)
from fangkong.exits.forms import BY_FORM, EDITOR_FIELD, FORM_PREFIX, CommonRulesForm, RulesForm
from fangkong.exits.models import ExitRuleSet
from fangkong.exits.rules import as_text, describe, rules_for
from fangkong.places.models import Division
from fangkong.residents.qr import qr_svg
from fangkong.residents.session import resident_required
from fangkong.zones.queries import current_zone
from fangkong.zones.views import ZONE_READERS, scoped_community


def _resident_context(person, now, outcome: Outcome | None, asked: bool) -> dict:
    community = Division.objects.filter(code=person.community_id).select_related("parent").first()
    found = assess(person, now)
    rules = found.in_force.rules
    usage = [
        {
            "name": "本人" if p.person_id == person.pk else mask_name(p.person.name),
            "issued_at": p.issued_at,
            "state": p.state_label(now),
        }
        for p in household_passes_today(found.household, now)
    ]
    shown = outcome if outcome is not None else show_current(person, now)
    return {
        "person": person,
        "masked_name": mask_name(person.name),
        "community": community,
        "zone": current_zone(person.community_id, now),
        "zone_labels": ZONE_LABELS,
        "rules": describe(rules),
        "per_day": rules.per_household_per_day,
        "usage": usage,
        "left_today": max(rules.per_household_per_day - len(usage), 0),
        "outcome": shown,
        "qr": qr_svg(shown.token, title="易行码") if shown and shown.token else None,
        "pass_state": shown.exit_pass.state_label(now) if shown and shown.exit_pass else "",
        "overdue": bool(shown and shown.exit_pass and shown.exit_pass.valid_until <= now),
        "asked": asked,
        # Before asking: whether a request now would be granted, and if not why.
        "preview": found.decision if shown is None else None,
        "now": now,
    }


@resident_required
@require_http_methods(["GET", "POST"])
def resident_exit(request):
    person = request.resident
    now = timezone.now()
    outcome = None
    if request.method == "POST":
        outcome = do_request_exit_pass(person, now)
    context = _resident_context(person, now, outcome, asked=request.method == "POST")
    return render_staff(request, "exits/resident.html", context)


# -- staff: rules ----------------------------------------------------------------------------


def _rules_page(request, community, *, common=None, text=None, status=200):
    now = timezone.now()
    code = community.code if community else None
    in_force = rules_for(code, now)
    rows = ExitRuleSet.objects.select_related("recorded_by").order_by("-effective_from", "-id")
    rows = rows.filter(community_id=code) if code else rows.filter(community__isnull=True)
    rows = list(rows[:50])
    for row in rows:
        row.rules_text = json.dumps(row.rules, ensure_ascii=False)
    can_publish = can_publish_rules(request.user, community)
    if can_publish:
        common = common or CommonRulesForm(
            prefix=FORM_PREFIX, initial=CommonRulesForm.initial_from(in_force.rules)
        )
        text = text or RulesForm(initial={"text": as_text(in_force.rules)})
    return render_staff(
        request,
        "exits/rules.html",
        {
            "community": community,
            "zone": current_zone(code, now) if code else None,
            "in_force": in_force,
            "described": describe(in_force.rules),
            "source": as_text(in_force.rules),
            "rows": rows,
            "can_publish": can_publish,
            "common": common,
            "text_form": text,
            "editor": (EDITOR_FIELD, BY_FORM),
            "now": now,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def rules(request, code: str | None = None):
    """Publish from the rules form or from the rule text: the same action, the same data."""
    require_role(request.user, ZONE_READERS)
    community = scoped_community(request.user, code) if code else None
    if request.method == "GET":
        return _rules_page(request, community)
    by_form = request.POST.get(EDITOR_FIELD) == BY_FORM
    form = CommonRulesForm(request.POST, prefix=FORM_PREFIX) if by_form else RulesForm(request.POST)
    shown = {"common" if by_form else "text": form}
    if not form.is_valid():
        return _rules_page(request, community, **shown, status=400)
    now = timezone.now()
    try:
        row = do_publish_rules(
            request.user,
            community.code if community else None,
            form.rules(),
            now,
            effective_from=form.cleaned_data["effective_from"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None if by_form else "text", message)
        return _rules_page(request, community, **shown, status=400)
    where = community.name if community else "全市默认"
    messages.success(request, f"已发布{where}出入规则,{when(row.effective_from)}起生效。")
    target = (
        reverse("zones:exit_rules", args=[community.code])
        if community
        else reverse("zones:default_exit_rules")
    )
    return redirect(target)
