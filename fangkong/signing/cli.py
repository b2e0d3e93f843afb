"""`fangkong keys list|rotate|revoke`: the signing keys behind every QR code."""

from __future__ import annotations

import json
import sys


def cmd_keys(args) -> int:
    from django.utils import timezone

    from fangkong.signing import keys
    from fangkong.signing.models import SigningKey

    now = timezone.now()
    if args.keys_command == "rotate":
        key = keys.rotate(now)
        print(f"新签名密钥 {key.kid};旧密钥停止签发,已签发的码到期前仍有效")
        return 0
    if args.keys_command == "revoke":
        if not SigningKey.objects.filter(kid=args.kid).exists():
            print(f"错误:没有密钥 {args.kid}", file=sys.stderr)
            return 1
        keys.revoke(args.kid, args.reason, now)
        print(f"已吊销 {args.kid}:它签发的所有码立即失效;核验设备在下次更新公钥时获知")
        return 0
    rows = [
        {
            "kid": k.kid,
            "created_at": k.created_at.isoformat(),
            "retired_at": k.retired_at and k.retired_at.isoformat(),
            "revoked_at": k.revoked_at and k.revoked_at.isoformat(),
            "revoked_reason": k.revoked_reason,
            "signs_here": (keys.key_dir() / f"{k.kid}.pem").exists(),
        }
        for k in SigningKey.objects.all()
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for row in rows:
        state = "已吊销" if row["revoked_at"] else "已停用" if row["retired_at"] else "签发中"
        print(f"{row['kid']}  {state}  创建于 {row['created_at']}")
    if not rows:
        print("还没有签名密钥(首次签发健康码时自动生成)")
    return 0


def add_commands(sub) -> None:
    keys = sub.add_parser("keys", help="签名密钥:查看、轮换、吊销")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    listing = keys_sub.add_parser("list", help="列出密钥")
    listing.add_argument("--json", action="store_true")
    keys_sub.add_parser("rotate", help="启用新密钥,旧密钥停止签发")
    revoke = keys_sub.add_parser("revoke", help="吊销密钥(它签发的码立即失效)")
    revoke.add_argument("kid")
    revoke.add_argument("--reason", required=True)
    keys.set_defaults(func=cmd_keys)
