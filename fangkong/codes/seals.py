"""Code changes checked against the seals their writes left in the audit chain
(fangkong.audit.sealing explains the seal), and stored codes against the last change of each
person."""

from __future__ import annotations

import json
from datetime import datetime

from django.db.models import OuterRef, Subquery

from fangkong.audit.models import AuditEntry
from fangkong.audit.sealing import ACTION, MODULUS, group_key, row_seal, sealed_groups
from fangkong.codes.models import CodeChange, Exemption, PersonCode


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


def verify_stored_codes() -> list[str]:
    """Each stored code against the last sealed change of that person: the code a checkpoint and
    the resident see must be the one its last recorded change wrote. A code edited, inserted or
    deleted in SQL without a change disagrees with it."""
    latest = CodeChange.objects.filter(person=OuterRef("person")).order_by("-at", "-id")
    rows = PersonCode.objects.annotate(
        last_colour=Subquery(latest.values("new_colour")[:1]),
        last_county=Subquery(latest.values("county_code")[:1]),
        last_reasons=Subquery(latest.values("reasons")[:1]),
    ).values_list(
        "person_id",
        "colour",
        "county_code",
        "reasons",
        "last_colour",
        "last_county",
        "last_reasons",
    )
    problems = []
    for person, colour, county, reasons, last_colour, last_county, last_reasons in rows.iterator(
        chunk_size=5000
    ):
        if last_colour is None:
            problems.append(f"居民 #{person} 的健康码没有任何变更记录(可能由数据库直接写入)")
        elif (colour, county, _json(reasons)) != (last_colour, last_county, _json(last_reasons)):
            problems.append(f"居民 #{person} 的健康码与其最后一次变更记录不符(被直接修改)")
    missing = (
        CodeChange.objects.exclude(person__in=PersonCode.objects.values("person"))
        .values_list("person_id", flat=True)
        .distinct()
        .order_by("person_id")
    )
    problems += [f"居民 #{p} 有健康码变更记录,但当前健康码已被删除" for p in missing]
    return problems


def _json(value):
    """Reasons as stored: a list (jsonb, or Django's decoding) or, from a subquery on SQLite,
    its JSON text."""
    return json.loads(value) if isinstance(value, str) else value


# Exemptions are sealed by the approval that made them (clearance.approve) or, for those made
# before sealing existed, once by migration audit 0003 (exemption.seal).
EXEMPTION_SEALS = ("clearance.approve", "exemption.seal")


def exemption_seal(e) -> str:
    """The digest of what an exemption clears, for whom, from when (a row or a historical one)."""
    return row_seal(
        e.person_id,
        e.policy_id,
        e.policy_version,
        e.approved_at,
        e.approved_by_id,
        e.reason,
        e.revoked_at,
    )


def verify_exemptions() -> list[str]:
    """Each exemption — a reason cleared for someone — against the seal of its approval."""
    sealed: dict[int, str] = {}
    for detail in AuditEntry.objects.filter(action__in=EXEMPTION_SEALS).values_list(
        "detail", flat=True
    ):
        if "exemption" in detail and "seal" in detail:
            sealed[int(detail["exemption"])] = detail["seal"]
    problems, present = [], set()
    for exemption in Exemption.objects.order_by("pk"):
        present.add(exemption.pk)
        if exemption.pk not in sealed:
            problems.append(f"解码豁免 #{exemption.pk} 没有审批存证(可能由数据库直接写入)")
        elif sealed[exemption.pk] != exemption_seal(exemption):
            problems.append(f"解码豁免 #{exemption.pk} 与审批存证不符(审批后被修改)")
    problems += [
        f"解码豁免 #{pk} 有审批存证,但记录已不存在(被删除)" for pk in sorted(set(sealed) - present)
    ]
    return problems
