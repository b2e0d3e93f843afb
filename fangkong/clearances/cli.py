"""`fangkong evidence sweep [--grace-hours H] [--json]`: remove evidence files that no request
references (left by uploads whose transaction rolled back) once they are older than the grace
period (default settings.EVIDENCE_ORPHAN_GRACE_HOURS, 24 hours). Run it from cron, say daily.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import timedelta


def cmd_evidence_sweep(args) -> int:
    from django.utils import timezone

    from fangkong.clearances.sweep import do_sweep_orphan_evidence, grace_period

    grace = grace_period() if args.grace_hours is None else timedelta(hours=args.grace_hours)
    swept = do_sweep_orphan_evidence(timezone.now(), grace)
    if args.json:
        print(json.dumps(asdict(swept) | {"grace_hours": grace.total_seconds() / 3600}))
        return 0
    print(
        f"已删除 {swept.removed:,} 个无人引用的证明材料文件({swept.bytes:,} 字节);"
        f"{swept.waiting:,} 个未满 {grace.total_seconds() / 3600:g} 小时,暂不删除;"
        f"{swept.kept:,} 个有记录,保留"
    )
    return 0


def _hours(text: str) -> float:
    value = float(text)
    if value < 1:
        raise argparse.ArgumentTypeError("至少 1 小时:更短的话,正在上传的文件可能被删除")
    return value


def add_commands(sub) -> None:
    evidence = sub.add_parser("evidence", help="证明材料文件")
    evidence_sub = evidence.add_subparsers(dest="evidence_command", required=True)
    sweep = evidence_sub.add_parser(
        "sweep", help="删除没有申请引用的证明材料文件(上传所在的事务已回滚)"
    )
    sweep.add_argument("--grace-hours", type=_hours, help="只删除早于此时长的文件(默认 24)")
    sweep.add_argument("--json", action="store_true", help="机器可读的输出")
    sweep.set_defaults(func=cmd_evidence_sweep)
