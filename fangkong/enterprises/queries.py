"""Reading resumption state as it stood at a time: an enterprise's filing status and the
standing daily reports of a day. Both are "as known then": a step or a report recorded later
does not change what a past moment showed, and a correction recorded by then replaces the
report it corrects."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.db.models import Exists, OuterRef

from fangkong.enterprises.models import DailyReport, ResumptionStatus, ResumptionStep


def status_at(enterprise_ids: Iterable[int] | None, at: datetime) -> dict[int, str]:
    """Per enterprise with a step effective and recorded by `at`, its status then (enterprises
    with none are 未复工, `ResumptionStatus.NOT_STARTED`)."""
    steps = ResumptionStep.objects.filter(at__lte=at, recorded_at__lte=at)
    if enterprise_ids is not None:
        steps = steps.filter(enterprise_id__in=sorted(set(enterprise_ids)))
    latest: dict[int, tuple] = {}
    for enterprise_id, status, step_at, recorded_at, pk in steps.values_list(
        "enterprise_id", "status", "at", "recorded_at", "pk"
    ).iterator(chunk_size=5000):
        key = (step_at, recorded_at, pk)
        if enterprise_id not in latest or key > latest[enterprise_id][0]:
            latest[enterprise_id] = (key, status)
    return {e: status for e, (_, status) in latest.items()}


def history(enterprise_id: int) -> list[ResumptionStep]:
    return list(
        ResumptionStep.objects.filter(enterprise_id=enterprise_id)
        .select_related("recorded_by")
        .order_by("at", "recorded_at", "pk")
    )


def standing_reports(
    day: date, as_of: datetime, enterprise_ids: Iterable[int] | None = None
) -> dict[int, DailyReport]:
    """The report of `day` standing at `as_of` for each enterprise that had one by then."""
    corrected = DailyReport.objects.filter(supersedes_id=OuterRef("pk"), recorded_at__lte=as_of)
    reports = DailyReport.objects.filter(day=day, recorded_at__lte=as_of).filter(~Exists(corrected))
    if enterprise_ids is not None:
        reports = reports.filter(enterprise_id__in=sorted(set(enterprise_ids)))
    standing: dict[int, DailyReport] = {}
    for report in reports.order_by("recorded_at", "pk"):
        standing[report.enterprise_id] = report
    return standing


def resumed_ids(enterprise_ids: Iterable[int] | None, at: datetime) -> set[int]:
    return {e for e, s in status_at(enterprise_ids, at).items() if s == ResumptionStatus.RESUMED}
