"""What a resident changes from their phone (besides appeals: fangkong.clearances.actions): an
antigen self-test report, audited and limited so that a phone cannot fill the table."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

from django.conf import settings
from django.db import transaction

from fangkong.audit.actions import record
from fangkong.people.models import Person
from fangkong.testing.models import AntigenTest

RESULTS = ("negative", "positive")
# A test done up to this long ago may be reported; a clock a little ahead is not a future test.
REPORT_WINDOW = timedelta(hours=24)
CLOCK_SLACK = timedelta(minutes=5)


class AntigenError(ValueError):
    """A report refused; the message says why, in Chinese."""


def resident_actor(person: Person) -> SimpleNamespace:
    """The audit actor for a resident acting for themselves (residents have no account)."""
    return SimpleNamespace(username=f"居民#{person.pk}", pk=None)


def do_report_antigen(person: Person, result: str, tested_at: datetime, now: datetime):
    """Record a resident's antigen self-test. At most settings.ANTIGEN_REPORTS_PER_DAY reports in
    any 24 hours: a factory gate asks for one a day, and a few allow a mistyped one to be
    reported again."""
    if result not in RESULTS:
        raise AntigenError("请选择检测结果(阴性或阳性)")
    if tested_at > now + CLOCK_SLACK or tested_at < now - REPORT_WINDOW:
        raise AntigenError("检测时间应在过去24小时内")
    limit = settings.ANTIGEN_REPORTS_PER_DAY
    with transaction.atomic():
        # One report at a time per person, so two taps at once cannot both pass the limit.
        Person.objects.select_for_update().filter(pk=person.pk).first()
        recent = AntigenTest.objects.filter(person=person, recorded_at__gt=now - REPORT_WINDOW)
        if recent.count() >= limit:
            raise AntigenError(f"24小时内最多上报 {limit} 次抗原结果,请稍后再报")
        report = AntigenTest.objects.create(
            person=person, result=result, tested_at=tested_at, recorded_at=now
        )
        record(
            resident_actor(person),
            "antigen.report",
            "antigen_test",
            report.pk,
            {"person": person.pk, "result": result, "tested_at": tested_at},
            at=now,
        )
    return report
