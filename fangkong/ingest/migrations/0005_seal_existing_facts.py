"""Seal the facts loaded before sealing existed (one "facts.seal" entry with each table's seal,
marked backfill), so that `fangkong audit verify` checks them from now on."""

from django.db import migrations
from django.utils import timezone

from fangkong.audit.actions import GENESIS, _digest
from fangkong.ingest.seals import SEALED, _seal_of


def seal_existing(apps, schema_editor):
    seals = {table: _seal_of(table) for table in SEALED}
    if not any(seals.values()):
        return
    audit_entry = apps.get_model("audit", "AuditEntry")
    prev = audit_entry.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
    at = timezone.now()
    body = {"seals": {t: f"{v:064x}" for t, v in seals.items()}, "backfill": True}
    digest = _digest(prev, at, "system", "facts.seal", "facts", "", body)
    audit_entry.objects.create(
        at=at,
        actor_name="system",
        action="facts.seal",
        target_type="facts",
        target_id="",
        detail=body,
        prev_hash=prev,
        hash=digest,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("ingest", "0004_unfinished_batches"),
        ("audit", "0003_seal_existing_exemptions"),
        ("people", "0002_household"),
        ("testing", "0004_one_sampling_per_tube_one_result"),
    ]

    operations = [migrations.RunPython(seal_existing, migrations.RunPython.noop)]
