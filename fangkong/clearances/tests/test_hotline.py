"""The 12345 code desk: an operator finds a caller (masked), reads their reasons, logs the call
and opens a clearance on their behalf, which a reviewer of the caller's district decides."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from fangkong.accounts.models import Role
from fangkong.audit.models import AuditEntry
from fangkong.clearances.actions import ClearanceError, do_review, do_submit
from fangkong.clearances.calls import ALREADY_OPEN, OPENED, do_log_call
from fangkong.clearances.models import Clearance, HotlineCall
from fangkong.engine import clearances as machine
from fangkong.engine.id_numbers import mask
from fangkong.ingest.tests.support import BJ, policy_source
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish
from fangkong.residents.session import SESSION_KEY

pytestmark = pytest.mark.django_db
POLICY = "cc-2022-0420-untested"
PUBLISHED = datetime(2022, 4, 23, tzinfo=BJ)
CALL = datetime(2022, 4, 24, 10, tzinfo=BJ)


@pytest.fixture
def caller(city):
    """Nobody sampled from 20 to 22 April: everyone in the city is yellow."""
    do_publish(policy_source(POLICY), user=None, now=PUBLISHED)
    return Person.objects.get(id_number=city.nanguan[0])


@pytest.fixture
def operator(client, make_staff):
    user = make_staff(Role.HOTLINE)
    client.force_login(user)
    return user


def desk(client, method, url, data=None):
    with time_machine.travel(CALL, tick=False):
        return getattr(client, method)(url, data or {})


def test_an_operator_finds_a_caller_by_id_number_with_the_identity_masked(client, caller, operator):
    page = desk(client, "post", "/clearances/hotline/", {"q": caller.id_number.lower()})
    text = page.content.decode()
    assert page.status_code == 200
    assert f"/clearances/hotline/{caller.pk}/" in text
    assert mask(caller.id_number) in text and "139****0001" in text
    assert caller.id_number not in text and caller.phone not in text
    assert caller.name not in text


def test_an_operator_finds_a_caller_by_phone_and_the_full_number_never_shows(
    client, caller, operator
):
    text = desk(client, "post", "/clearances/hotline/", {"q": "139 0000 0001"}).content.decode()
    assert f"/clearances/hotline/{caller.pk}/" in text
    assert "139****0001" in text and caller.phone not in text
    assert caller.id_number not in text


def test_a_query_that_is_neither_an_id_number_nor_a_phone_is_refused(client, caller, operator):
    text = desk(client, "post", "/clearances/hotline/", {"q": "居民1"}).content.decode()
    assert "请输入18位身份证号" in text
    assert not AuditEntry.objects.filter(action="person.search").exists()


def test_the_caller_page_shows_the_reason_how_it_clears_and_the_history_masked(
    client, caller, operator
):
    page = desk(client, "get", f"/clearances/hotline/{caller.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "黄码" in text and "4月20日至22日未参加核酸检测人员赋黄码" in text
    assert "解除方式" in text and "健康码变化记录" in text and "发布政策" in text
    assert f'<option value="{POLICY}">' in text
    assert mask(caller.id_number) in text and caller.id_number not in text
    assert caller.phone not in text and caller.name not in text


def test_a_logged_call_opens_a_clearance_the_resident_and_the_district_reviewer_see(
    client, caller, operator, make_staff
):
    answer = desk(
        client,
        "post",
        f"/clearances/hotline/{caller.pk}/",
        {"notes": "来电称4月21日在单位采样未扫码", "policy": POLICY},
    )
    assert answer.status_code == 302
    call = HotlineCall.objects.get(person=caller)
    clearance = call.clearance
    assert clearance.channel == "hotline" and clearance.status == machine.SUBMITTED
    assert clearance.submitted_by == operator and call.operator == operator
    assert clearance.description == "来电称4月21日在单位采样未扫码"

    page = desk(client, "get", f"/clearances/hotline/{caller.pk}/").content.decode()
    assert "来电称4月21日在单位采样未扫码" in page
    assert f"/clearances/{clearance.pk}/" in page and "已提交" in page

    reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220102"])
    client.force_login(reviewer)
    queue = desk(client, "get", "/clearances/").content.decode()
    assert f"/clearances/{clearance.pk}/" in queue and "12345热线" in queue

    client.logout()
    session = client.session
    session[SESSION_KEY] = caller.pk
    session.save()
    resident = desk(client, "get", f"/r/clear/{POLICY}/").content.decode()
    assert "我的解码申请" in resident and "12345热线" in resident and "已提交" in resident


def test_the_operator_cannot_decide_the_request_they_opened(client, caller, operator):
    call = do_log_call(caller, operator, "来电申诉", CALL, policy_id=POLICY)
    with pytest.raises(PermissionDenied):
        do_review(call.clearance_id, machine.START_REVIEW, operator, CALL)
    detail = desk(client, "get", f"/clearances/{call.clearance_id}/").content.decode()
    assert 'name="action"' not in detail
    desk(client, "post", f"/clearances/{call.clearance_id}/", {"action": machine.START_REVIEW})
    assert Clearance.objects.get(pk=call.clearance_id).status == machine.SUBMITTED


def test_a_command_centre_operator_cannot_decide_a_request_they_opened_either(caller, make_staff):
    centre = make_staff(Role.COMMAND_CENTRE)
    call = do_log_call(caller, centre, "来电申诉", CALL, policy_id=POLICY)
    with pytest.raises(ClearanceError, match="不能审核本人提交的申请"):
        do_review(call.clearance_id, machine.START_REVIEW, centre, CALL)


def test_a_call_without_notes_is_refused_and_nothing_is_opened(client, caller, operator):
    answer = desk(
        client, "post", f"/clearances/hotline/{caller.pk}/", {"notes": "  ", "policy": POLICY}
    )
    assert answer.status_code == 400 and "请填写通话记录" in answer.content.decode()
    with pytest.raises(ClearanceError, match="请填写通话记录"):
        do_log_call(caller, operator, "", CALL, policy_id=POLICY)
    assert not HotlineCall.objects.exists() and not Clearance.objects.exists()


def test_a_reason_the_caller_does_not_hold_cannot_be_chosen(client, caller, operator):
    answer = desk(
        client,
        "post",
        f"/clearances/hotline/{caller.pk}/",
        {"notes": "来电咨询红码", "policy": "std-positive-red"},
    )
    text = answer.content.decode()
    assert answer.status_code == 400 and "只能为来电人当前被赋码的原因申请解码" in text
    assert "来电咨询红码" in text  # the notes are kept for the operator to resend
    with pytest.raises(ClearanceError, match="无需申请"):
        do_log_call(caller, operator, "来电咨询红码", CALL, policy_id="std-positive-red")
    assert not HotlineCall.objects.exists() and not Clearance.objects.exists()


def test_a_call_without_a_request_is_logged_alone(client, caller, operator):
    answer = desk(
        client, "post", f"/clearances/hotline/{caller.pk}/", {"notes": "咨询黄码原因", "policy": ""}
    )
    assert answer.status_code == 302
    call = HotlineCall.objects.get()
    assert call.clearance is None and call.at == CALL and not Clearance.objects.exists()


def test_a_second_call_about_an_open_request_is_logged_and_linked_to_it(caller, operator):
    appeal = do_submit(caller, POLICY, "appeal", CALL - timedelta(hours=3))
    call = do_log_call(caller, operator, "催办", CALL, policy_id=POLICY)
    assert call.outcome == ALREADY_OPEN and call.clearance == appeal
    again = do_log_call(caller, operator, "再次催办", CALL + timedelta(hours=1), policy_id=POLICY)
    assert again.clearance == appeal and Clearance.objects.count() == 1
    first = do_log_call(
        Person.objects.exclude(pk=caller.pk).filter(county_code="220102").first(),
        operator,
        "申请解码",
        CALL,
        policy_id=POLICY,
    )
    assert first.outcome == OPENED


def test_the_already_open_request_is_reported_on_the_desk(client, caller, operator):
    appeal = do_submit(caller, POLICY, "appeal", CALL - timedelta(hours=3))
    answer = desk(
        client,
        "post",
        f"/clearances/hotline/{caller.pk}/",
        {"notes": "催办", "policy": POLICY},
    )
    assert answer.status_code == 302
    with time_machine.travel(CALL, tick=False):
        page = client.get(answer["Location"]).content.decode()
    assert f"已有进行中的解码申请 #{appeal.pk}" in page
    assert HotlineCall.objects.get().clearance == appeal


@pytest.mark.parametrize("role", [Role.DISTRICT_REVIEWER, Role.EMPLOYER])
def test_a_district_reviewer_or_an_employer_cannot_open_the_desk(client, caller, make_staff, role):
    client.force_login(make_staff(role, ["220102"]))
    assert desk(client, "get", "/clearances/hotline/").status_code == 403
    assert desk(client, "post", "/clearances/hotline/", {"q": caller.id_number}).status_code == 403
    assert desk(client, "get", f"/clearances/hotline/{caller.pk}/").status_code == 403
    posted = desk(client, "post", f"/clearances/hotline/{caller.pk}/", {"notes": "x"})
    assert posted.status_code == 403
    with pytest.raises(PermissionDenied):
        do_log_call(caller, make_staff(role, ["220102"]), "来电", CALL)
    assert not HotlineCall.objects.exists()
    assert not AuditEntry.objects.filter(action__in=["person.search", "person.view"]).exists()


def test_every_search_view_and_call_is_in_the_audit_log(client, caller, operator):
    desk(client, "post", "/clearances/hotline/", {"q": caller.id_number})
    desk(client, "post", "/clearances/hotline/", {"q": caller.phone})
    desk(client, "get", f"/clearances/hotline/{caller.pk}/")
    desk(client, "post", f"/clearances/hotline/{caller.pk}/", {"notes": "来电", "policy": POLICY})

    searches = AuditEntry.objects.filter(action="person.search", actor=operator).order_by("id")
    assert [e.detail["query_kind"] for e in searches] == ["id_number", "phone"]
    assert [e.detail["query"] for e in searches] == [mask(caller.id_number), "139****0001"]
    assert all(e.detail["results"] == 1 for e in searches)
    views = AuditEntry.objects.filter(
        action="person.view", actor=operator, target_type="person", target_id=str(caller.pk)
    )
    assert views.count() == 1
    call = HotlineCall.objects.get()
    logged = AuditEntry.objects.get(action="hotline.call", target_id=str(caller.pk))
    assert logged.detail == {
        "call": call.pk,
        "policy": POLICY,
        "clearance": call.clearance_id,
        "outcome": OPENED,
    }
    assert logged.at == CALL
    assert AuditEntry.objects.filter(action="clearance.submit", actor=operator).exists()
    assert not AuditEntry.objects.filter(detail__icontains=caller.id_number).exists()
