"""Residents read a policy's title where the code names a policy, never its id (issue 10,
item 7): on the history of their code and on the requests made for them."""

from datetime import datetime

import pytest
import time_machine

from fangkong.clearances.actions import do_submit
from fangkong.clearances.models import Channel
from fangkong.ingest.tests.support import BJ, policy_source
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish
from fangkong.residents.tests.test_resident_pages import MORNING, sign_in

pytestmark = pytest.mark.django_db
POLICY = "cc-2022-0420-untested"
TITLE = "4月20日至22日未参加核酸检测人员赋黄码"


@pytest.fixture
def yellow(client, city, make_staff):
    """The rule of 21 April published; a 12345 operator opened a request for the resident."""
    do_publish(policy_source(POLICY), user=None, now=datetime(2022, 4, 23, tzinfo=BJ))
    person = Person.objects.get(id_number=city.nanguan[0])
    do_submit(person, POLICY, Channel.HOTLINE, MORNING, user=make_staff("hotline"))
    with time_machine.travel(MORNING, tick=False):
        sign_in(client, city.nanguan[0])
    return person


def test_the_history_names_the_published_policy_by_its_title(client, yellow):
    with time_machine.travel(MORNING, tick=False):
        html = client.get("/r/history/").content.decode()
    assert "发布政策" in html and TITLE in html
    assert POLICY not in html


def test_the_requests_made_for_the_resident_name_their_policy(client, yellow):
    with time_machine.travel(MORNING, tick=False):
        html = client.get("/r/").content.decode()
    requests = html.split('aria-label="解码申请"', 1)[1].split("</section>", 1)[0]
    assert TITLE in requests and "12345热线" in requests
    assert POLICY not in requests.replace(f"/r/clear/{POLICY}/", "")
