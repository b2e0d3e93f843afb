"""Issuing and verifying signed tokens with the city's keys (DESIGN §5, docs/tokens.md).

The active key is the newest one neither retired nor revoked; the first call creates it. Public
keys are cached per process for a few seconds: verification at thousands per second must not
read the database each time, and a revocation reaches every worker within KEY_CACHE_SECONDS.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)
from django.conf import settings
from django.db import transaction

from fangkong.audit.actions import record
from fangkong.engine import pseudonyms, tokens
from fangkong.signing.models import SigningKey

KEY_CACHE_SECONDS = 10
# Revoked keys stay listed this long, so offline verifiers learn of them.
REVOKED_LISTED_FOR = timedelta(days=30)

_lock = threading.Lock()
_private: dict[str, Ed25519PrivateKey] = {}
_public: tuple[float, dict[str, tokens.PublicKey]] | None = None
_active: tuple[float, tuple[str, Ed25519PrivateKey]] | None = None
_pseudonym_key: bytes | None = None


def key_dir() -> Path:
    path = Path(settings.KEY_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _write_secret(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def clear_cache() -> None:
    global _public, _active
    with _lock:
        _public = _active = None
        _private.clear()


def create_key(now: datetime) -> SigningKey:
    """A new Ed25519 key pair: the private half to a file, the public half to the database."""
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    # Hex, not base64url: a key id starting with "-" would read as an option on the command line.
    kid = "k" + hashlib.sha256(raw).hexdigest()[:15]
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    _write_secret(key_dir() / f"{kid}.pem", pem)
    key = SigningKey.objects.create(kid=kid, public_key=tokens.b64encode(raw), created_at=now)
    clear_cache()
    return key


def _load_private(kid: str) -> Ed25519PrivateKey | None:
    if kid not in _private:
        path = key_dir() / f"{kid}.pem"
        if not path.exists():
            return None
        _private[kid] = load_pem_private_key(path.read_bytes(), password=None)
    return _private[kid]


def active_key(now: datetime) -> tuple[str, Ed25519PrivateKey]:
    """The key that signs now; like the public keys, re-read every KEY_CACHE_SECONDS."""
    global _active
    cached = _active
    if cached is not None and time.monotonic() - cached[0] < KEY_CACHE_SECONDS:
        return cached[1]
    found = _find_active_key(now)
    with _lock:
        _active = (time.monotonic(), found)
    return found


def _find_active_key(now: datetime) -> tuple[str, Ed25519PrivateKey]:
    for key in SigningKey.objects.filter(retired_at__isnull=True, revoked_at__isnull=True):
        private = _load_private(key.kid)
        if private is not None:  # a key whose file is on another machine cannot sign here
            return key.kid, private
    with transaction.atomic():
        key = create_key(now)
    return key.kid, _load_private(key.kid)


def rotate(now: datetime, user=None) -> SigningKey:
    """Retire the signing key(s) and start a new one; tokens already issued stay valid."""
    with transaction.atomic():
        retired = list(
            SigningKey.objects.filter(retired_at__isnull=True, revoked_at__isnull=True).values_list(
                "kid", flat=True
            )
        )
        SigningKey.objects.filter(kid__in=retired).update(retired_at=now)
        key = create_key(now)
        record(user, "key.rotate", "signing_key", key.kid, {"retired": retired}, at=now)
    return key


def revoke(kid: str, reason: str, now: datetime, user=None) -> SigningKey:
    """Distrust a key at once: every token it signed is denied from now on."""
    with transaction.atomic():
        key = SigningKey.objects.select_for_update().get(kid=kid)
        if key.revoked_at is None:
            key.revoked_at, key.revoked_reason = now, reason
            key.retired_at = key.retired_at or now
            key.save()
            record(user, "key.revoke", "signing_key", kid, {"reason": reason}, at=now)
    clear_cache()
    return key


def issue(kind: str, claims: dict, now: datetime) -> str:
    kid, private = active_key(now)
    return tokens.sign(kind, claims, kid, private)


def public_keys() -> dict[str, tokens.PublicKey]:
    """Every key a token may name — revoked ones included, so they are denied as revoked rather
    than as unknown."""
    global _public
    cached = _public
    if cached is not None and time.monotonic() - cached[0] < KEY_CACHE_SECONDS:
        return cached[1]
    keys = {
        k.kid: tokens.PublicKey(k.kid, tokens.key_from_jwk(_jwk(k)), k.revoked_at)
        for k in SigningKey.objects.all()
    }
    with _lock:
        _public = (time.monotonic(), keys)
    return keys


_last_reread = 0.0


def verify(token: str, now: datetime, kinds=(tokens.CODE,)) -> tokens.Verified:
    """A key this process has not cached yet may have just been made by another node (a
    rotation): read the keys again once, at most once a second, before calling it unknown —
    a flood of tokens with made-up key ids must not turn into a query each."""
    global _public, _last_reread
    try:
        return tokens.verify(token, public_keys(), now, kinds)
    except tokens.TokenError as error:
        if error.code != tokens.UNKNOWN_KEY or time.monotonic() - _last_reread < 1.0:
            raise
    with _lock:
        _public, _last_reread = None, time.monotonic()
    return tokens.verify(token, public_keys(), now, kinds)


def _jwk(key: SigningKey) -> dict:
    return {"kty": "OKP", "crv": "Ed25519", "x": key.public_key, "kid": key.kid, "use": "sig"}


def key_set(now: datetime) -> dict:
    """The published key set: keys a verifier should trust now, and recent revocations."""
    longest = timedelta(seconds=max(settings.CODE_TOKEN_TTL_SECONDS, 24 * 3600))
    trusted, revoked = [], []
    for key in SigningKey.objects.all():
        if key.revoked_at is not None:
            if key.revoked_at > now - REVOKED_LISTED_FOR:
                revoked.append({"kid": key.kid, "revoked_at": key.revoked_at.isoformat()})
        elif key.retired_at is None or key.retired_at > now - longest:
            trusted.append(_jwk(key))
    return {"keys": trusted, "revoked": revoked, "issued_at": now.isoformat()}


def _pseudonym_secret() -> bytes:
    global _pseudonym_key
    if _pseudonym_key is None:
        path = key_dir() / "pseudonym.key"
        if not path.exists():
            # Written whole under another name, then linked into place: a process starting at
            # the same moment sees either no file or the whole key, never an empty one.
            draft = path.with_name(f".pseudonym.{os.getpid()}.{secrets.token_hex(4)}")
            _write_secret(draft, secrets.token_bytes(32))
            try:
                with contextlib.suppress(FileExistsError):
                    os.link(draft, path)
            finally:
                draft.unlink()
        key = path.read_bytes()
        if len(key) != 32:
            raise RuntimeError(f"{path} is not a 32-byte key")
        _pseudonym_key = key
    return _pseudonym_key


def person_ref(person_id: int) -> str:
    return pseudonyms.person_ref(_pseudonym_secret(), person_id)


def person_from_ref(ref: str) -> int | None:
    return pseudonyms.person_from_ref(_pseudonym_secret(), ref)
