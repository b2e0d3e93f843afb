"""The vehicle-pass pages and JSON API: the enterprise applies (errors name the field), the queue
shows each application's clock with overdue ones marked, an officer decides and issues a batch,
the pass page shows the QR; scoping gives 404 outside the district; every POST needs CSRF."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from fangkong.accounts.models import Role
from fangkong.passes.models import VehiclePass
from fangkong.passes.tests.support import MORNING, apply, enterprise_account, make_enterprise

pytestmark = pytest.mark.django_db


def signed_in(user, **more) -> Client:
    client = Client(**more)
    client.force_login(user)
    return client


@pytest.fixture
def desk(city, make_staff):
    enterprise = make_enterprise()
    return {
        "enterprise": enterprise,
        "account": enterprise_account(make_staff, enterprise),
        "officer": make_staff(Role.PASS_OFFICER, ["220102"]),
        "city": city,
    }


FORM = {
    "plate": "吉A54321",
    "vehicle_type": "cold_chain",
    "driver_phone": "13904310009",
    "origin": "南关区",
    "origin_code": "220102",
    "destination": "朝阳区",
    "destination_code": "220104",
    "cargo": "冷冻肉品",
    "valid_from": "2022-04-20T08:00",
    "valid_until": "2022-04-27T08:00",
}


def test_applying_on_the_page_and_deciding_and_issuing(desk):
    with time_machine.travel(MORNING, tick=False):
        client = signed_in(desk["account"])
        form = {
            **FORM,
            "enterprise": desk["enterprise"].pk,
            "driver_id_number": desk["city"].nanguan[2],
        }
        bad = client.post(reverse("passes:apply"), {**form, "plate": "A123"})
        assert "车牌号:“A123”格式不正确" in bad.content.decode()
        answer = client.post(reverse("passes:apply"), form)
        vp = VehiclePass.objects.get()
        assert answer.status_code == 302 and answer.url == reverse("passes:detail", args=[vp.pk])
        assert vp.valid_from == MORNING and vp.vehicle_type == "cold_chain"
    with time_machine.travel(MORNING + timedelta(hours=25), tick=False):
        officer = signed_in(desk["officer"])
        page = officer.get(reverse("passes:queue")).content.decode()
        assert 'data-overdue="true"' in page and "超时 1天1小时00分" in page
        assert desk["city"].nanguan[2] not in page  # masked
        officer.post(reverse("passes:decide", args=[vp.pk]), {"decision": "approve", "reason": ""})
        assert (
            officer.get(reverse("passes:queue")).content.decode().count('data-overdue="true"') == 0
        )
        officer.post(reverse("passes:batches"))
        page = officer.get(reverse("passes:detail", args=[vp.pk])).content.decode()
        assert "吉车证000001" in page and "<svg" in page and "已发放" in page
        figures = officer.get(reverse("passes:stats")).content.decode()
        assert "25.0 小时" in figures


def test_outside_the_district_a_pass_is_not_found(desk, make_staff):
    vp = apply(desk["account"], desk["enterprise"], desk["city"].nanguan[0], MORNING)
    elsewhere = signed_in(make_staff(Role.PASS_OFFICER, ["220104"]))
    assert elsewhere.get(reverse("passes:detail", args=[vp.pk])).status_code == 404
    assert (
        elsewhere.post(reverse("passes:decide", args=[vp.pk]), {"decision": "approve"}).status_code
        == 404
    )
    resident_like = signed_in(make_staff(Role.SAMPLER, ["220102"]))
    assert resident_like.get(reverse("passes:queue")).status_code == 403


def test_the_api_applies_decides_issues_revokes_and_counts(desk):
    with time_machine.travel(MORNING, tick=False):
        client = signed_in(desk["account"])
        body = {
            **FORM,
            "enterprise": desk["enterprise"].pk,
            "driver_id_number": desk["city"].nanguan[3],
        }
        bad = client.post(
            "/api/passes/apply", {**body, "driver_phone": "12"}, content_type="application/json"
        )
        assert bad.status_code == 422 and "驾驶员电话" in bad.json()["detail"]
        made = client.post("/api/passes/apply", body, content_type="application/json")
        assert made.status_code == 200 and made.json()["status"] == "pending"
        pid = made.json()["id"]
    with time_machine.travel(MORNING + timedelta(hours=3), tick=False):
        officer = signed_in(desk["officer"])
        assert (
            client.post(
                f"/api/passes/{pid}/decide",
                {"decision": "approve"},
                content_type="application/json",
            ).status_code
            == 403
        )
        decided = officer.post(
            f"/api/passes/{pid}/decide", {"decision": "approve"}, content_type="application/json"
        )
        assert decided.json()["handling_hours"] == 3.0
        batch = officer.post("/api/passes/batches")
        assert (
            batch.status_code == 200 and batch.json()["issued"] == 1 and batch.json()["number"] == 1
        )
        revoked = officer.post(
            f"/api/passes/{pid}/revoke", {"reason": "车辆故障停运"}, content_type="application/json"
        )
        assert revoked.json()["status"] == "revoked" and revoked.json()["token"] == ""
        assert officer.get("/api/passes/revoked").json()["revoked"] == [pid]
        shown = officer.get("/api/passes/stats").json()
        assert (shown["applied"], shown["issued"], shown["revoked"]) == (1, 1, 1)
        assert shown["batches"] == [
            {"number": 1, "issued": 1, "closed_at": shown["batches"][0]["closed_at"]}
        ]
        assert client.get("/api/passes/stats").status_code == 403


def test_posts_need_csrf(desk):
    client = signed_in(desk["officer"], enforce_csrf_checks=True)
    assert client.post(reverse("passes:batches")).status_code == 403
    assert client.post("/api/passes/batches").status_code == 403
    assert json.loads(client.get("/api/passes/revoked").content)["revoked"] == []
