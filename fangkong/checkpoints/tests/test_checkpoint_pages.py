"""The checkpoint pages staff read: the list of their checkpoints and a checkpoint's gate log,
colours in words with their badge (issue 10, item 7)."""

import pytest
import time_machine
from django.urls import reverse

from fangkong.accounts.models import Role
from fangkong.checkpoints.tests.test_verify_api import NOON, gates, token_for, verify  # noqa: F401
from fangkong.ingest.tests.support import policy_source
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db


def test_the_gate_log_shows_the_colour_in_words_with_its_badge(client, gates, make_staff):  # noqa: F811
    city, made = gates
    checkpoint, device_key = made["public_place"]
    do_publish(policy_source("cc-2022-0420-untested"), user=None, now=NOON)
    with time_machine.travel(NOON, tick=False):
        verify(client, checkpoint, device_key, token_for(city.nanguan[0], NOON))  # sampled
        verify(client, checkpoint, device_key, token_for(city.nanguan[15], NOON, "yellow"))
    client.force_login(make_staff(Role.CHECKPOINT, ["220102"]))
    html = client.get(reverse("checkpoints:log", args=[checkpoint.pk])).content.decode()
    assert '<span class="code-badge green">绿码</span>' in html
    assert '<span class="code-badge yellow">黄码</span>' in html
    assert ">green<" not in html and ">yellow<" not in html
    assert "2022年4月24日 12:00" in html


def test_the_checkpoint_list_names_the_district(client, gates, make_staff):  # noqa: F811
    client.force_login(make_staff(Role.CHECKPOINT, ["220102"]))
    html = client.get(reverse("checkpoints:list")).content.decode()
    assert "<td>南关区</td>" in html and "<td>220102</td>" not in html
    assert "共 3 个卡口" in html
