"""Seal the code changes written before sealing existed (one "code.change" entry per group,
marked backfill), so that `fangkong audit verify` checks them from now on instead of reporting
them as unsealed."""

from datetime import UTC, datetime

from django.db import migrations
from django.utils import timezone

from fangkong.audit.actions import GENESIS, _digest
from fangkong.audit.sealing import ACTION, sealed_groups


def seal_existing(apps, schema_editor):
    code_change = apps.get_model("codes", "CodeChange")
    audit_entry = apps.get_model("audit", "AuditEntry")
    groups = sealed_groups(code_change.objects.all())
    if not groups:
        return
    prev = audit_entry.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
    at = timezone.now()
    for key, (count, total) in sorted(groups.items()):
        moment, cause, detail = key.split("|", 2)
        body = {
            "at": datetime.fromisoformat(moment).astimezone(UTC).isoformat(),
            "cause": cause,
            "detail": detail,
            "count": count,
            "seal": f"{total:064x}",
            "backfill": True,
        }
        digest = _digest(prev, at, "system", ACTION, "code_changes", "", body)
        audit_entry.objects.create(
            at=at,
            actor_name="system",
            action=ACTION,
            target_type="code_changes",
            target_id="",
            detail=body,
            prev_hash=prev,
            hash=digest,
        )
        prev = digest


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial"), ("codes", "0002_exemption_policy_version")]

    operations = [migrations.RunPython(seal_existing, migrations.RunPython.noop)]
