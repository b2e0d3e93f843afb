"""The engine's small pieces that pages and tokens rely on, each held to what it promises:
the reason as JSON, the test claims a token carries, masking, and keys as JWK."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fangkong.engine import gate_rules, tokens
from fangkong.engine.batch import Columns, evaluate_batch
from fangkong.engine.evaluate import Reason
from fangkong.engine.id_numbers import is_valid_id_number, make_id_number, mask, mask_name
from fangkong.engine.policies import parse_policy
from fangkong.engine.testing_state import ResultFact, SamplingFact, derive_testing_state

NOW = datetime(2022, 4, 24, 12, tzinfo=UTC)


def test_a_reason_as_json_keeps_every_field_the_contract_names():
    since = datetime(2022, 4, 22, 16, tzinfo=UTC)
    reason = Reason("p", 2, "yellow", "标题", "告知", since, ("依据",), ("阴性后解除",))
    assert reason.as_dict() == {
        "policy": "p",
        "version": 2,
        "colour": "yellow",
        "title": "标题",
        "message": "告知",
        "since": "2022-04-22T16:00:00+00:00",
        "facts": ["依据"],
        "clears": ["阴性后解除"],
        "on_application": "经审核通过的解码申请",
    }


def test_the_test_claims_are_the_latest_sampling_the_latest_negative_and_the_state():
    first, second = NOW - timedelta(hours=30), NOW - timedelta(hours=5)
    state = derive_testing_state(
        (SamplingFact(1, "A", 1, first, first), SamplingFact(2, "B", 10, second, second)),
        (ResultFact(1, "A", "negative", "lab", first + timedelta(hours=6), first),),
        NOW,
    )
    antigen = NOW - timedelta(hours=1)
    assert gate_rules.testing_claims(state, antigen) == {
        "smp": int(second.timestamp()),
        "pcr": int(first.timestamp()),
        "tst": "none",
        "ag": int(antigen.timestamp()),
    }


def test_someone_never_tested_carries_empty_claims():
    state = derive_testing_state((), (), NOW)
    assert gate_rules.testing_claims(state, None) == {
        "smp": None,
        "pcr": None,
        "tst": "none",
        "ag": None,
    }


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三", "*三"), ("李小龙", "**龙"), ("欧阳娜娜", "**娜娜"), (" 王 ", "*"), ("", "*")],
)
def test_a_name_shows_only_the_end_of_the_given_name(name, masked):
    assert mask_name(name) == masked


def test_an_id_number_shows_only_its_region_and_last_four():
    number = make_id_number("220102", datetime(1980, 1, 1).date(), 13)
    assert mask(number) == "220102********" + number[-4:]
    assert mask("12345") == "*****"
    assert is_valid_id_number(number) and not is_valid_id_number(number[:-1] + "?")


def test_a_public_key_round_trips_through_its_jwk_and_nothing_else_passes_for_one():
    public = Ed25519PrivateKey.generate().public_key()
    jwk = tokens.public_jwk("k1", public)
    assert jwk == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": tokens.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)),
        "kid": "k1",
        "use": "sig",
    }
    again = tokens.key_from_jwk(jwk)
    assert again.public_bytes(Encoding.Raw, PublicFormat.Raw) == public.public_bytes(
        Encoding.Raw, PublicFormat.Raw
    )
    for wrong in ({**jwk, "kty": "EC"}, {**jwk, "crv": "X25519"}):
        with pytest.raises(ValueError):
            tokens.key_from_jwk(wrong)


def test_a_population_without_facts_is_green_and_every_fact_column_starts_empty():
    columns = Columns(community=np.array([220102001001]), registered_at=np.array([0]))
    assert columns.s_person.dtype == np.int64 and len(columns.s_person) == 0
    policy = parse_policy(
        {
            "id": "any-positive",
            "title": "t",
            "message": "m",
            "colour": "red",
            "effective_from": "2022-04-01T00:00:00+08:00",
            "trigger": {"type": "positive_result"},
        }
    )
    assert evaluate_batch([policy], columns, NOW).severity.tolist() == [0]
