"""What the zone tests share: a 南关区 community with 25 residents, policies that colour codes
by zone level in each scheme, and a way to propose a decision in one line."""

from datetime import datetime

import pytest

from fangkong.codes.models import PersonCode
from fangkong.ingest.tests.support import BJ, community
from fangkong.policies.actions import do_publish
from fangkong.zones.actions import do_propose

NOW = datetime(2022, 4, 20, 10, tzinfo=BJ)
POLICIES_AT = datetime(2022, 4, 1, tzinfo=BJ)
ZONE_POLICY = """
id = "zone-controlled-yellow"
title = "封控区、管控区居民赋黄码"
colour = "yellow"
message = "您居住的小区为封控区或管控区,吉祥码为黄码。小区调整为防范区后自动转为绿码。"
effective_from = "2022-04-01T00:00:00+08:00"

[trigger]
type = "zone_level"
levels = ["lockdown", "control"]
"""
RISK_POLICY = """
id = "risk-area-yellow"
title = "中、高风险区居民赋黄码"
colour = "yellow"
message = "您居住的区域为中、高风险区,吉祥码为黄码。"
effective_from = "2022-04-01T00:00:00+08:00"

[trigger]
type = "zone_level"
levels = ["high", "medium"]
"""


@pytest.fixture
def nanguan(city):
    return community("220102")


@pytest.fixture
def zone_policies(db):
    do_publish(ZONE_POLICY, user=None, now=POLICIES_AT)
    do_publish(RISK_POLICY, user=None, now=POLICIES_AT)


def propose(user, entries, now=NOW, **fields):
    values = {
        "title": "关于调整部分区域风险等级的通告",
        "scheme": "three_zones",
        "effective_from": now,
        **fields,
    }
    return do_propose(user, entries=list(entries), now=now, **values)


def colours(code):
    people = list(PersonCode.objects.filter(person__community_id=code))
    return {c.colour for c in people}, len(people)
