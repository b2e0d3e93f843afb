"""Every code change is sealed in the audit chain: editing, deleting or adding a change row in
SQL is caught by `fangkong audit verify`, which names the group it happened in."""

from datetime import datetime, timedelta

import pytest
from django.db import connection

from fangkong.audit.models import AuditEntry
from fangkong.audit.sealing import ACTION
from fangkong.audit.tests.test_chain import audit_verify
from fangkong.codes.actions import do_reevaluate
from fangkong.codes.models import CodeChange
from fangkong.codes.seals import verify_code_changes
from fangkong.ingest.tests.support import BJ, policy_source
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db
AT = datetime(2022, 4, 23, 0, 0, tzinfo=BJ)


@pytest.fixture
def changes(city):
    """Publishing the untested rule turns the city yellow: one sealed write of 30 changes."""
    do_publish(policy_source("cc-2022-0420-untested"), user=None, now=AT)
    return CodeChange.objects.order_by("id")


def test_a_write_of_code_changes_is_one_entry_with_its_count_and_seal(changes):
    entry = AuditEntry.objects.get(action=ACTION)
    assert entry.detail["count"] == changes.count() == 30
    assert entry.detail["transitions"] == {"green->yellow": 30}
    assert len(entry.detail["seal"]) == 64
    assert verify_code_changes() == []


def test_a_colour_edited_in_sql_is_named(changes, capsys):
    assert audit_verify(capsys)[0] == 0
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE codes_codechange SET new_colour = 'green' WHERE id = %s", [changes[3].pk]
        )
    code, report = audit_verify(capsys)
    assert code == 1 and "存证 30 条,现有 30 条(条数相同,内容被修改)" in report["problem"]


def test_a_reason_rewritten_in_sql_is_caught(changes, capsys):
    CodeChange.objects.filter(pk=changes[5].pk).update(reasons=[])
    code, report = audit_verify(capsys)
    assert code == 1 and "内容被修改" in report["problem"]


def test_a_deleted_or_slipped_in_change_is_named(changes, capsys):
    changes.filter(pk=changes[0].pk).delete()
    assert "存证 30 条,现有 29 条" in audit_verify(capsys)[1]["problem"]


def test_a_change_row_with_no_entry_is_caught(changes, capsys):
    original = changes[0]
    CodeChange.objects.create(
        person_id=original.person_id,
        at=AT + timedelta(hours=1),
        old_colour="yellow",
        new_colour="red",
        reasons=[],
        cause="facts",
        county_code=original.county_code,
    )
    code, report = audit_verify(capsys)
    assert code == 1 and "存证 0 条,现有 1 条" in report["problem"]


def test_writes_sharing_a_moment_add_up(changes):
    from fangkong.codes.models import PersonCode

    people = list(PersonCode.objects.values_list("person_id", flat=True)[:2])
    PersonCode.objects.filter(person_id__in=people).delete()  # forgotten: written again below
    later = AT + timedelta(days=2)
    do_reevaluate(people[:1], later, detail="同一时刻")
    do_reevaluate(people[1:], later, detail="同一时刻")
    assert AuditEntry.objects.filter(action=ACTION).count() == 3
    assert CodeChange.objects.filter(at=later).count() == 2
    assert verify_code_changes() == []


def test_changes_written_before_sealing_are_sealed_by_the_migration(city, capsys):
    import importlib

    from django.apps import apps

    from fangkong.codes.models import PersonCode
    from fangkong.people.models import Person

    backfill = importlib.import_module("fangkong.audit.migrations.0002_seal_existing_code_changes")
    person = Person.objects.first()
    CodeChange.objects.create(
        person=person,
        at=AT,
        old_colour="green",
        new_colour="yellow",
        reasons=[{"policy": "p", "since": AT.isoformat()}],
        cause="publish",
        county_code=person.county_code,
    )
    # The stored code that change wrote: an older database holds both.
    PersonCode.objects.create(
        person=person,
        colour="yellow",
        county_code=person.county_code,
        reasons=[{"policy": "p", "since": AT.isoformat()}],
        evaluated_at=AT,
    )
    assert "存证 0 条,现有 1 条" in audit_verify(capsys)[1]["problem"]
    backfill.seal_existing(apps, None)
    assert audit_verify(capsys)[0] == 0
    assert AuditEntry.objects.get(action=ACTION).detail["backfill"] is True
