"""Signed tokens shown as QR codes: compact JWS (RFC 7515) signed with EdDSA over Ed25519
(RFC 8037). The format is documented in docs/tokens.md; this module is the whole of it.

    BASE64URL(header) "." BASE64URL(claims) "." BASE64URL(signature)

The header names the algorithm, the key (`kid`) and the kind of token (`typ`): a health code
(`fk-code`), an exit pass (`fk-exit`) or a vehicle pass (`fk-vehicle`). A verifier checks, in
this order, the shape, the key (known, not revoked), the signature, the kind and the validity
window — so nothing unsigned is ever trusted, and every failure has a reason a checkpoint can
show.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

CODE, EXIT, VEHICLE = "fk-code", "fk-exit", "fk-vehicle"
KIND_LABELS = {CODE: "健康码", EXIT: "出入通行码(易行码)", VEHICLE: "车辆通行证"}
ALGORITHM = "EdDSA"
# Phones and verifier clocks drift; a token "issued" this far in the future is still accepted.
CLOCK_LEEWAY_SECONDS = 60
MAX_TOKEN_LENGTH = 2048

MALFORMED = "malformed"
UNKNOWN_KEY = "unknown_key"
REVOKED_KEY = "revoked_key"
BAD_SIGNATURE = "bad_signature"
WRONG_KIND = "wrong_kind"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"

REASONS = {
    MALFORMED: "无法识别的二维码",
    UNKNOWN_KEY: "签名密钥未知(请更新核验设备的公钥)",
    REVOKED_KEY: "签名密钥已吊销,此码无效",
    BAD_SIGNATURE: "签名校验失败,此码可能被篡改",
    WRONG_KIND: "此处不接受该类型的码",
    EXPIRED: "二维码已过期,请刷新后重新出示",
    NOT_YET_VALID: "二维码尚未生效",
}


class TokenError(Exception):
    """A token that must be denied; `code` is stable for programs, `reason` is for people."""

    def __init__(self, code: str, detail: str = ""):
        self.code = code
        self.reason = REASONS[code] + (f"({detail})" if detail else "")
        super().__init__(self.reason)


@dataclass(frozen=True)
class PublicKey:
    kid: str
    key: Ed25519PublicKey
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class Verified:
    kind: str
    kid: str
    claims: dict


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    if not text or any(c in text for c in "=+/ \n"):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(value: dict) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def public_jwk(kid: str, key: Ed25519PublicKey) -> dict:
    """The key as an OKP JSON Web Key (RFC 8037 §2)."""
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64encode(raw), "kid": kid, "use": "sig"}


def key_from_jwk(jwk: Mapping) -> Ed25519PublicKey:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("not an Ed25519 key")
    return Ed25519PublicKey.from_public_bytes(b64decode(jwk["x"]))


def sign(kind: str, claims: Mapping, kid: str, key: Ed25519PrivateKey) -> str:
    header = b64encode(_json({"alg": ALGORITHM, "kid": kid, "typ": kind}))
    payload = b64encode(_json(dict(claims)))
    signing_input = f"{header}.{payload}".encode("ascii")
    return f"{header}.{payload}.{b64encode(key.sign(signing_input))}"


def _parse(token: str) -> tuple[dict, dict, bytes, bytes]:
    token = token.strip()
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise TokenError(MALFORMED)
    header_b64, payload_b64, signature_b64 = token.split(".")
    try:
        header = json.loads(b64decode(header_b64))
        claims = json.loads(b64decode(payload_b64))
        signature = b64decode(signature_b64)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise TokenError(MALFORMED) from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenError(MALFORMED)
    if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
        raise TokenError(MALFORMED, "签名算法不符")
    for name in ("iat", "exp", "nbf"):
        if name == "nbf" and name not in claims:
            continue  # optional, but an integer when present
        value = claims.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise TokenError(MALFORMED, f"缺少{name}")
    return header, claims, signature, f"{header_b64}.{payload_b64}".encode("ascii")


def verify(
    token: str,
    keys: Mapping[str, PublicKey],
    now: datetime,
    kinds: Collection[str] = (CODE,),
) -> Verified:
    """The token's claims if it is genuine, of an accepted kind and valid at `now`; otherwise
    TokenError with the reason."""
    header, claims, signature, signing_input = _parse(token)
    public = keys.get(header["kid"])
    if public is None:
        raise TokenError(UNKNOWN_KEY, header["kid"][:16])
    if public.revoked_at is not None and public.revoked_at <= now:
        raise TokenError(REVOKED_KEY)
    try:
        public.key.verify(signature, signing_input)
    except InvalidSignature:
        raise TokenError(BAD_SIGNATURE) from None
    kind = header.get("typ")
    if kind not in kinds:
        label = KIND_LABELS.get(kind, "未知类型")
        raise TokenError(WRONG_KIND, f"出示的是{label}")
    at = int(now.timestamp())
    if claims["exp"] <= at:
        raise TokenError(EXPIRED, f"已过期{_ago(at - claims['exp'])}")
    if claims["iat"] > at + CLOCK_LEEWAY_SECONDS or claims.get("nbf", 0) > at:
        raise TokenError(NOT_YET_VALID)
    return Verified(kind, header["kid"], claims)


def _ago(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds}秒"
    if seconds < 7200:
        return f"{seconds // 60}分钟"
    if seconds < 3 * 86400:
        return f"{seconds // 3600}小时"
    return "很久"  # an hours count of a token years old says nothing more
