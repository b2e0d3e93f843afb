"""Zone decisions: proposed → approved → published (or rejected), each step audited.

A decision is a notice (通告) whose entries place communities in levels of one scheme from
`effective_from` (until `effective_until` if given). Publishing writes one `places.CommunityZone`
row per entry, recorded at publication and starting at the effective time — nothing is edited or
deleted, so the history is the table itself. Releasing a community is a decision too (防范区 or
低风险区). If the effective time has come, the residents' codes are re-evaluated at once; if it
lies ahead, the clock (fangkong.clock) applies it when it arrives.

Who: district reviewers propose, approve and publish for the communities of their counties, the
command centre (and admins) for the whole city; nobody approves their own proposal. The system
proposes too (source "auto", with its evidence), through `do_propose` with no user.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import districts_of, role_of
from fangkong.audit.actions import record
from fangkong.clock.actions import wake
from fangkong.codes.actions import Outcome, do_reevaluate
from fangkong.codes.models import CodeChange
from fangkong.engine.policies import ZONE_LABELS, ZONE_SCHEMES
from fangkong.people.models import Person
from fangkong.places.models import CommunityZone, Division, Level
from fangkong.zones.models import (
    CITY_ISSUER,
    DecisionSource,
    DecisionStatus,
    Scheme,
    ZoneDecision,
    ZoneDecisionEntry,
)

DECIDERS = frozenset({Role.DISTRICT_REVIEWER, Role.COMMAND_CENTRE, Role.ADMIN})
# A decision taken at the command centre may be entered up to a week later; not earlier.
MAX_BACKDATE = timedelta(days=7)
MAX_TITLE = 200
MAX_REASON = 200
MAX_ENTRIES = 5000


@dataclass(frozen=True)
class Publication:
    decision: ZoneDecision
    rows: int
    codes: Outcome | None  # None: the effective time lies ahead, the clock applies it


def counties_of(decision: ZoneDecision) -> set[str]:
    return set(decision.entries.values_list("community__county_code", flat=True))


def can_decide(user, counties: Iterable[str]) -> bool:
    """A role that decides zones, with every county of the decision in its districts."""
    if role_of(user) not in DECIDERS:
        return False
    scope = districts_of(user)
    return scope is None or set(counties) <= scope


def can_approve(user, decision: ZoneDecision) -> bool:
    return (
        decision.status == DecisionStatus.PROPOSED
        and decision.proposed_by_id != user.pk
        and can_decide(user, counties_of(decision))
    )


def _require_decider(user, counties: Iterable[str]) -> None:
    if role_of(user) not in DECIDERS:
        raise PermissionDenied("您的角色无权调整风险区划")
    if not can_decide(user, counties):
        raise PermissionDenied("调整涉及的社区不在您负责的区县")


def _clean_entries(scheme: str, entries, problems: list[str]) -> dict[str, tuple[Division, str]]:
    """Entries as {code: (community, level)}; each problem names the row (第N条)."""
    codes = [str(code).strip() for code, _ in entries]
    found = Division.objects.in_bulk(codes)
    cleaned: dict[str, tuple[Division, str]] = {}
    for row, (code, level) in enumerate(zip(codes, (lv for _, lv in entries), strict=True), 1):
        where = f"第{row}条"
        division = found.get(code)
        if division is None or division.level != Level.COMMUNITY:
            problems.append(f"{where}:没有代码为 {code or '(空)'} 的社区/村")
            continue
        if ZONE_SCHEMES.get(level) != scheme:
            allowed = "、".join(ZONE_LABELS[x] for x, s in ZONE_SCHEMES.items() if s == scheme)
            problems.append(f"{where}:{division.name}的级别应为{allowed}之一")
            continue
        if code in cleaned:
            problems.append(f"{where}:{division.name}在本通告中重复出现")
            continue
        cleaned[code] = (division, level)
    return cleaned


def _number_taken(number: int) -> bool:
    return (
        ZoneDecision.objects.filter(number=number).exclude(status=DecisionStatus.REJECTED).exists()
    )


def do_propose(
    user,
    *,
    title: str,
    scheme: str,
    entries: list[tuple[str, str]],
    effective_from: datetime,
    now: datetime,
    effective_until: datetime | None = None,
    number: int | None = None,
    issuer: str = CITY_ISSUER,
    source: str = DecisionSource.MANUAL,
    evidence: dict | None = None,
) -> ZoneDecision:
    """Propose a decision. `user` None is the system (automatic proposals, with `evidence`) or
    the local operator. Raises ValidationError (every problem, in Chinese, naming the field or
    row) and PermissionDenied (role or district)."""
    problems: list[str] = []
    title = (title or "").strip()
    if not title:
        problems.append("标题:请填写通告标题")
    elif len(title) > MAX_TITLE:
        problems.append(f"标题:不超过{MAX_TITLE}字")
    if scheme not in Scheme.values:
        problems.append("划分方式:应为三区划分(three_zones)或风险区(risk_areas)")
    if source not in DecisionSource.values:
        problems.append("来源:应为 manual 或 auto")
    if number is not None and (not isinstance(number, int) or number < 1):
        problems.append("通告编号:应为正整数")
    elif number is not None and _number_taken(number):
        problems.append(f"通告编号:第{number}号已被使用")
    if effective_from < now - MAX_BACKDATE:
        problems.append(f"生效时间:不能早于{MAX_BACKDATE.days}天前")
    if effective_until is not None and effective_until <= effective_from:
        problems.append("截止时间:应晚于生效时间")
    if not entries:
        problems.append("调整条目:至少列出一个社区")
    elif len(entries) > MAX_ENTRIES:
        problems.append(f"调整条目:一个通告不超过{MAX_ENTRIES}条")
    cleaned = _clean_entries(scheme, entries or [], problems) if scheme in Scheme.values else {}
    if problems:
        raise ValidationError(problems)
    if user is not None:
        _require_decider(user, {d.county_code for d, _ in cleaned.values()})
    with transaction.atomic():
        decision = ZoneDecision.objects.create(
            number=number,
            issuer=issuer[:64],
            title=title,
            scheme=scheme,
            effective_from=effective_from,
            effective_until=effective_until,
            source=source,
            evidence=evidence or {},
            proposed_by=user if getattr(user, "pk", None) else None,
            proposed_at=now,
        )
        ZoneDecisionEntry.objects.bulk_create(
            ZoneDecisionEntry(decision=decision, community=division, level=level)
            for division, level in cleaned.values()
        )
        action = "zone.propose.auto" if source == DecisionSource.AUTO else "zone.propose"
        record(user, action, "zone_decision", decision.pk, _summary(decision, cleaned), at=now)
    return decision


def _summary(decision: ZoneDecision, cleaned: dict[str, tuple[Division, str]]) -> dict:
    levels: dict[str, int] = {}
    for _, level in cleaned.values():
        levels[ZONE_LABELS[level]] = levels.get(ZONE_LABELS[level], 0) + 1
    return {
        "notice": decision.notice,
        "title": decision.title,
        "scheme": decision.scheme,
        "effective_from": decision.effective_from,
        "effective_until": decision.effective_until,
        "entries": len(cleaned),
        "levels": levels,
    }


def _locked(decision_id: int) -> ZoneDecision:
    decision = ZoneDecision.objects.select_for_update().filter(pk=decision_id).first()
    if decision is None:
        raise ValidationError("没有这个风险区划调整决定")
    return decision


def _expect(decision: ZoneDecision, *statuses: str) -> None:
    if decision.status not in statuses:
        raise ValidationError(f"该决定当前状态为“{decision.get_status_display()}”,不能执行此操作")


def do_approve(user, decision_id: int, now: datetime) -> ZoneDecision:
    with transaction.atomic():
        decision = _locked(decision_id)
        _expect(decision, DecisionStatus.PROPOSED)
        _require_decider(user, counties_of(decision))
        if decision.proposed_by_id is not None and decision.proposed_by_id == user.pk:
            raise PermissionDenied("不能批准自己提出的调整,请由另一位负责人审核")
        _approve(decision, user, now)
    return decision


def _approve(decision: ZoneDecision, user, now: datetime) -> None:
    decision.status = DecisionStatus.APPROVED
    decision.approved_by = user if getattr(user, "pk", None) else None
    decision.approved_at = now
    decision.save(update_fields=["status", "approved_by", "approved_at"])
    record(user, "zone.approve", "zone_decision", decision.pk, {"notice": decision.notice}, at=now)


def do_reject(user, decision_id: int, reason: str, now: datetime) -> ZoneDecision:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("驳回理由:请填写")
    if len(reason) > MAX_REASON:
        raise ValidationError(f"驳回理由:不超过{MAX_REASON}字")
    with transaction.atomic():
        decision = _locked(decision_id)
        _expect(decision, DecisionStatus.PROPOSED, DecisionStatus.APPROVED)
        _require_decider(user, counties_of(decision))
        decision.status = DecisionStatus.REJECTED
        decision.rejected_by = user
        decision.rejected_at = now
        decision.reject_reason = reason
        decision.save(update_fields=["status", "rejected_by", "rejected_at", "reject_reason"])
        record(
            user,
            "zone.reject",
            "zone_decision",
            decision.pk,
            {"notice": decision.notice, "reason": reason},
            at=now,
        )
    return decision


def do_publish_decision(user, decision_id: int, now: datetime) -> Publication:
    """Publish an approved decision: its levels are recorded now and start at its effective
    time; residents are re-evaluated at once if that time has come."""
    with transaction.atomic():
        decision = _locked(decision_id)
        _expect(decision, DecisionStatus.APPROVED)
        _require_decider(user, counties_of(decision))
        rows = _publish(decision, user, now)
    return _apply(decision, rows, now)


def _publish(decision: ZoneDecision, user, now: datetime) -> int:
    if decision.number is None:
        # Numbered when issued: the next after every notice that kept its number.
        taken = ZoneDecision.objects.exclude(status=DecisionStatus.REJECTED).aggregate(
            Max("number")
        )["number__max"]
        decision.number = (taken or 0) + 1
    decision.status = DecisionStatus.PUBLISHED
    decision.published_by = user if getattr(user, "pk", None) else None
    decision.published_at = now
    decision.save(update_fields=["number", "status", "published_by", "published_at"])
    rows = CommunityZone.objects.bulk_create(
        CommunityZone(
            community_id=entry.community_id,
            level=entry.level,
            start_at=decision.effective_from,
            end_at=decision.effective_until,
            recorded_at=now,
            decided_by=decision.issuer[:64],
            decision=decision,
        )
        for entry in decision.entries.all()
    )
    record(
        user,
        "zone.publish",
        "zone_decision",
        decision.pk,
        {
            "notice": decision.notice,
            "title": decision.title,
            "effective_from": decision.effective_from,
            "effective_until": decision.effective_until,
            "entries": len(rows),
        },
        at=now,
    )
    return len(rows)


def _apply(decision: ZoneDecision, rows: int, now: datetime) -> Publication:
    # The clock applies what starts or ends later, at its instant.
    ahead = [t for t in (decision.effective_from, decision.effective_until) if t and t > now]
    for instant in ahead:
        wake(instant)
    if decision.effective_from > now:
        return Publication(decision, rows, None)
    residents = Person.objects.filter(
        community_id__in=decision.entries.values("community_id")
    ).values_list("pk", flat=True)
    outcome = do_reevaluate(
        list(residents),
        now,
        cause=CodeChange.Cause.FACTS,
        detail=f"风险区划调整:{decision.notice}",
    )
    return Publication(decision, rows, outcome)


def do_issue_notice(
    *,
    title: str,
    scheme: str,
    entries: list[tuple[str, str]],
    effective_from: datetime,
    now: datetime,
    effective_until: datetime | None = None,
    number: int | None = None,
    issuer: str = CITY_ISSUER,
) -> Publication:
    """The local operator issues a notice (`fangkong zones publish FILE`): proposed, approved and
    published in one transaction, each step audited as the system's."""
    with transaction.atomic():
        decision = do_propose(
            None,
            title=title,
            scheme=scheme,
            entries=entries,
            effective_from=effective_from,
            effective_until=effective_until,
            number=number,
            issuer=issuer,
            now=now,
        )
        _approve(decision, None, now)
        rows = _publish(decision, None, now)
    return _apply(decision, rows, now)
