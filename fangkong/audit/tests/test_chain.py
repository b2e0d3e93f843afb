"""The audit log is a hash chain: any edit or deletion of an entry is detected."""

import json

import pytest
from django.db import connection

from fangkong.audit.actions import record, verify_chain
from fangkong.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_entries_link_to_the_one_before(make_staff):
    officer = make_staff("hotline")
    first = record(officer, "person.view", "person", 1)
    second = record(officer, "person.view", "person", 2, {"why": "来电核实"})
    assert second.prev_hash == first.hash
    assert verify_chain() == (True, None)


def test_editing_an_entry_breaks_the_chain_at_that_entry(make_staff):
    officer = make_staff("hotline")
    record(officer, "person.view", "person", 1)
    tampered = record(officer, "person.view", "person", 2)
    record(officer, "person.view", "person", 3)
    AuditEntry.objects.filter(pk=tampered.pk).update(target_id="999")
    assert verify_chain() == (False, tampered.pk)


def test_deleting_an_entry_breaks_the_chain(make_staff):
    officer = make_staff("hotline")
    record(officer, "a")
    gone = record(officer, "b")
    after = record(officer, "c")
    AuditEntry.objects.filter(pk=gone.pk).delete()
    assert verify_chain() == (False, after.pk)


def test_every_ingestion_is_recorded_with_its_counts(db):
    from fangkong.ingest.actions import do_ingest

    report = do_ingest(
        "results",
        rows=[
            {"tube": "X", "result": "阴性", "lab": "L", "reported_at": "2022-04-20T08:00:00+08:00"}
        ],
    )
    entry = AuditEntry.objects.get(action="ingest")
    assert entry.target_id == str(report.batch_id)
    assert entry.detail["rejected"] == 1 and entry.actor_name == "system"


def audit_verify(capsys, *extra):
    from fangkong.cli import build_parser

    args = build_parser().parse_args(["audit", "verify", "--json", *extra])
    code = args.func(args)
    return code, json.loads(capsys.readouterr().out)


def test_audit_verify_passes_on_an_untouched_log_and_names_an_entry_edited_in_sql(
    make_staff, capsys
):
    officer = make_staff("hotline")
    entries = [record(officer, "person.view", "person", i) for i in range(5)]
    code, report = audit_verify(capsys)
    assert code == 0 and report["ok"] and report["entries"] == 5
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET actor_name = %s WHERE id = %s", ["nobody", entries[2].pk]
        )
    code, report = audit_verify(capsys)
    assert code == 1 and report["first_bad_entry"] == entries[2].pk
    assert f"第 {entries[2].pk} 条记录与链不符" in report["problem"]


def test_cutting_the_newest_entries_is_caught_against_a_head_kept_outside(make_staff, capsys):
    officer = make_staff("hotline")
    for i in range(3):
        record(officer, "person.view", "person", i)
    _, report = audit_verify(capsys)
    head = report["head"]
    AuditEntry.objects.order_by("-id").first().delete()
    assert audit_verify(capsys)[0] == 0  # the shorter chain is whole in itself
    code, report = audit_verify(capsys, "--expect-head", head)
    assert code == 1 and "末尾被删除" in report["problem"]
