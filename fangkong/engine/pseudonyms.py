"""Opaque person references for tokens: a QR must not carry an ID number, and a reference must
not be guessable or enumerable, yet the server must turn it back into a person without a lookup
table. One AES block — a keyed permutation — of a tagged person number does exactly that; the
tag lets a reference made with another key (or invented) be told apart from a real one."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_TAG = b"FKP1\x00\x00\x00\x00"


def _cipher(key: bytes) -> Cipher:
    if len(key) not in (16, 32):
        raise ValueError("pseudonym key must be 16 or 32 bytes")
    # ECB on exactly one block is the raw block cipher, a pseudorandom permutation; there is no
    # second block for ECB's well-known leak to apply to.
    return Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305


def person_ref(key: bytes, person_id: int) -> str:
    block = _TAG + int(person_id).to_bytes(8, "big")
    encryptor = _cipher(key).encryptor()
    data = encryptor.update(block) + encryptor.finalize()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def person_from_ref(key: bytes, ref: str) -> int | None:
    """The person number behind a reference, or None if it is not one of ours."""
    if not isinstance(ref, str) or len(ref) != 22:
        return None
    try:
        data = base64.urlsafe_b64decode(ref + "==")
    except ValueError:
        return None
    if len(data) != 16:
        return None
    decryptor = _cipher(key).decryptor()
    block = decryptor.update(data) + decryptor.finalize()
    if block[:8] != _TAG:
        return None
    return int.from_bytes(block[8:], "big")
