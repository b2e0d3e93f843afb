"""Conflicts flagged by ingestion, and their resolution by a person."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from fangkong.accounts.scoping import FLAG_RESOLVERS, in_scope, require_role
from fangkong.audit.actions import record
from fangkong.codes.actions import do_evaluate_pending
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.models import Flag


def do_resolve_flag(flag: Flag, user, *, accept: bool, note: str):
    """Accept the incoming values (as a correction, with the resolver's reason) or keep what we
    hold. Either way the decision is recorded with who and why."""
    require_role(user, FLAG_RESOLVERS)
    if flag.county_code and not in_scope(user, flag.county_code):
        raise PermissionDenied("该待核记录不在您负责的区县")
    note = note.strip()
    if not note:
        raise ValueError("请填写处理理由")
    if flag.status != Flag.Status.OPEN:
        raise ValueError("该记录已处理")
    with transaction.atomic():
        # Two reviewers deciding at once: the second sees the first one's decision.
        flag = Flag.objects.select_for_update().get(pk=flag.pk)
        if flag.status != Flag.Status.OPEN:
            raise ValueError("该记录已由他人处理")
        report = None
        if accept:
            report = do_ingest(
                flag.kind,
                rows=[{**flag.incoming, "correction_reason": note}],
                user=user,
                source="flag",
                filename=f"flag-{flag.pk}",
                enforce_role=False,
                nested=True,  # codes are evaluated after this transaction commits
            )
            if report.rejected or report.failure:
                reason = report.failure or "; ".join(e["reason"] for e in report.errors)
                raise ValueError(f"无法采纳:{reason}")
        flag.status = Flag.Status.ACCEPTED if accept else Flag.Status.REJECTED
        flag.resolved_by = user
        flag.resolved_at = timezone.now()
        flag.resolution_note = note[:200]
        flag.save()
        record(
            user,
            "flag.resolve",
            "flag",
            flag.pk,
            {
                "accept": accept,
                "note": note,
                "kind": flag.kind,
                "key": flag.key,
                "batch": report.batch_id if report else None,
            },
        )
    if report is not None:
        report.codes_changed = do_evaluate_pending(timezone.now()).changed
    return report
