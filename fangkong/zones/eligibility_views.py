"""The eligibility page (解除与无疫条件核查): per county, as of a chosen Beijing time, what each
community and town is eligible for under the rule sets, with the evidence an officer checks —
last positive, last contact, screening counts — and, for the rest, why not yet.

Reading: district reviewers (their counties only; another county is never assessed for them)
and the city-wide roles. The page shows counts, never a person.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.utils import timezone

from fangkong.accounts.scoping import districts_of, require_role
from fangkong.accounts.views import render_staff
from fangkong.engine.zone_rules import LEVEL_LABELS, ZoneRuleError
from fangkong.places.queries import counties
from fangkong.policies.forms import local_input_value, parse_local_time
from fangkong.zones.eligibility import assess_areas, load_rule_sets
from fangkong.zones.eligibility_cli import ACTION_HEADINGS
from fangkong.zones.views import ZONE_READERS


def _when(request) -> tuple:
    """The time asked for (`at`, Beijing time without an offset), or now, and any error."""
    raw = request.GET.get("at", "").strip()
    if not raw:
        return timezone.now(), ""
    try:
        return parse_local_time(raw), ""
    except ValueError:
        return timezone.now(), f"时间:“{raw[:40]}”不是有效的时间,应如 2022-04-20T18:00;已按现在判定"


@login_required
def eligibility(request):
    require_role(request.user, ZONE_READERS)
    scope = districts_of(request.user)
    mine = [c for c in counties() if scope is None or c.code in scope]
    county = request.GET.get("county", "").strip()
    if county not in {c.code for c in mine}:
        county = mine[0].code if mine else ""
    now, error = _when(request)
    sections, waiting, problems = [], [], []
    if county:
        try:
            assessments = assess_areas(now, [county], load_rule_sets())
        except ZoneRuleError as exc:
            assessments, problems = [], exc.problems
        for action, heading in ACTION_HEADINGS.items():
            rows = [
                _row(a, f) for a in assessments for f in a.findings if f.due and f.action == action
            ]
            sections.append({"action": action, "heading": heading, "rows": rows})
        waiting = [
            _row(a, f)
            for a in assessments
            for f in a.findings
            if not f.due and f.action in ("release", "award")
        ]
    return render_staff(
        request,
        "zones/eligibility.html",
        {
            "counties": mine,
            "county": county,
            "at": local_input_value(now),
            "error": error,
            "problems": problems,
            "sections": sections,
            "waiting": waiting,
        },
        status=400 if error else 200,
    )


def _row(assessment, finding) -> dict:
    screening = assessment.evidence.screenings
    return {
        "code": assessment.code,
        "name": assessment.name,
        "kind": "乡镇(街道)" if assessment.kind == "town" else "社区/村",
        "move": (
            f"{LEVEL_LABELS[finding.level]} → {LEVEL_LABELS[finding.to]}"
            if finding.action in ("release", "escalate")
            else finding.to
        ),
        "checks": finding.checks,
        "last_positive": assessment.evidence.last_positive,
        "days_without_case": assessment.evidence.days_without_case,
        "contacts": assessment.evidence.contacts,
        "screening": screening[-1] if screening else None,
    }
