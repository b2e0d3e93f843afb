"""The audit log is a hash chain: any edit or deletion of an entry is detected."""

import pytest

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
