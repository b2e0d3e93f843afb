"""do_* for the case registry and the daily bulletin: one transaction each, audited."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max

from fangkong.accounts.scoping import BULLETIN_EDITORS, CASE_KEEPERS, in_scope, require_role
from fangkong.audit.actions import record
from fangkong.cases import figures as rules
from fangkong.cases.models import (
    Bulletin,
    BulletinStatus,
    Case,
    CaseContact,
    CaseEvent,
    EventKind,
    FoundBy,
    ResultMark,
)
from fangkong.cases.queries import day_figures, events, published
from fangkong.cases.wording import ZoneFigures, bulletin_text
from fangkong.people.models import Designation, DesignationKind, Person
from fangkong.testing.models import LabResult, Outcome, Sampling


def _may_keep(user, county_code: str) -> None:
    """`user` None is a trusted local caller (the CLI, the demo, the clock)."""
    if user is None:
        return
    require_role(user, CASE_KEEPERS)
    if not in_scope(user, county_code):
        raise PermissionDenied("该病例不在您负责的区县")


def do_open_case(user, person: Person, *, now: datetime, found_by: str = "") -> Case:
    _may_keep(user, person.county_code)
    if found_by and found_by not in FoundBy.values:
        raise ValueError(f"未知发现途径 {found_by}")
    with transaction.atomic():
        if Case.objects.filter(person=person).exists():
            raise ValueError("该人员已有病例")
        case = Case.objects.create(
            person=person,
            community_id=person.community_id,
            county_code=person.county_code,
            found_by=found_by,
            opened_at=now,
            opened_by=user,
        )
        record(user, "case.open", "case", case.pk, {"found_by": found_by}, at=now)
    return case


def course_of(case: Case, as_of: datetime) -> rules.Course:
    return rules.course(rules.standing(events(None, as_of, [case.pk]), as_of))


def do_record_event(
    user,
    case: Case,
    kind: str,
    at: datetime,
    *,
    now: datetime,
    clinical_type: str = "",
    found_by: str = "",
) -> CaseEvent:
    """Classify, convert, discharge, release or record a death. The first classification says
    where the case was found, if its case does not say yet."""
    _may_keep(user, case.county_code)
    if at > now:
        raise ValueError("事件时间晚于当前时间")
    if kind in rules.CONFIRMING and not clinical_type:
        raise ValueError("确诊病例须填写临床分型")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        refused = rules.allowed(course_of(case, now), kind)
        if refused:
            raise ValueError(refused)
        if kind in rules.CLASSIFYING and not case.found_by:
            if found_by not in FoundBy.values:
                raise ValueError("首次分类须填写发现途径")
            case.found_by = found_by
            case.save(update_fields=["found_by"])
        event = CaseEvent.objects.create(
            case=case,
            kind=kind,
            at=at,
            clinical_type=clinical_type if kind in rules.CONFIRMING else "",
            recorded_at=now,
            recorded_by=user,
        )
        detail = {"kind": kind, "at": at, "clinical_type": event.clinical_type}
        record(user, "case.event", "case", case.pk, {**detail, "found_by": case.found_by}, at=now)
    return event


def do_correct_event(
    user,
    event: CaseEvent,
    *,
    now: datetime,
    reason: str,
    at: datetime | None = None,
    clinical_type: str | None = None,
) -> CaseEvent:
    """A corrected time or clinical type: a new event replacing `event`, which stays."""
    _may_keep(user, event.case.county_code)
    if not reason.strip():
        raise ValueError("请填写更正原因")
    with transaction.atomic():
        if CaseEvent.objects.filter(supersedes=event).exists():
            raise ValueError("该事件已被更正,请更正最新的记录")
        correction = CaseEvent.objects.create(
            case_id=event.case_id,
            kind=event.kind,
            at=at or event.at,
            clinical_type=event.clinical_type if clinical_type is None else clinical_type,
            recorded_at=now,
            recorded_by=user,
            supersedes=event,
            correction_reason=reason.strip()[:200],
        )
        detail = {"event": event.pk, "at": correction.at, "reason": correction.correction_reason}
        record(user, "case.correct", "case", event.case_id, detail, at=now)
    return correction


def do_add_contacts(
    user,
    case: Case,
    id_numbers: list[str],
    *,
    kind: str,
    designated_by: str,
    now: datetime,
) -> list[CaseContact]:
    """Designate `id_numbers` contacts of `case` through the one ingestion path, so their codes
    change as soon as this commits."""
    from fangkong.codes.actions import do_evaluate_pending
    from fangkong.ingest.actions import do_ingest

    _may_keep(user, case.county_code)
    if kind not in (DesignationKind.CLOSE_CONTACT, DesignationKind.SECONDARY_CONTACT):
        raise ValueError("只能添加密切接触者或次密切接触者")
    # Whole seconds: the designation is found again by its start.
    start_at = now.replace(microsecond=0)
    start = start_at.astimezone(rules.BEIJING).isoformat()
    rows = [
        {"id_number": n, "kind": kind, "start_at": start, "designated_by": designated_by}
        for n in id_numbers
    ]
    with transaction.atomic():
        report = do_ingest(
            "designations",
            rows=rows,
            user=user,
            source=f"case:{case.pk}",
            now=now,
            enforce_role=False,
            nested=True,  # codes are evaluated after this transaction commits
        )
        if report.rejected or report.failure:
            reasons = report.failure or "; ".join(e["reason"] for e in report.errors)
            raise ValueError(f"无法判定:{reasons}")
        found = Designation.objects.filter(
            person__id_number__in=id_numbers,
            kind=kind,
            start_at=start_at,
            designated_by=designated_by,
            superseded_by__isnull=True,
        )
        contacts = [
            CaseContact.objects.get_or_create(
                designation=d, defaults={"case": case, "added_at": now, "added_by": user}
            )[0]
            for d in found
        ]
        detail = {"kind": kind, "designations": [c.designation_id for c in contacts]}
        record(user, "case.contacts", "case", case.pk, detail, at=now)
    do_evaluate_pending(now, detail=f"病例 #{case.pk} 的密接判定")
    return contacts


def open_pending_cases(now: datetime) -> dict:
    """After each sweep: a positive single tube whose person has no case opens a pending case
    for staff to classify. Reads only results newer than the last sweep's."""
    with transaction.atomic():
        mark, _ = ResultMark.objects.select_for_update().get_or_create(pk=1)
        newer = LabResult.objects.filter(pk__gt=mark.last_result_id)
        top = newer.aggregate(top=Max("pk"))["top"]
        if top is None:
            return {"opened": 0}
        positives = newer.filter(
            result=Outcome.POSITIVE, tube__capacity=1, superseded_by__isnull=True
        ).values_list("pk", "tube_id")
        tubes = dict((tube, result) for result, tube in positives)
        found = (
            Sampling.objects.filter(tube_id__in=tubes, superseded_by__isnull=True)
            .exclude(person__case__isnull=False)
            .select_related("person")
        )
        opened = []
        for sampling in found:
            person = sampling.person
            case, created = Case.objects.get_or_create(
                person=person,
                defaults={
                    "community_id": person.community_id,
                    "county_code": person.county_code,
                    "source_result_id": tubes[sampling.tube_id],
                    "opened_at": now,
                },
            )
            if created:
                opened.append(case.pk)
        mark.last_result_id = top
        mark.save(update_fields=["last_result_id"])
        if opened:
            record(None, "case.pending", "case", "", {"cases": opened}, at=now)
    return {"opened": len(opened)}


