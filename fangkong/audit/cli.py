"""`fangkong audit verify [--expect-head ID:HASH] [--json]`: check the hash chain of the audit log,
and the records that decide colours against the seals the chain holds for them
(fangkong.audit.sealing): code changes, stored codes, policy versions, exemptions, and the
facts codes are computed from (fangkong.ingest.seals).

An edited entry no longer hashes to its stored value; a deleted one breaks the link of the entry
after it. Deleting the newest entries leaves a shorter chain that is still whole, so the command
prints the head (id and hash): kept outside the database (printed in a daily report, say) and
given back with --expect-head, it shows whether anything was cut from the end since.
"""

from __future__ import annotations

import json
import sys


def cmd_audit(args) -> int:
    from fangkong.audit.actions import verify_chain
    from fangkong.audit.models import AuditEntry

    ok, bad_id = verify_chain()
    head = AuditEntry.objects.order_by("-id").values("id", "hash").first()
    problem = ""
    sealed = sealed_problems() if ok else []
    if sealed:
        ok = False
        problem = f"受存证保护的记录与审计存证不符({len(sealed)} 处),首个:{sealed[0]}"
    elif not ok:
        entry = AuditEntry.objects.filter(pk=bad_id).first()
        problem = f"第 {bad_id} 条记录与链不符(被修改,或它之前的记录被删除)" + (
            f":{entry.at.isoformat()} {entry.actor_name} {entry.action}" if entry else ""
        )
    elif args.expect_head:
        head_id, _, head_hash = args.expect_head.partition(":")
        kept = AuditEntry.objects.filter(pk=int(head_id)).values_list("hash", flat=True).first()
        if kept != head_hash:
            ok, bad_id = False, int(head_id)
            problem = f"第 {head_id} 条记录已不存在或已改变:日志末尾被删除或改写"
    count = AuditEntry.objects.count()
    if args.json:
        print(
            json.dumps(
                {
                    "ok": ok,
                    "entries": count,
                    "first_bad_entry": bad_id,
                    "problem": problem,
                    "head": f"{head['id']}:{head['hash']}" if head else None,
                },
                ensure_ascii=False,
            )
        )
    elif ok:
        print(
            f"审计日志完整:{count:,} 条记录,哈希链无断裂,赋码变更、当前健康码与政策版本均与存证一致"
        )
        if head:
            print(f"链头 {head['id']}:{head['hash']}(请在库外留存,下次用 --expect-head 核对)")
    else:
        print(f"审计日志被篡改:{problem}", file=sys.stderr)
    return 0 if ok else 1


def sealed_problems() -> list[str]:
    """Every record that decides a colour, against its seal in the chain (problems, in Chinese)."""
    from fangkong.codes.seals import verify_code_changes, verify_exemptions, verify_stored_codes
    from fangkong.ingest.seals import verify_facts
    from fangkong.policies.seals import verify_policy_versions

    return (
        verify_code_changes()
        + verify_stored_codes()
        + verify_policy_versions()
        + verify_exemptions()
        + verify_facts()
    )


def add_commands(sub) -> None:
    audit = sub.add_parser("audit", help="审计日志:校验哈希链")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="校验审计日志未被修改或删除")
    verify.add_argument("--expect-head", help="此前留存的链头 ID:HASH,核对末尾未被删除")
    verify.add_argument("--json", action="store_true")
    audit.set_defaults(func=cmd_audit)
