"""Published policy versions checked against the seals their publication left in the audit chain:
a version edited, deleted or inserted in SQL — a rule that would change colours with nobody
having published it — is named by `fangkong audit verify`."""

from __future__ import annotations

from fangkong.audit.models import AuditEntry
from fangkong.audit.sealing import row_seal

# The entries that seal a version: its publication or withdrawal, or the one-off seal given to
# versions published before sealing existed (migration policies 0003).
SEALING_ACTIONS = ("policy.publish", "policy.withdraw", "policy.seal")


def version_seal(v) -> str:
    """The digest of everything a version decides and says (a model row, or a historical one)."""
    return row_seal(
        v.policy_id,
        v.version,
        v.title,
        v.colour,
        v.message,
        v.source,
        v.data,
        v.effective_from,
        v.effective_until,
        v.published_at,
        v.published_by_id,
        v.withdrawn,
        v.reason,
        v.continues_from,
        v.continues_since,
    )


def verify_policy_versions() -> list[str]:
    """Each published version against the seal in the chain; the problems in Chinese."""
    from fangkong.policies.models import PolicyVersion

    sealed: dict[str, str] = {}
    for target, detail in AuditEntry.objects.filter(action__in=SEALING_ACTIONS).values_list(
        "target_id", "detail"
    ):
        if "seal" in detail:
            sealed[target] = detail["seal"]
    problems = []
    present = set()
    for version in PolicyVersion.objects.order_by("policy_id", "version"):
        key = f"{version.policy_id}@{version.version}"
        present.add(key)
        if key not in sealed:
            problems.append(f"政策 {key} 没有发布存证(可能由数据库直接写入)")
        elif sealed[key] != version_seal(version):
            problems.append(f"政策 {key} 与发布存证不符(发布后被修改)")
    problems += [
        f"政策 {key} 有发布存证,但记录已不存在(被删除)" for key in sorted(set(sealed) - present)
    ]
    return problems
