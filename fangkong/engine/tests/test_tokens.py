"""Signed tokens: what a checkpoint accepts and the reason it gives when it does not."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
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


# -- structured tokens: well-formed pieces put together right and wrong ----------------------

PRIVATE = Ed25519PrivateKey.generate()
REVOKED = Ed25519PrivateKey.generate()
KEYS = {
    "k1": tokens.PublicKey("k1", PRIVATE.public_key()),
    "k2": tokens.PublicKey("k2", REVOKED.public_key(), NOW - timedelta(days=1)),
}
AT = int(NOW.timestamp())
moments = st.one_of(
    st.sampled_from([AT - 181, AT - 1, AT, AT + 1, AT + 59, AT + 60, AT + 61, AT + 180]),
    st.integers(-(2**70), 2**70),
    st.text(max_size=3),
    st.booleans(),
    st.floats(allow_nan=False),
    st.none(),  # removes the claim
    st.just("null"),  # a JSON null
)
HEADER_VALUES = {
    "alg": ["none", "HS256", 1, None],
    "kid": ["k2", "k9", 7, None],
    "typ": [tokens.EXIT, "JWT", None],
}
CLAIMS = ("iat", "exp", "nbf")


@st.composite
def structured_tokens(draw):
    """A genuine, current health-code token with none, one or a few flaws: a header value
    changed or missing, a time claim changed or missing, another signer, the claims edited
    after signing. Near-genuine tokens are where a verifier's mistakes hide."""
    header = {"alg": "EdDSA", "kid": "k1", "typ": tokens.CODE}
    body = {"iat": AT, "exp": AT + 180, "col": "green"}
    signer, swapped = "k1", False
    for _ in range(draw(st.integers(0, 3))):
        flaw = draw(st.sampled_from(["header", "claim", "claim", "signer", "swap"]))
        if flaw == "header":
            name = draw(st.sampled_from(sorted(HEADER_VALUES)))
            value = draw(st.sampled_from(HEADER_VALUES[name]))
            header = {k: v for k, v in header.items() if k != name}
            if value is not None:
                header[name] = value
        elif flaw == "claim":
            name = draw(st.sampled_from(CLAIMS))
            value = draw(moments)
            body = {k: v for k, v in body.items() if k != name}
            if value is not None:
                body[name] = None if value == "null" else value
        elif flaw == "signer":
            signer = draw(st.sampled_from(["k2", "stranger", "garbage"]))
        else:
            swapped = True
    head = tokens.b64encode(tokens._json(header))
    payload = tokens.b64encode(tokens._json(body))
    signing_input = f"{head}.{payload}".encode()
    key = {"k1": PRIVATE, "k2": REVOKED, "stranger": Ed25519PrivateKey.generate()}.get(signer)
    signature = key.sign(signing_input) if key else draw(st.binary(min_size=1, max_size=64))
    if swapped:
        payload = tokens.b64encode(tokens._json({**body, "col": "red"}))
    return f"{head}.{payload}.{tokens.b64encode(signature)}", header, body, signer, swapped


def _int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def genuine(header, body, signer, swapped) -> bool:
    """What docs/tokens.md says a checkpoint accepts."""
    return (
        header.get("alg") == "EdDSA"
        and header.get("kid") == "k1"
        and signer == "k1"
        and not swapped
        and header.get("typ") == tokens.CODE
        and _int(body.get("iat"))
        and _int(body.get("exp"))
        and body["exp"] > AT
        and body["iat"] <= AT + tokens.CLOCK_LEEWAY_SECONDS
        and ("nbf" not in body or (_int(body["nbf"]) and body["nbf"] <= AT))
        and body["exp"] > AT
    )


@settings(max_examples=500, deadline=None)
@given(structured_tokens())
def test_a_token_is_accepted_exactly_when_it_is_genuine_current_and_of_the_right_kind(case):
    token, header, body, signer, swapped = case
    try:
        verified = tokens.verify(token, KEYS, NOW)
    except tokens.TokenError as error:
        assert error.reason and not genuine(header, body, signer, swapped), error.reason
    else:
        assert genuine(header, body, signer, swapped)
        assert verified.claims == body and verified.kid == "k1"
