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
