"""The audit log's full check on the worker: the hash chain, then every sealed record against
its seal (code changes, stored codes, policy versions, exemptions, the facts) — minutes at a
city's scale, too long for a web request. `fangkong audit verify` runs the same check in the
foreground."""

from __future__ import annotations

from django_tasks import task

from fangkong.audit.actions import verify_chain
from fangkong.audit.cli import sealed_problems
from fangkong.audit.models import AuditEntry
from fangkong.clock import background
from fangkong.clock.models import BackgroundTask

KIND = BackgroundTask.Kind.AUDIT_VERIFY
PROBLEMS_SHOWN = 20


def verification() -> dict:
    """The outcome the log page shows (a JSON-ready dict)."""
    ok, bad_id = verify_chain()
    sealed = sealed_problems() if ok else []
    return {
        "ok": ok and not sealed,
        "chain_ok": ok,
        "bad_id": bad_id,
        "count": AuditEntry.objects.count(),
        "code_changes": sealed[:PROBLEMS_SHOWN],
        "problems": len(sealed),
    }


@task()
def verify_log(job_id: int) -> dict | None:
    return background.run(job_id, lambda job: verification())
