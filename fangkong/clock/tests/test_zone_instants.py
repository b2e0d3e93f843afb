"""A zone level announced for later ("自20日18时起") takes effect for the community's residents at
its start, and stops at its end, when the clock reaches them — not when it was recorded."""

from datetime import datetime, timedelta

import pytest

from fangkong.clock.actions import do_sweep
from fangkong.codes.models import CodeChange, PersonCode
from fangkong.ingest.tests.support import BJ, community
from fangkong.places.models import CommunityZone
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db
RECORDED = datetime(2022, 4, 20, 10, tzinfo=BJ)
STARTS = datetime(2022, 4, 20, 18, tzinfo=BJ)
ENDS = datetime(2022, 4, 27, 18, tzinfo=BJ)
LOCKDOWN_YELLOW = """
id = "test-lockdown-yellow"
title = "封控区居民赋黄码"
colour = "yellow"
message = "您居住的社区为封控区。"
effective_from = "2022-03-01T00:00:00+08:00"
[scope]
include = ["220102"]
[trigger]
type = "zone_level"
levels = ["lockdown"]
"""


@pytest.fixture
def announced_lockdown(city):
    do_publish(LOCKDOWN_YELLOW, user=None, now=RECORDED - timedelta(days=1))
    CommunityZone.objects.create(
        community=community("220102"),
        level="lockdown",
        start_at=STARTS,
        recorded_at=RECORDED,
        decided_by="长春市疫情防控指挥部",
        end_at=ENDS,
    )
    do_sweep(RECORDED)
    return city


def yellow_in_the_community() -> int:
    return PersonCode.objects.filter(colour="yellow").count()


def test_a_lockdown_recorded_for_later_changes_nobody_before_its_start(announced_lockdown):
    do_sweep(STARTS - timedelta(minutes=1))
    assert yellow_in_the_community() == 0


def test_a_lockdown_turns_the_residents_yellow_at_its_start(announced_lockdown):
    do_sweep(STARTS + timedelta(minutes=1))
    assert yellow_in_the_community() == 25  # every 南关区 resident of the test city lives there
    changes = CodeChange.objects.filter(new_colour="yellow")
    assert {(c.at, c.cause) for c in changes} == {(STARTS, CodeChange.Cause.TIME)}


def test_a_lockdown_with_an_end_releases_the_residents_then(announced_lockdown):
    do_sweep(ENDS + timedelta(hours=2))
    assert yellow_in_the_community() == 0
    released = CodeChange.objects.filter(new_colour="green")
    assert {(c.at, c.cause) for c in released} == {(ENDS, CodeChange.Cause.TIME)}