def do_draft_bulletin(
    user, day: date, *, now: datetime, zones: ZoneFigures | None = None
) -> Bulletin:
    """The day's bulletin with the figures as of `now`. After a publication it is the next
    version, and lists how its figures differ from the published ones. `zones`: the zones'
    figures as of `now`, read by the caller (this app does not read the zones app), which add
    the zone sentence as a second paragraph; None leaves it out."""
    if user is not None:
        require_role(user, BULLETIN_EDITORS)
    figures = day_figures(day, now)
    with transaction.atomic():
        before = published(day)
        version = (Bulletin.objects.filter(date=day).aggregate(v=Max("version"))["v"] or 0) + 1
        numbers = {**figures.published(), "found_in_community": figures.found_in_community}
        bulletin = Bulletin.objects.create(
            date=day,
            version=version,
            status=BulletinStatus.DRAFT,
            as_of=now,
            text=bulletin_text(day, figures, zones=zones),
            figures=numbers,
            corrections=rules.differences(before.figures, numbers) if before else [],
            drafted_at=now,
            drafted_by=user,
        )
        record(user, "bulletin.draft", "bulletin", bulletin.pk, _detail(bulletin), at=now)
    return bulletin


def _detail(bulletin: Bulletin) -> dict:
    return {"date": bulletin.date, "version": bulletin.version, "figures": bulletin.figures}


def do_approve_bulletin(user, bulletin: Bulletin, *, now: datetime) -> Bulletin:
    return _advance(user, bulletin, BulletinStatus.DRAFT, BulletinStatus.APPROVED, now)


def do_publish_bulletin(user, bulletin: Bulletin, *, now: datetime) -> Bulletin:
    """Publish the approved text exactly as drafted: what was published stays reproducible."""
    return _advance(user, bulletin, BulletinStatus.APPROVED, BulletinStatus.PUBLISHED, now)


def _advance(user, bulletin: Bulletin, was: str, becomes: str, now: datetime) -> Bulletin:
    if user is not None:
        require_role(user, BULLETIN_EDITORS)
    step = {BulletinStatus.APPROVED: "approved", BulletinStatus.PUBLISHED: "published"}[becomes]
    action = "bulletin.publish" if becomes == BulletinStatus.PUBLISHED else "bulletin.approve"
    with transaction.atomic():
        bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        if bulletin.status != was:
            raise ValueError(f"该通报状态为{bulletin.get_status_display()},不能进行此操作")
        if becomes == BulletinStatus.PUBLISHED and _newer_published(bulletin):
            raise ValueError("已有更新版本发布")
        bulletin.status = becomes
        setattr(bulletin, f"{step}_at", now)
        setattr(bulletin, f"{step}_by", user)
        bulletin.save(update_fields=["status", f"{step}_at", f"{step}_by"])
        record(user, action, "bulletin", bulletin.pk, _detail(bulletin), at=now)
    return bulletin


def _newer_published(bulletin: Bulletin) -> bool:
    return Bulletin.objects.filter(
        date=bulletin.date, status=BulletinStatus.PUBLISHED, version__gt=bulletin.version
    ).exists()


__all__ = [
    "EventKind",
    "do_add_contacts",
    "do_approve_bulletin",
    "do_correct_event",
    "do_draft_bulletin",
    "do_open_case",
    "do_publish_bulletin",
    "do_record_event",
    "open_pending_cases",
]
