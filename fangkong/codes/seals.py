"""Code changes checked against the seals their writes left in the audit chain
(fangkong.audit.sealing explains the seal)."""

from __future__ import annotations

from datetime import datetime

from fangkong.audit.models import AuditEntry
from fangkong.audit.sealing import ACTION, MODULUS, group_key, sealed_groups
from fangkong.codes.models import CodeChange


def verify_code_changes() -> list[str]:
    """Each group of code changes (moment, cause, detail) against the entries that sealed it.
    Returns the problems found, in Chinese, oldest first (empty: everything matches)."""
    sealed: dict[str, list[int]] = {}
    for detail in AuditEntry.objects.filter(action=ACTION).values_list("detail", flat=True):
        key = group_key(datetime.fromisoformat(detail["at"]), detail["cause"], detail["detail"])
        count, total = sealed.setdefault(key, [0, 0])
        sealed[key] = [count + detail["count"], (total + int(detail["seal"], 16)) % MODULUS]
    found = sealed_groups(CodeChange.objects.all())
    problems = []
    for key in sorted(set(sealed) | set(found)):
        want, have = sealed.get(key, [0, 0]), found.get(key, [0, 0])
        if want != have:
            at, cause, detail = key.split("|", 2)
            problems.append(
                f"{at} 的赋码变更({cause} {detail})与审计存证不符:"
                f"存证 {want[0]} 条,现有 {have[0]} 条"
                + ("(条数相同,内容被修改)" if want[0] == have[0] else "")
            )
    return problems
