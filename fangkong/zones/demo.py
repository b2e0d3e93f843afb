"""Demo zone levels: April 2022 in 长春, deterministic, published as numbered notices.

Every community is placed in 封控区 on 4月3日; from 4月14日 most are eased to 管控区, and
from 4月21日 (some 4月25日) released to 防范区. In each district, one community in twenty
stays in 封控区, two stay in 管控区, and one is released only on 4月28日 — so every district
shows all three levels. Each step is one notice of the city (a published zone decision, as
`zones publish` would make it); only steps that have started by `now` are published, each
as published when it started. Codes are not re-evaluated here: the demo recomputes everyone
once at the end.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Max

from fangkong.audit.actions import record
from fangkong.engine.gate_rules import LOCAL
from fangkong.engine.policies import ZONE_SCHEMES
from fangkong.places.models import CommunityZone, Division, Level
from fangkong.zones.models import (
    CITY_ISSUER,
    DecisionStatus,
    Scheme,
    ZoneDecision,
    ZoneDecisionEntry,
)

LOCKDOWN = datetime(2022, 4, 3, 0, 0, tzinfo=LOCAL)
CONTROL = datetime(2022, 4, 14, 0, 0, tzinfo=LOCAL)
RELEASE = datetime(2022, 4, 21, 8, 0, tzinfo=LOCAL)
LATER_RELEASE = datetime(2022, 4, 25, 8, 0, tzinfo=LOCAL)
LAST_RELEASE = datetime(2022, 4, 28, 8, 0, tzinfo=LOCAL)
TITLES = {
    "lockdown": "关于实行全域封控管理的通告",
    "control": "关于将部分区域调整为管控区的通告",
    "prevention": "关于将部分区域调整为防范区的通告",
}


def plan(rank: int) -> list[tuple[str, datetime]]:
    """The level changes of the community ranked `rank` (by code) in its district."""
    steps = [("lockdown", LOCKDOWN)]
    slot = rank % 20
    if slot == 3:
        return steps
    steps.append(("control", CONTROL))
    if slot in (7, 13):
        return steps
    release = RELEASE if rank % 3 != 2 else LATER_RELEASE
    if slot == 17:
        release = LAST_RELEASE
    return [*steps, ("prevention", release)]


def seed_zones(now: datetime) -> int:
    """Publish the plan of every current community that has no zone row yet, one notice per
    step; returns the number of rows written."""
    zoned = set(CommunityZone.objects.values_list("community_id", flat=True).distinct())
    communities = Division.objects.filter(level=Level.COMMUNITY, is_current=True).order_by(
        "county_code", "code"
    )
    steps: dict[tuple[datetime, str], list[str]] = {}
    rank, county = 0, None
    for code, county_code in communities.values_list("code", "county_code"):
        rank = rank + 1 if county_code == county else 0
        county = county_code
        if code in zoned:
            continue
        for level, start in plan(rank):
            if start <= now:
                steps.setdefault((start, level), []).append(code)
    written = 0
    with transaction.atomic():
        number = ZoneDecision.objects.aggregate(Max("number"))["number__max"] or 0
        for (start, level), codes in sorted(steps.items()):
            number += 1
            written += _publish(number, level, start, codes)
    return written


def _publish(number: int, level: str, start: datetime, codes: list[str]) -> int:
    decision = ZoneDecision.objects.create(
        number=number,
        title=TITLES[level],
        scheme=Scheme.THREE_ZONES,
        effective_from=start,
        status=DecisionStatus.PUBLISHED,
        proposed_at=start,
        approved_at=start,
        published_at=start,
    )
    ZoneDecisionEntry.objects.bulk_create(
        (ZoneDecisionEntry(decision=decision, community_id=c, level=level) for c in codes),
        batch_size=2000,
    )
    CommunityZone.objects.bulk_create(
        (
            CommunityZone(
                community_id=c,
                level=level,
                start_at=start,
                recorded_at=start,
                decided_by=CITY_ISSUER[:64],
                decision=decision,
            )
            for c in codes
        ),
        batch_size=2000,
    )
    record(
        None,
        "zone.publish",
        "zone_decision",
        decision.pk,
        {"notice": decision.notice, "title": decision.title, "entries": len(codes)},
        at=start,
    )
    return len(codes)


# -- the April replay's officer (fangkong.demo.april drives the days) ---------------------------
#
# What an officer of the command centre does with what the rules say, through the same actions
# as the pages: approve and publish the system's automatic proposals (a positive → 封控), place
# the positive's community in 高风险区, propose the releases the rules find due (三区 at once,
# 风险区 from 18:00 that day: "自20日18时起"), and publish the 无疫 batches of whatever the rules
# find eligible. `command` proposes, `command2` approves and publishes (never the same person).

RISK_EFFECTIVE_HOUR = 18
RELEASE_TITLES = {
    "prevention": "关于将部分区域调整为防范区的通告",
    "none": "关于解除部分区域防范区管理的通告",
    "medium": "关于将部分高风险区调整为中风险区的通告",
    "low": "关于将部分区域调整为低风险区的通告",
}


def officers():
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    return users.get(username="command"), users.get(username="command2")


def approve_automatic(now: datetime) -> list[str]:
    """Approve and publish the pending automatic proposals (封控 for a positive), and place each
    such community in 高风险区; returns the communities placed in 封控."""
    from fangkong.zones.actions import do_approve, do_propose, do_publish_decision
    from fangkong.zones.models import DecisionSource

    proposer, approver = officers()
    placed = []
    pending = ZoneDecision.objects.filter(
        status=DecisionStatus.PROPOSED, source=DecisionSource.AUTO
    ).order_by("pk")
    for decision in pending:
        do_approve(approver, decision.pk, now)
        do_publish_decision(approver, decision.pk, now)
        placed += list(decision.entries.values_list("community_id", flat=True))
    if placed:
        high = do_propose(
            proposer,
            title="关于将部分区域划为高风险区的通告",
            scheme=Scheme.RISK_AREAS,
            entries=[(code, "high") for code in placed],
            effective_from=now,
            now=now,
        )
        do_approve(approver, high.pk, now)
        do_publish_decision(approver, high.pk, now)
    return placed


def release_due(assessments, now: datetime) -> dict[str, int]:
    """One notice per (scheme, level) of the releases the rules find due: 三区 at once, 风险区
    from 18:00 of the day. Returns {to level: communities}."""
    from fangkong.engine.zone_rules import RELEASE_ACTION
    from fangkong.zones.actions import do_approve, do_propose, do_publish_decision

    groups: dict[tuple[str, str], list[str]] = {}
    schemes = {"plan-2021": Scheme.THREE_ZONES, "edition-9": Scheme.RISK_AREAS}
    for assessment in assessments:
        for finding in assessment.due:
            # Lifting a 防范区 altogether ("none") is not a level a notice can place a community
            # in yet (zones.actions knows the six levels only): the demo leaves those standing.
            if finding.to not in ZONE_SCHEMES:
                continue
            if finding.action == RELEASE_ACTION and finding.rule_set in schemes:
                key = (schemes[finding.rule_set], finding.to)
                groups.setdefault(key, []).append(assessment.code)
    proposer, approver = officers()
    done = {}
    for (scheme, to), codes in sorted(groups.items()):
        effective = now
        if scheme == Scheme.RISK_AREAS:
            effective = now.astimezone(LOCAL).replace(hour=RISK_EFFECTIVE_HOUR, minute=0)
        decision = do_propose(
            proposer,
            title=RELEASE_TITLES[to],
            scheme=scheme,
            entries=[(code, to) for code in codes],
            effective_from=max(effective, now),
            now=now,
        )
        do_approve(approver, decision.pk, now)
        do_publish_decision(approver, decision.pk, now)
        done[to] = len(codes)
    return done


def publish_eligible(assessments, now: datetime) -> dict[str, int]:
    """The next 无疫小区 batch and 无疫乡镇(街道) batch: every community and town the rules find
    eligible (an award due) in `assessments`, made at `now`. Publication checks each again
    against those same findings (`as_assessed`) rather than assessing the city once more."""
    from fangkong.engine.zone_rules import AWARD
    from fangkong.zones.epidemic_free import do_publish_epidemic_free_batch

    proposer, _ = officers()
    check = as_assessed(assessments, now)
    published = {}
    for kind in ("community", "town"):
        codes = [
            a.code for a in assessments if a.kind == kind and any(f.action == AWARD for f in a.due)
        ]
        if codes:
            batch = do_publish_epidemic_free_batch(proposer, kind, codes, now, check=check)
            published[kind] = batch.number
        published[f"{kind}_count"] = len(codes)
    return published


def as_assessed(assessments, assessed_at: datetime):
    """The publication check of fangkong.zones.eligibility.check_batch, answered from an
    assessment of the whole city made at `assessed_at`, for a batch published at that instant
    with nothing recorded in between (the city's other labels do not change a town's findings,
    nor a town's a community's). {code: why it does not qualify}, as check_batch."""
    from fangkong.engine.zone_rules import AWARD

    found = {a.code: a for a in assessments}

    def check(kind: str, divisions, at: datetime) -> dict[str, str]:
        if at != assessed_at:
            raise ValueError("as_assessed: the batch must be published when the city was assessed")
        refused = {}
        for division in divisions:
            assessment = found.get(division.code)
            award = assessment.finding(AWARD) if assessment else None
            if award is None or not award.due:
                refused[division.code] = ";".join(award.reasons) if award else "规则未规定条件"
        return refused

    return check
