"""The review desk: a reviewer's own districts only, the overdue ones marked, a decision with a
reason turning the code green."""

from datetime import datetime, timedelta

import pytest
import time_machine

from fangkong.accounts.models import Role
from fangkong.audit.models import AuditEntry
from fangkong.clearances.actions import ClearanceError, do_submit
from fangkong.codes.models import PersonCode
from fangkong.ingest.tests.support import BJ, policy_source
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db
SUBMITTED = datetime(2022, 4, 24, 10, tzinfo=BJ)


@pytest.fixture
def requests(city):
    do_publish(policy_source("cc-2022-0420-untested"), user=None, now=SUBMITTED - timedelta(days=1))
    nanguan = Person.objects.get(id_number=city.nanguan[0])
    chaoyang = Person.objects.get(id_number=city.chaoyang[0])
    return (
        do_submit(nanguan, "cc-2022-0420-untested", "appeal", SUBMITTED, description="采样未扫码"),
        do_submit(chaoyang, "cc-2022-0420-untested", "hotline", SUBMITTED + timedelta(hours=20)),
    )


def test_a_reviewer_sees_only_their_district_and_the_overdue_marked(client, requests, make_staff):
    nanguan, chaoyang = requests
    client.force_login(make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    with time_machine.travel(SUBMITTED + timedelta(hours=30), tick=False):
        page = client.get("/clearances/").content.decode()
        other = client.get(f"/clearances/{chaoyang.pk}/")
    assert f"/clearances/{nanguan.pk}/" in page and f"/clearances/{chaoyang.pk}/" not in page
    assert 'data-overdue="true"' in page and "30小时" in page
    assert other.status_code == 404


def test_a_decision_needs_a_reason_and_an_approval_turns_the_code_green(
    client, requests, make_staff
):
    nanguan, _ = requests
    client.force_login(make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    url = f"/clearances/{nanguan.pk}/"
    with time_machine.travel(SUBMITTED + timedelta(hours=2), tick=False):
        client.post(url, {"action": "start_review"})
        refused = client.post(url, {"action": "approve", "reason": ""}, follow=True)
        assert "须写明理由" in refused.content.decode()
        client.post(url, {"action": "approve", "reason": "采样点登记表有此人"})
    assert not PersonCode.objects.filter(person=nanguan.person, colour="yellow").exists()
    assert AuditEntry.objects.filter(action="clearance.view", target_id=str(nanguan.pk)).exists()


def test_the_hotline_reads_the_whole_city_but_cannot_decide(client, requests, make_staff):
    nanguan, chaoyang = requests
    client.force_login(make_staff(Role.HOTLINE))
    with time_machine.travel(SUBMITTED + timedelta(hours=21), tick=False):
        page = client.get("/clearances/").content.decode()
        detail = client.get(f"/clearances/{nanguan.pk}/").content.decode()
        client.post(f"/clearances/{nanguan.pk}/", {"action": "start_review"})
    assert f"/clearances/{chaoyang.pk}/" in page and 'name="action"' not in detail
    nanguan.refresh_from_db()
    assert nanguan.status == "submitted"


def test_the_caller_follows_a_hotline_request_on_their_own_page(client, requests, make_staff):
    from fangkong.residents.session import SESSION_KEY

    _, chaoyang = requests
    reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220104"])
    from fangkong.clearances.actions import do_review

    later = SUBMITTED + timedelta(hours=22)
    do_review(chaoyang.pk, "start_review", reviewer, later)
    # Nobody could answer a hotline request's call for more material: only appeals get one.
    with pytest.raises(ClearanceError, match="只有线上申诉可以要求补充材料"):
        do_review(chaoyang.pk, "request_evidence", reviewer, later, "请提供采样时的小票照片")
    do_review(chaoyang.pk, "reject", reviewer, later, "采样点无登记,请线上申诉并上传采样小票照片")
    session = client.session
    session[SESSION_KEY] = chaoyang.person_id
    session.save()
    with time_machine.travel(later, tick=False):
        page = client.get("/r/clear/cc-2022-0420-untested/").content.decode()
    assert "未通过" in page and "12345热线" in page and "请线上申诉并上传采样小票照片" in page
    # The request is closed: the resident may now appeal online.
    assert 'id="appeal-form"' in page


def test_the_queue_filters_by_how_long_a_request_has_waited(client, requests, make_staff):
    nanguan, chaoyang = requests
    client.force_login(make_staff(Role.COMMAND_CENTRE))
    with time_machine.travel(SUBMITTED + timedelta(hours=30), tick=False):
        page = client.get("/clearances/?waited=20").content.decode()
    # 南关 waited 30 hours, 朝阳 10 (submitted 20 hours later).
    assert f"/clearances/{nanguan.pk}/" in page and f"/clearances/{chaoyang.pk}/" not in page


TITLE = "4月20日至22日未参加核酸检测人员赋黄码"


def desk(client, user, url, data=None, hours=2):
    client.force_login(user)
    with time_machine.travel(SUBMITTED + timedelta(hours=hours), tick=False):
        reply = client.post(url, data) if data is not None else client.get(url)
    return reply.content.decode()


def test_a_submitted_request_is_approved_at_once_its_review_starting_with_the_decision(
    client, requests, make_staff
):
    nanguan, _ = requests
    url = f"/clearances/{nanguan.pk}/"
    reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220102"])
    form = desk(client, reviewer, url)
    assert 'value="approve"' in form and 'value="reject"' in form
    desk(client, reviewer, url, {"action": "approve", "reason": "采样点登记表有此人"})
    nanguan.refresh_from_db()
    assert nanguan.status == "approved" and nanguan.decision_reason == "采样点登记表有此人"
    assert [s["action"] for s in nanguan.steps] == ["submit", "start_review", "approve"]
    logged = AuditEntry.objects.filter(target_id=str(nanguan.pk)).values_list("action", flat=True)
    assert {"clearance.start_review", "clearance.approve"} <= set(logged)
    assert not PersonCode.objects.filter(person=nanguan.person, colour="yellow").exists()


def test_a_refused_decision_comes_back_with_the_reason_the_reviewer_typed(
    client, requests, make_staff
):
    _, chaoyang = requests  # a hotline request: nobody could answer a call for more material
    url = f"/clearances/{chaoyang.pk}/"
    why = "请提供采样时的小票照片,并说明采样点名称"
    reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220104"])
    page = desk(client, reviewer, url, {"action": "request_evidence", "reason": why}, hours=21)
    assert "只有线上申诉可以要求补充材料" in page
    assert f">{why}</textarea>" in page
    page = desk(client, reviewer, url, {"action": "", "reason": why}, hours=21)
    assert "请选择审核操作" in page and f">{why}</textarea>" in page
    chaoyang.refresh_from_db()
    assert chaoyang.status == "submitted"


def test_a_reason_typed_for_a_request_decided_meanwhile_is_shown_to_copy(
    client, requests, make_staff
):
    from fangkong.clearances.actions import do_review

    nanguan, _ = requests
    first = make_staff(Role.DISTRICT_REVIEWER, ["220102"])
    do_review(nanguan.pk, "approve", first, SUBMITTED + timedelta(hours=1), "采样点登记表有此人")
    why = "无采样记录,请上传采样小票"
    page = desk(
        client,
        make_staff(Role.DISTRICT_REVIEWER, ["220102"]),
        f"/clearances/{nanguan.pk}/",
        {"action": "reject", "reason": why},
    )
    assert "申请已通过,不能再不通过" in page
    assert 'id="decide"' not in page and 'id="unsent"' in page and why in page


def test_only_the_steps_a_request_can_take_are_offered(client, requests, make_staff):
    from fangkong.clearances.actions import do_review

    nanguan, chaoyang = requests
    hotline = desk(client, make_staff(Role.COMMAND_CENTRE), f"/clearances/{chaoyang.pk}/", hours=21)
    assert 'value="start_review"' in hotline and 'value="request_evidence"' not in hotline
    reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220102"])
    later = SUBMITTED + timedelta(hours=1)
    do_review(nanguan.pk, "request_evidence", reviewer, later, "请上传采样小票照片")
    waiting = desk(client, reviewer, f"/clearances/{nanguan.pk}/")
    assert 'id="decide"' not in waiting and "等待申请人补充材料" in waiting


def test_reviewers_read_the_policys_title_before_its_id(client, requests, make_staff):
    nanguan, _ = requests
    reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220102"])
    for page in (
        desk(client, reviewer, "/clearances/"),
        desk(client, reviewer, f"/clearances/{nanguan.pk}/"),
    ):
        policy = (
            '<small class="muted policy-id"><span class="mono">cc-2022-0420-untested</span>'
            " 第1版</small>"
        )
        assert f"{TITLE} {policy}" in page
    queue = desk(client, reviewer, "/clearances/?policy=cc-2022-0420-untested")
    assert f'<option value="cc-2022-0420-untested" selected>{TITLE}</option>' in queue
    assert f"/clearances/{nanguan.pk}/" in queue


def test_a_reason_too_long_to_keep_is_refused_and_given_back(client, requests, make_staff):
    nanguan, _ = requests
    why = "采样点登记表有此人," * 60
    page = desk(
        client,
        make_staff(Role.DISTRICT_REVIEWER, ["220102"]),
        f"/clearances/{nanguan.pk}/",
        {"action": "approve", "reason": why},
    )
    assert "理由最多 500 字" in page and f">{why}</textarea>" in page
    nanguan.refresh_from_db()
    assert nanguan.status == "submitted"
