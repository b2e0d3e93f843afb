"""The review desk's JSON API: the web desk's roles and districts (outside them, 404), masked
people, audited views, decisions with a reason turning the code green, CSRF on the session."""

import json
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from fangkong.accounts.models import Role
from fangkong.audit.models import AuditEntry
from fangkong.clearances.actions import do_submit
from fangkong.clearances.evidence import store
from fangkong.codes.models import PersonCode
from fangkong.ingest.tests.support import BJ, policy_source
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db
SUBMITTED = datetime(2022, 4, 24, 10, tzinfo=BJ)
POLICY = "cc-2022-0420-untested"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.fixture
def requests(city):
    do_publish(policy_source(POLICY), user=None, now=SUBMITTED - timedelta(days=1))
    nanguan = Person.objects.get(id_number=city.nanguan[0])
    chaoyang = Person.objects.get(id_number=city.chaoyang[0])
    return (
        do_submit(nanguan, POLICY, "appeal", SUBMITTED, description="采样未扫码"),
        do_submit(chaoyang, POLICY, "hotline", SUBMITTED + timedelta(hours=20)),
    )


def decide(client, pk, action, reason=""):
    return client.post(
        f"/api/clearances/{pk}/decision",
        data=json.dumps({"action": action, "reason": reason}),
        content_type="application/json",
    )


def at(hours):
    return time_machine.travel(SUBMITTED + timedelta(hours=hours), tick=False)


