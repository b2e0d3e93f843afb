"""Seal the policy versions published before sealing existed (one "policy.seal" entry each,
marked backfill), so that `fangkong audit verify` checks them from now on."""

from django.db import migrations
from django.utils import timezone

from fangkong.audit.actions import GENESIS, _digest
from fangkong.policies.seals import version_seal


def seal_existing(apps, schema_editor):
    version = apps.get_model("policies", "PolicyVersion")
    audit_entry = apps.get_model("audit", "AuditEntry")
    prev = audit_entry.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
    at = timezone.now()
    for v in version.objects.order_by("policy_id", "version"):
        body = {"seal": version_seal(v), "backfill": True}
        target = f"{v.policy_id}@{v.version}"
        digest = _digest(prev, at, "system", "policy.seal", "policy", target, body)
        audit_entry.objects.create(
            at=at,
            actor_name="system",
            action="policy.seal",
            target_type="policy",
            target_id=target,
            detail=body,
            prev_hash=prev,
            hash=digest,
        )
        prev = digest


class Migration(migrations.Migration):
    dependencies = [("policies", "0002_withdrawal_and_continuity"), ("audit", "0002_seal_existing_code_changes")]

    operations = [migrations.RunPython(seal_existing, migrations.RunPython.noop)]
