"""Acting on the eligibility rules: a positive proposes 封控 (or 高风险区) at once, a lapsed
criterion withdraws a 无疫 label (摘牌). Releases and new labels are never automatic: they are
listed with their evidence (`zones eligible`, the eligibility page) for an officer to propose
and a batch to publish.

`do_assess(now)` is meant to run after each load of lab results and from the clock's sweep; it
is idempotent: a positive already answered by an automatic proposal (pending, or made after the
positive became known, even if rejected since) is not proposed again, and a label withdrawn is
no longer standing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Max, Q

from fangkong.engine.zone_rules import ESCALATE, LEVEL_LABELS, WITHDRAW, Assessment, Finding
from fangkong.people.models import Designation, PersonRevision
from fangkong.places.models import CommunityZone
from fangkong.testing.models import LabResult
from fangkong.zones.actions import do_propose
from fangkong.zones.eligibility import assess_areas, load_rule_sets
from fangkong.zones.epidemic_free import MAX_REASON, do_withdraw_epidemic_free
from fangkong.zones.models import (
    AssessmentMark,
    DecisionSource,
    DecisionStatus,
    EpidemicFreeLabel,
    ZoneDecisionEntry,
)

# The tables whose new rows can change a finding: results (a positive, a round), designations
# (contacts), residence corrections, zone rows and labels.
MARKED = (LabResult, Designation, PersonRevision, CommunityZone, EpidemicFreeLabel)


@dataclass
class AssessOutcome:
    assessed: int = 0
    proposed: list[int] = field(default_factory=list)  # automatic decisions (ids)
    withdrawn: list[str] = field(default_factory=list)  # division codes


def _answered(code: str, finding: Finding, now: datetime) -> bool:
    """A proposal to this level already answers the positive: one still pending, one published
    and not yet in effect, or an automatic one made since the positive became known."""
    pending = Q(decision__status__in=[DecisionStatus.PROPOSED, DecisionStatus.APPROVED])
    ahead = Q(decision__status=DecisionStatus.PUBLISHED, decision__effective_from__gt=now)
    since = Q(decision__source=DecisionSource.AUTO, decision__proposed_at__gte=finding.basis)
    return ZoneDecisionEntry.objects.filter(
        Q(community_id=code, level=finding.to) & (pending | ahead | since)
    ).exists()


def _propose(assessment: Assessment, finding: Finding, scheme: str, now: datetime) -> int:
    target = LEVEL_LABELS[finding.to]
    decision = do_propose(
        None,
        title=f"{assessment.name}划为{target}(新增阳性,系统按规则提议)"[:200],
        scheme=scheme,
        entries=[(assessment.code, finding.to)],
        effective_from=now,
        now=now,
        source=DecisionSource.AUTO,
        evidence={
            "rule_set": finding.rule_set,
            "reasons": list(finding.reasons),
            "assessment": assessment.as_dict(),
        },
    )
    return decision.pk


def _reason(finding: Finding) -> str:
    text = "不再符合条件:" + ";".join(finding.reasons)
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def do_assess(now: datetime, counties: Iterable[str] | None = None) -> AssessOutcome:
    """Assess every community and town as of `now` and act on what is due, in one transaction:
    automatic proposals (audited `zone.propose.auto`) and withdrawals (`epidemic_free.withdraw`,
    by the system, with the lapsed criteria as the reason)."""
    rule_sets = load_rule_sets()
    schemes = {r.id: r.scheme for r in rule_sets}
    outcome = AssessOutcome()
    with transaction.atomic():
        assessments = assess_areas(now, counties, rule_sets)
        outcome.assessed = len(assessments)
        for assessment in assessments:
            for finding in assessment.due:
                if finding.action == ESCALATE and not _answered(assessment.code, finding, now):
                    outcome.proposed.append(
                        _propose(assessment, finding, schemes[finding.rule_set], now)
                    )
                elif finding.action == WITHDRAW:
                    do_withdraw_epidemic_free(assessment.code, now, _reason(finding))
                    outcome.withdrawn.append(assessment.code)
    return outcome


def facts_mark() -> str:
    return ":".join(str(m.objects.aggregate(top=Max("pk"))["top"] or 0) for m in MARKED)


def assess_after_sweep(now: datetime) -> dict | None:
    """The clock's follow-up (fangkong.clock.hooks, registered in ZonesConfig.ready): assess
    when facts arrived since the last assessment, so a positive loaded at 10:03 proposes 封控 on
    the next sweep, which the load wakes. None when nothing new was there to assess."""
    mark = facts_mark()
    with transaction.atomic():
        state = AssessmentMark.objects.select_for_update().filter(pk=1).first()
        if state is not None and state.facts == mark:
            return None
        outcome = do_assess(now)
        AssessmentMark.objects.update_or_create(pk=1, defaults={"facts": mark, "assessed_at": now})
    return {
        "assessed": outcome.assessed,
        "proposed": outcome.proposed,
        "withdrawn": outcome.withdrawn,
    }
