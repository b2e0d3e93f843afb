"""Seal the exemptions approved before sealing existed (one "exemption.seal" entry each, marked
backfill), so that `fangkong audit verify` checks them from now on."""

from django.db import migrations
from django.utils import timezone

from fangkong.audit.actions import GENESIS, _digest
from fangkong.codes.seals import exemption_seal


def seal_existing(apps, schema_editor):
    exemption = apps.get_model("codes", "Exemption")
    audit_entry = apps.get_model("audit", "AuditEntry")
    prev = audit_entry.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
    at = timezone.now()
    for e in exemption.objects.order_by("pk"):
        body = {"exemption": e.pk, "seal": exemption_seal(e), "backfill": True}
        digest = _digest(prev, at, "system", "exemption.seal", "exemption", str(e.pk), body)
        audit_entry.objects.create(
            at=at,
            actor_name="system",
            action="exemption.seal",
            target_type="exemption",
            target_id=str(e.pk),
            detail=body,
            prev_hash=prev,
            hash=digest,
        )
        prev = digest


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_seal_existing_code_changes"), ("codes", "0003_withdraw_cause")]

    operations = [migrations.RunPython(seal_existing, migrations.RunPython.noop)]