def test_a_reviewer_lists_only_their_district_masked(client, requests, make_staff):
    nanguan, chaoyang = requests
    client.force_login(make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    with at(30):
        listing = client.get("/api/clearances/")
        detail = client.get(f"/api/clearances/{nanguan.pk}")
    assert listing.status_code == 200 and detail.status_code == 200
    page = listing.json()
    assert page["count"] == 1 and [i["id"] for i in page["items"]] == [nanguan.pk]
    item = page["items"][0]
    person = nanguan.person
    assert item["masked_id_number"] == f"{person.id_number[:6]}********{person.id_number[-4:]}"
    assert (person.name, item["masked_name"]) == ("居民1", "**1")
    assert (item["status"], item["status_label"]) == ("submitted", "已提交")
    assert (item["age_hours"], item["overdue"]) == (30, True)
    assert item["submitted_at"] == "2022-04-24T10:00:00+08:00"
    body = detail.json()
    assert body["description"] == "采样未扫码" and body["can_decide"] is True
    assert body["steps"][0]["action_label"] == "提交"
    for text in (listing.content.decode(), detail.content.decode()):
        assert person.id_number not in text and person.phone not in text
        assert person.name not in text
    entry = AuditEntry.objects.get(action="clearance.view", target_id=str(nanguan.pk))
    assert entry.detail == {"person": person.pk, "via": "api"}


def test_another_districts_request_is_not_found_by_get_or_decision(client, requests, make_staff):
    _, chaoyang = requests
    client.force_login(make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    with at(21):
        assert client.get(f"/api/clearances/{chaoyang.pk}").status_code == 404
        assert decide(client, chaoyang.pk, "start_review").status_code == 404
        assert client.get("/api/clearances/?county=220104").json()["count"] == 0
        # A request that does not exist answers the same.
        missing = client.get("/api/clearances/987654321")
        huge = client.get("/api/clearances/99999999999999999999")
    assert missing.status_code == 404 and missing.json() == {
        "detail": "没有这个申请,或不在您负责的区县"
    }
    assert huge.status_code in (404, 422)
    chaoyang.refresh_from_db()
    assert chaoyang.status == "submitted"


def test_the_hotline_reads_the_whole_city_but_a_decision_is_refused(client, requests, make_staff):
    nanguan, chaoyang = requests
    client.force_login(make_staff(Role.HOTLINE))
    with at(21):
        page = client.get("/api/clearances/").json()
        detail = client.get(f"/api/clearances/{nanguan.pk}").json()
        refused = decide(client, nanguan.pk, "start_review")
    assert {i["id"] for i in page["items"]} == {nanguan.pk, chaoyang.pk}
    assert detail["can_decide"] is False
    assert refused.status_code == 403 and "无权审核" in refused.json()["detail"]
    nanguan.refresh_from_db()
    assert nanguan.status == "submitted"


def test_roles_outside_the_desk_are_refused(client, requests, make_staff):
    client.force_login(make_staff(Role.LAB))
    assert client.get("/api/clearances/").status_code == 403


def test_an_approval_needs_a_reason_and_turns_the_code_green(client, requests, make_staff):
    nanguan, _ = requests
    client.force_login(make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    assert PersonCode.objects.get(person=nanguan.person).colour == "yellow"
    with at(2):
        started = decide(client, nanguan.pk, "start_review")
        refused = decide(client, nanguan.pk, "approve", "  ")
    assert started.status_code == 200 and started.json()["status"] == "under_review"
    assert refused.status_code == 422
    assert refused.json() == {"detail": "通过须写明理由(居民可见)"}
    with at(3):
        approved = decide(client, nanguan.pk, "approve", "采样点登记表有此人")
        again = decide(client, nanguan.pk, "reject", "重复")
    assert approved.status_code == 200
    body = approved.json()
    assert (body["status"], body["status_label"]) == ("approved", "已通过")
    assert body["decision_reason"] == "采样点登记表有此人"
    assert body["decided_at"] == "2022-04-24T13:00:00+08:00" and body["can_decide"] is False
    assert [s["action"] for s in body["steps"]] == ["submit", "start_review", "approve"]
    assert PersonCode.objects.get(person=nanguan.person).colour == "green"
    assert again.status_code == 422 and "已通过" in again.json()["detail"]
    with at(4):
        decided = client.get("/api/clearances/?state=all").json()
        still_open = client.get("/api/clearances/").json()
    assert [i["id"] for i in decided["items"]] == [nanguan.pk] and still_open["count"] == 0


def test_an_unknown_action_or_a_reason_too_long_is_invalid(client, requests, make_staff):
    nanguan, _ = requests
    client.force_login(make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    assert decide(client, nanguan.pk, "withdraw").status_code == 422
    assert decide(client, nanguan.pk, "start_review", "x" * 501).status_code == 422
    assert decide(client, nanguan.pk, "start_review", "a\x00b").status_code == 422


def test_filters_and_pagination(client, requests, make_staff):
    nanguan, chaoyang = requests
    client.force_login(make_staff(Role.COMMAND_CENTRE))
    with at(25):
        overdue = client.get("/api/clearances/?state=overdue").json()
        hotline = client.get("/api/clearances/?channel=hotline").json()
        second = client.get("/api/clearances/?limit=1&offset=1").json()
        other_policy = client.get("/api/clearances/?policy=cc-other").json()
        too_many = client.get("/api/clearances/?limit=201")
        bad_channel = client.get("/api/clearances/?channel=fax")
    assert [i["id"] for i in overdue["items"]] == [nanguan.pk]
    assert [i["id"] for i in hotline["items"]] == [chaoyang.pk]
    assert second["count"] == 2 and [i["id"] for i in second["items"]] == [chaoyang.pk]
    assert other_policy["count"] == 0
    assert too_many.status_code == 422 and bad_channel.status_code == 422


def test_evidence_is_listed_for_those_who_may_open_it(client, requests, make_staff):
    nanguan, _ = requests
    upload = SimpleUploadedFile("小票.png", PNG, content_type="image/png")
    item = store(upload, SUBMITTED, clearance=nanguan)
    client.force_login(make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    evidence = client.get(f"/api/clearances/{nanguan.pk}").json()["evidence"]
    assert evidence == [
        {
            "id": item.pk,
            "original_name": "小票.png",
            "content_type": "image/png",
            "size": len(PNG),
            "uploaded_at": "2022-04-24T10:00:00+08:00",
            "attached_to": "clearance",
            "url": f"/clearances/evidence/{item.pk}/",
        }
    ]
    assert client.get(evidence[0]["url"]).status_code == 200
    client.force_login(make_staff(Role.HOTLINE))
    body = client.get(f"/api/clearances/{nanguan.pk}").json()
    assert (body["evidence"], body["evidence_total"]) == ([], 1)


def test_a_session_decision_without_the_csrf_token_is_refused(requests, make_staff):
    nanguan, _ = requests
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    assert client.get(f"/api/clearances/{nanguan.pk}").status_code == 200
    assert decide(client, nanguan.pk, "start_review").status_code == 403
    nanguan.refresh_from_db()
    assert nanguan.status == "submitted"
    token = "a" * 32
    client.cookies["csrftoken"] = token
    answer = client.post(
        f"/api/clearances/{nanguan.pk}/decision",
        data=json.dumps({"action": "start_review"}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert answer.status_code == 200 and answer.json()["status"] == "under_review"


def test_anonymous_requests_are_refused(client, requests):
    nanguan, _ = requests
    assert client.get("/api/clearances/").status_code == 401
    assert client.get(f"/api/clearances/{nanguan.pk}").status_code == 401
    assert decide(client, nanguan.pk, "start_review").status_code == 401


def test_the_openapi_schema_lists_the_review_routes(db, client):
    schema = client.get("/api/openapi.json").json()
    paths = schema["paths"]
    assert "get" in paths["/api/clearances/"]
    assert "get" in paths["/api/clearances/{clearance_id}"]
    decision = paths["/api/clearances/{clearance_id}/decision"]["post"]
    assert {"200", "403", "404", "422"} <= set(decision["responses"])
    assert decision["summary"] and decision["description"]
    item = schema["components"]["schemas"]["ClearanceItem"]["properties"]
    assert "masked_id_number" in item and "id_number" not in item
