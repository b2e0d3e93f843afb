"""Publishing a reworded version keeps everyone who had cleared green; the preview says before
publishing whether a version continues the decision or would hold cleared people again."""

from datetime import datetime, timedelta, timezone

import pytest
from django.urls import reverse

from fangkong.codes.models import Exemption, PersonCode
from fangkong.ingest.tests.support import report_result, sample
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish, preview
from fangkong.policies.models import PolicyVersion

pytestmark = pytest.mark.django_db
BJ = timezone(timedelta(hours=8))
RULE = """
id = "unsampled"
title = "4月20日至22日未采样赋黄码"
colour = "yellow"
message = "请尽快采样,阴性后自动转绿。"
effective_from = "2022-04-23T00:00:00+08:00"
[trigger]
type = "no_sampling"
from = "2022-04-20T00:00:00+08:00"
until = "2022-04-23T00:00:00+08:00"
[[clear]]
type = "negative_after"
"""
REWORDED = RULE.replace("请尽快采样", "请您尽快采样")
RESTARTED = "restart = true\n" + REWORDED


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2022, 4, day, hour, tzinfo=BJ)


@pytest.fixture
def cleared(city):
    """Everyone yellow from 23 April; five of 南关区 sampled on 24 April and turned green; one
    other had a clearance approved for version 1."""
    do_publish(RULE, user=None, now=at(23))
    sample(city.nanguan[:5], "T-0424", "10", at(24, 9))
    report_result("T-0424", "negative", at(24, 20))
    approved = Person.objects.get(id_number=city.nanguan[5])
    Exemption.objects.create(
        person=approved, policy_id="unsampled", policy_version=1, approved_at=at(24), reason="误判"
    )
    do_publish(RULE.replace("请尽快", "请尽快 "), user=None, now=at(24, 21))  # re-evaluates
    assert PersonCode.objects.filter(colour="green").count() == 6
    return city


def test_a_reworded_version_continues_and_nobody_who_cleared_turns_yellow_again(cleared):
    impact = preview(REWORDED, at(25))
    assert impact.policy.continues_from == 1 and impact.retriggered == 0 and not impact.totals
    version, outcome = do_publish(REWORDED, user=None, now=at(25))
    assert version.continues_from == 1 and version.continues_since == at(23)
    assert outcome.by_transition == {}
    assert PersonCode.objects.filter(colour="yellow").count() == 24


def test_a_restart_is_previewed_with_the_cleared_people_it_would_hold_again(
    cleared, client, make_staff
):
    client.force_login(make_staff("command_centre"))
    html = client.post(reverse("policies:new"), {"text": RESTARTED}).content.decode()
    assert "声明 restart = true" in html
    assert "将有 6 名已解除的居民重新被赋码" in html
    version, outcome = do_publish(RESTARTED, user=None, now=at(25))
    assert version.continues_from is None and outcome.by_transition == {"green->yellow": 6}


def test_the_page_says_a_reworded_version_continues_the_decision(cleared, client, make_staff):
    client.force_login(make_staff("command_centre"))
    html = client.post(reverse("policies:new"), {"text": REWORDED}).content.decode()
    assert "本版本延续原决定" in html and "已批准的解码申请继续有效" in html
    do_publish(REWORDED, user=None, now=at(25))
    latest = PolicyVersion.objects.order_by("-version").first()
    page = client.get(reverse("policies:version", args=["unsampled", latest.version]))
    assert "延续第1版的决定" in page.content.decode()


def test_the_preview_shows_the_effective_period_and_the_scope_by_name(city, client, make_staff):
    client.force_login(make_staff("command_centre"))
    text = 'effective_until = "2022-05-01T00:00:00+08:00"\n' + RULE.replace(
        "[trigger]", '[scope]\ninclude = ["220102"]\n[trigger]'
    )
    html = client.post(reverse("policies:new"), {"text": text}).content.decode()
    assert "2022-04-23 00:00 起,至 2022-05-01 00:00 止" in html
    assert "南关区" in html.split("适用范围")[1].split("</dd>")[0]
