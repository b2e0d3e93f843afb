"""Signed tokens: what a checkpoint accepts and the reason it gives when it does not."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from fangkong.engine import pseudonyms, tokens

NOW = datetime(2022, 4, 24, 2, 0, tzinfo=UTC)


def key_pair(kid="k1", revoked_at=None):
    private = Ed25519PrivateKey.generate()
    return private, {kid: tokens.PublicKey(kid, private.public_key(), revoked_at)}


def code_claims(**extra):
    iat = int(NOW.timestamp())
    return {"v": 1, "sub": "x" * 22, "iat": iat, "exp": iat + 180, "col": "green", **extra}


def test_a_genuine_code_token_verifies_with_its_claims():
    private, keys = key_pair()
    token = tokens.sign(tokens.CODE, code_claims(), "k1", private)
    verified = tokens.verify(token, keys, NOW + timedelta(seconds=30))
    assert verified.kind == tokens.CODE and verified.kid == "k1"
    assert verified.claims["col"] == "green"


def test_the_token_is_a_compact_jws_naming_algorithm_key_and_kind():
    private, _ = key_pair()
    header = tokens.sign(tokens.CODE, code_claims(), "k1", private).split(".")[0]
    assert tokens.b64decode(header) == b'{"alg":"EdDSA","kid":"k1","typ":"fk-code"}'


def deny(token, keys, now=NOW, kinds=(tokens.CODE,)):
    with pytest.raises(tokens.TokenError) as caught:
        tokens.verify(token, keys, now, kinds)
    return caught.value


def test_an_expired_token_is_denied_saying_so():
    private, keys = key_pair()
    token = tokens.sign(tokens.CODE, code_claims(), "k1", private)
    error = deny(token, keys, NOW + timedelta(minutes=4))
    assert error.code == tokens.EXPIRED
    assert error.reason.startswith("二维码已过期") and "60秒" in error.reason


def test_a_token_whose_colour_was_edited_is_denied_as_tampered():
    private, keys = key_pair()
    header, _, signature = tokens.sign(tokens.CODE, code_claims(col="red"), "k1", private).split(
        "."
    )
    forged = tokens.b64encode(tokens._json(code_claims(col="green")))
    assert deny(f"{header}.{forged}.{signature}", keys).code == tokens.BAD_SIGNATURE


def test_a_token_signed_by_another_key_under_our_key_id_is_denied():
    _, keys = key_pair()
    stranger = Ed25519PrivateKey.generate()
    token = tokens.sign(tokens.CODE, code_claims(), "k1", stranger)
    assert deny(token, keys).code == tokens.BAD_SIGNATURE


def test_a_token_of_a_revoked_key_is_denied_even_before_it_expires():
    private, keys = key_pair(revoked_at=NOW - timedelta(minutes=1))
    token = tokens.sign(tokens.CODE, code_claims(), "k1", private)
    error = deny(token, keys)
    assert error.code == tokens.REVOKED_KEY and "吊销" in error.reason


def test_an_unknown_key_and_a_wrong_kind_are_told_apart():
    private, keys = key_pair()
    assert deny(tokens.sign(tokens.CODE, code_claims(), "k9", private), keys).code == (
        tokens.UNKNOWN_KEY
    )
    exit_pass = tokens.sign(tokens.EXIT, code_claims(), "k1", private)
    error = deny(exit_pass, keys)
    assert error.code == tokens.WRONG_KIND and "易行码" in error.reason


def test_a_token_issued_in_the_future_is_not_yet_valid():
    private, keys = key_pair()
    token = tokens.sign(tokens.CODE, code_claims(), "k1", private)
    assert deny(token, keys, NOW - timedelta(minutes=5)).code == tokens.NOT_YET_VALID


@given(st.text(max_size=300))
def test_any_text_is_denied_with_a_reason_never_a_crash(text):
    _, keys = key_pair()
    try:
        tokens.verify(text, keys, NOW)
    except tokens.TokenError as error:
        assert error.reason
    else:  # pragma: no cover - a random string cannot carry a valid signature
        raise AssertionError("random text verified")


@given(st.integers(min_value=1, max_value=2**62))
def test_a_person_reference_round_trips_only_with_its_key(person_id):
    key = b"k" * 32
    ref = pseudonyms.person_ref(key, person_id)
    neighbour = pseudonyms.person_ref(key, person_id + 1)
    # Neighbouring people get unrelated references: no enumeration by counting.
    assert len(ref) == 22 and sum(a == b for a, b in zip(ref, neighbour, strict=True)) < 8
    assert pseudonyms.person_from_ref(key, ref) == person_id
    assert pseudonyms.person_from_ref(b"q" * 32, ref) is None
