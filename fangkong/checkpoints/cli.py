"""`fangkong checkpoint create|list`: checkpoints and the device keys their scanners use.
`fangkong gatelog drain`: commit the gate-log spools of app processes that died (gatelog.py)."""

from __future__ import annotations

import json
import sys


def cmd_checkpoint(args) -> int:
    from django.utils import timezone

    from fangkong.checkpoints.actions import do_create_checkpoint
    from fangkong.checkpoints.models import Checkpoint, CheckpointType
    from fangkong.places.models import Division
    from fangkong.testing.models import TestingSite

    if args.checkpoint_command == "list":
        rows = [
            {"id": c.pk, "name": c.name, "type": c.type_id, "county": c.county_code}
            for c in Checkpoint.objects.order_by("pk")
        ]
        if args.json:
            print(json.dumps(rows, ensure_ascii=False))
        for r in [] if args.json else rows:
            print(f"{r['id']:>5}  {r['type']:<14} {r['county']}  {r['name']}")
        return 0
    if not CheckpointType.objects.filter(pk=args.type).exists():
        known = ", ".join(CheckpointType.objects.values_list("code", flat=True))
        print(f"错误:未知的卡口类型 {args.type}(可选:{known})", file=sys.stderr)
        return 1
    community = site = None
    if args.community:
        community = Division.objects.filter(code=args.community, level=5).first()
        if community is None:
            print(f"错误:没有社区 {args.community}", file=sys.stderr)
            return 1
    if args.site:
        site = TestingSite.objects.filter(code=args.site).first()
        if site is None:
            print(f"错误:没有采样点 {args.site}", file=sys.stderr)
            return 1
    checkpoint, device_key = do_create_checkpoint(
        None,
        name=args.name,
        type_code=args.type,
        county_code=args.county,
        community=community,
        site=site,
        now=timezone.now(),
    )
    if args.json:
        print(json.dumps({"id": checkpoint.pk, "device_key": device_key}))
        return 0
    print(f"已创建卡口 {checkpoint.pk} {checkpoint.name}")
    print(f"设备密钥(只显示这一次,请妥善保存):{device_key}")
    return 0


def cmd_gatelog_drain(args) -> int:
    from fangkong.checkpoints.gatelog import recover, spool_dir

    directory = spool_dir()
    scans = recover(directory)
    left = sorted(p.name for p in directory.glob("*.log")) if directory.is_dir() else []
    if args.json:
        print(json.dumps({"replayed": scans, "held": left}, ensure_ascii=False))
        return 0
    print(f"已补录 {scans} 条通行记录(重复的只记一次);仍被运行中的进程持有的文件:{len(left)} 个")
    return 0


def add_commands(sub) -> None:
    checkpoint = sub.add_parser("checkpoint", help="卡口:创建(含设备密钥)、列出")
    checkpoint_sub = checkpoint.add_subparsers(dest="checkpoint_command", required=True)
    create = checkpoint_sub.add_parser("create", help="创建卡口并生成设备密钥")
    create.add_argument("--name", required=True)
    create.add_argument("--type", required=True, help="卡口类型编码,如 public_place")
    create.add_argument("--county", required=True, help="所属区县代码(6位)")
    create.add_argument("--community", help="小区门岗所属社区代码(12位)")
    create.add_argument("--site", help="采样点卡口对应的采样点编码")
    create.add_argument("--json", action="store_true")
    listing = checkpoint_sub.add_parser("list", help="列出卡口")
    listing.add_argument("--json", action="store_true")
    checkpoint.set_defaults(func=cmd_checkpoint)
    gatelog = sub.add_parser("gatelog", help="通行记录:补录已停止的进程未写入数据库的扫码")
    gatelog_sub = gatelog.add_subparsers(dest="gatelog_command", required=True)
    drain = gatelog_sub.add_parser("drain", help="补录无人持有的暂存文件,然后删除")
    drain.add_argument("--json", action="store_true")
    drain.set_defaults(func=cmd_gatelog_drain)
