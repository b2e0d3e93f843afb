"""Verifiers cache checkpoints and keys, and still learn of a change within about a second:
made here, at once; made by another node, at the next comparison of the cache generation."""

import time
from datetime import datetime

import pytest
import time_machine
from django.db.models import F
from django.utils import timezone

from fangkong.checkpoints import access
from fangkong.checkpoints.actions import do_create_checkpoint, do_verify
from fangkong.checkpoints.models import CacheGeneration, Checkpoint
from fangkong.checkpoints.tests.support import token_for
from fangkong.ingest.tests.support import BJ, report_result, sample
from fangkong.signing import keys
from fangkong.signing.models import SigningKey

pytestmark = pytest.mark.django_db
NOON = datetime(2022, 4, 24, 12, tzinfo=BJ)
NO_ANTIGEN = "今日无抗原自测阴性记录"


@pytest.fixture
def gate(city):
    sample(city.nanguan[:1], "T-0423-1", "10", datetime(2022, 4, 23, 9, tzinfo=BJ))
    report_result("T-0423-1", "negative", datetime(2022, 4, 23, 20, tzinfo=BJ))
    checkpoint, key = do_create_checkpoint(
        None, name="商场入口", type_code="public_place", county_code="220102", now=NOON
    )
    with time_machine.travel(NOON, tick=False):
        token = token_for(city.nanguan[0], NOON)
    return key, token


def verdict_at(key, token):
    """What the device with this key is told, through the cache as the hot path reads it."""
    with time_machine.travel(NOON, tick=False):
        return do_verify(access.checkpoint_for_device(key), token, timezone.now())


def as_another_node(change) -> None:
    """A change written by another process: no signal reaches this one, only the database."""
    change()
    CacheGeneration.objects.filter(pk=1).update(value=F("value") + 1)


def test_a_new_type_saved_here_decides_the_very_next_scan(gate):
    key, token = gate
    assert verdict_at(key, token).outcome == "pass"
    checkpoint = Checkpoint.objects.get(device_key_hash=Checkpoint.hash_key(key))
    checkpoint.type_id = "factory_gate"
    checkpoint.save()
    assert verdict_at(key, token).reasons == [NO_ANTIGEN]


def test_a_new_type_set_by_another_node_decides_scans_within_a_second(gate):
    key, token = gate
    assert verdict_at(key, token).outcome == "pass"
    digest = Checkpoint.hash_key(key)
    as_another_node(
        lambda: Checkpoint.objects.filter(device_key_hash=digest).update(type_id="factory_gate")
    )
    time.sleep(access.CHECK_GENERATION_SECONDS + 0.05)
    assert verdict_at(key, token).reasons == [NO_ANTIGEN]


def test_a_key_revoked_by_another_node_denies_scans_within_a_second(gate):
    key, token = gate
    assert verdict_at(key, token).outcome == "pass"
    as_another_node(lambda: SigningKey.objects.update(revoked_at=NOON))
    time.sleep(access.CHECK_GENERATION_SECONDS + 0.05)
    assert verdict_at(key, token).reasons == ["签名密钥已吊销,此码无效"]


def test_a_replaced_device_key_stops_working_within_a_second(gate):
    key, token = gate
    assert verdict_at(key, token).outcome == "pass"
    digest = Checkpoint.hash_key(key)
    as_another_node(
        lambda: Checkpoint.objects.filter(device_key_hash=digest).update(
            device_key_hash=Checkpoint.hash_key("fkd_new")
        )
    )
    time.sleep(access.CHECK_GENERATION_SECONDS + 0.05)
    assert access.checkpoint_for_device(key) is None
    assert keys.public_keys()  # the key cache was refilled, not broken
