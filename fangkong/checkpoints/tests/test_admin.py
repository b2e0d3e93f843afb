"""A checkpoint type's requirements decide who passes its gates: the admin shows them and cannot
change them (issue 11, item 7). They change in fixtures/checkpoint_types.toml, reviewed like
code; checkpoints are created by `fangkong checkpoint create`, audited."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from fangkong.audit.models import AuditEntry
from fangkong.checkpoints.models import CheckpointType, GateScan
from fangkong.checkpoints.tests.test_verify_api import NOON, gates, token_for, verify  # noqa: F401
from fangkong.ingest.tests.support import policy_source
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(db):
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", password="x-y-z-w-1234"))
    return client


def test_an_admin_cannot_let_yellow_codes_through_a_factory_gate(client, gates, admin_client_):  # noqa: F811
    city, made = gates
    checkpoint, device_key = made["factory_gate"]
    do_publish(policy_source("cc-2022-0420-untested"), user=None, now=NOON)  # nanguan[15] yellow
    before = CheckpointType.objects.get(pk="factory_gate").requirements
    entries = AuditEntry.objects.count()
    url = reverse("admin:checkpoints_checkpointtype_change", args=["factory_gate"])
    assert admin_client_.get(url).status_code == 200  # shown, read-only
    response = admin_client_.post(
        url,
        {
            "code": "factory_gate",
            "name": "企业厂门",
            "requirements": json.dumps({"colours": ["green", "yellow", "red"]}),
        },
    )
    assert response.status_code == 403
    assert CheckpointType.objects.get(pk="factory_gate").requirements == before
    assert AuditEntry.objects.count() == entries
    with time_machine.travel(NOON + timedelta(minutes=1), tick=False):
        answer = verify(client, checkpoint, device_key, token_for(city.nanguan[15], NOON)).json()
    assert answer["outcome"] == "deny"
    assert "健康码为黄码,此处要求绿码" in answer["reasons"]


def test_the_admin_neither_adds_checkpoints_nor_deletes_gate_scans(client, gates, admin_client_):  # noqa: F811
    city, made = gates
    checkpoint, device_key = made["public_place"]
    with time_machine.travel(NOON, tick=False):
        verify(client, checkpoint, device_key, token_for(city.nanguan[0], NOON))
    scan = GateScan.objects.get(checkpoint=checkpoint)
    assert admin_client_.get(reverse("admin:checkpoints_checkpoint_add")).status_code == 403
    response = admin_client_.post(
        reverse("admin:checkpoints_checkpoint_change", args=[checkpoint.pk]),
        {"name": checkpoint.name, "type": "city_exit", "county_code": "220102"},
    )
    assert response.status_code == 403
    checkpoint.refresh_from_db()
    assert checkpoint.type_id == "public_place"
    delete = reverse("admin:checkpoints_gatescan_delete", args=[scan.pk])
    assert admin_client_.post(delete, {"post": "yes"}).status_code == 403
    assert GateScan.objects.filter(pk=scan.pk).exists()
