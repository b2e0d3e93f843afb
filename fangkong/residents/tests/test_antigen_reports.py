"""A resident reports antigen self-tests from their phone: each report is audited, and a few a
day is the most a phone can report (issue 10, item 16)."""

from datetime import datetime, timedelta

import pytest
import time_machine

from fangkong.audit.models import AuditEntry
from fangkong.ingest.tests.support import BJ
from fangkong.people.models import Person
from fangkong.residents.tests.test_resident_pages import sign_in
from fangkong.testing.models import AntigenTest

pytestmark = pytest.mark.django_db
MORNING = datetime(2022, 4, 24, 10, tzinfo=BJ)


def report(client, result="negative", tested_at="2022-04-24T09:30", at=MORNING):
    with time_machine.travel(at, tick=False):
        return client.post("/r/antigen/", {"result": result, "tested_at": tested_at})


@pytest.fixture
def resident(client, city):
    with time_machine.travel(MORNING - timedelta(minutes=5), tick=False):
        sign_in(client, city.nanguan[0])
    return Person.objects.get(id_number=city.nanguan[0])


def test_a_report_is_saved_and_audited_in_the_resident_s_name(client, resident):
    answer = report(client, "positive")
    assert answer.status_code == 302 and answer["Location"] == "/r/"
    saved = AntigenTest.objects.get(person=resident)
    assert saved.result == "positive" and saved.tested_at == datetime(2022, 4, 24, 9, 30, tzinfo=BJ)
    entry = AuditEntry.objects.get(action="antigen.report")
    assert entry.actor_name == f"居民#{resident.pk}" and entry.target_id == str(saved.pk)
    assert entry.detail["result"] == "positive" and entry.at == MORNING


def test_a_fourth_report_within_a_day_is_refused_with_a_clear_message(client, resident):
    for minutes in (0, 10, 20):
        assert report(client, at=MORNING + timedelta(minutes=minutes)).status_code == 302
    refused = report(client, at=MORNING + timedelta(minutes=30))
    assert refused.status_code == 400
    assert "24小时内最多上报 3 次抗原结果" in refused.content.decode()
    assert AntigenTest.objects.filter(person=resident).count() == 3
    assert AuditEntry.objects.filter(action="antigen.report").count() == 3

    next_day = MORNING + timedelta(days=1, minutes=1)
    with time_machine.travel(next_day, tick=False):
        sign_in(client, resident.id_number)  # the phone's session has ended overnight
    answer = report(client, tested_at="2022-04-25T09:00", at=next_day)
    assert answer.status_code == 302 and answer["Location"] == "/r/"
    assert AntigenTest.objects.filter(person=resident).count() == 4


def test_a_test_from_two_days_ago_is_refused_and_nothing_is_written(client, resident):
    refused = report(client, tested_at="2022-04-22T09:30")
    assert refused.status_code == 400 and "检测时间应在过去24小时内" in refused.content.decode()
    assert not AntigenTest.objects.exists()
    assert not AuditEntry.objects.filter(action="antigen.report").exists()
