"""A closed-loop plant on the morning of 20 April 2022 (PCR every 3 days, antigen daily): one
worker skipped the antigen test on the 19th, another has no PCR since the 16th, a third left the
plant on the 19th for a reason that breaks the loop — the plant's page names the people and
raises the alert, and the district's overview shows the plant's rate."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from fangkong.engine.id_numbers import mask
from fangkong.enterprises.gate import do_create_plant_gate, do_register_exit, loop_compliance
from fangkong.enterprises.models import Employee
from fangkong.enterprises.tests.test_gate import make_enterprise, person
from fangkong.ingest.tests.support import BJ, sample
from fangkong.residents.actions import do_report_antigen

pytestmark = pytest.mark.django_db
APRIL_20 = date(2022, 4, 20)
CHECKED = datetime(2022, 4, 20, 8, tzinfo=BJ)


def at(day: int, hour: int) -> datetime:
    return datetime(2022, 4, day, hour, tzinfo=BJ)


def antigen(id_number: str, when: datetime) -> None:
    do_report_antigen(person(id_number), "negative", when, now=when)


@pytest.fixture
def loop(city):
    enterprise = make_enterprise(name="一汽-大众长春工厂")
    gate, _ = do_create_plant_gate(None, enterprise, name="2号门", now=at(10, 8))
    diligent, skipped_antigen, skipped_pcr, newcomer = city.nanguan[:4]
    for id_number in (diligent, skipped_antigen, skipped_pcr):
        Employee.objects.create(
            enterprise=enterprise,
            person=person(id_number),
            role="closed_loop",
            since=at(10, 8),
            recorded_at=at(10, 8),
        )
    Employee.objects.create(  # joined yesterday: nothing due yet
        enterprise=enterprise,
        person=person(newcomer),
        role="closed_loop",
        since=at(19, 12),
        recorded_at=at(19, 12),
    )
    sample([diligent, skipped_antigen], "T-0418-L", "10", at(18, 9))
    sample([skipped_pcr], "T-0416-L", "10", at(16, 9))
    antigen(diligent, at(19, 7))
    antigen(skipped_antigen, at(18, 7))
    antigen(skipped_pcr, at(19, 7))
    do_register_exit(gate, now=at(19, 18), purpose="other", note="回家取物品", id_number=diligent)
    do_register_exit(gate, now=at(19, 12), purpose="supplies", id_number=skipped_pcr)
    return city, enterprise


def test_the_morning_check_names_who_missed_which_test(loop):
    city, enterprise = loop
    compliance, rows = loop_compliance(enterprise, APRIL_20, CHECKED)
    assert compliance.members == 4
    assert compliance.rate == 0.5
    assert [(m.id_number, m.what) for m in rows] == [
        (mask(city.nanguan[1]), "抗原"),
        (mask(city.nanguan[2]), "核酸"),
    ]
    assert rows.missed[0].last_antigen_at == at(18, 7)
    assert [x.id_number for x in rows.breaking_exits] == [mask(city.nanguan[0])]
    assert rows.alert is True


def test_a_test_reported_later_does_not_change_what_the_morning_showed(loop):
    city, enterprise = loop
    do_report_antigen(person(city.nanguan[1]), "negative", at(19, 20), now=at(20, 9))
    before, _ = loop_compliance(enterprise, APRIL_20, CHECKED)
    after, _ = loop_compliance(enterprise, APRIL_20, at(20, 10))
    assert before.rate == 0.5
    assert after.rate == 0.75


def test_the_plant_page_shows_the_people_and_an_alert(loop, make_staff):
    city, enterprise = loop
    liaison = make_staff("employer")
    liaison.staff.enterprise = enterprise
    liaison.staff.save()
    client = Client()
    client.force_login(liaison)
    with time_machine.travel(CHECKED + timedelta(minutes=30), tick=False):
        page = client.get(f"/enterprises/{enterprise.pk}/loop/?day=2022-04-20")
        overview = client.get("/enterprises/loop/?day=2022-04-20")
    html = page.content.decode()
    assert page.status_code == 200
    assert "预警:2人漏检;前一日1人次破环出厂" in html
    assert "50.0%" in html
    assert mask(city.nanguan[1]) in html and mask(city.nanguan[2]) in html
    assert city.nanguan[1] not in html  # masked
    assert "回家取物品" in html
    assert overview.status_code == 200
    assert "一汽-大众长春工厂" in overview.content.decode()
    assert "50.0%" in overview.content.decode()


def test_the_next_morning_after_everyone_tested_there_is_no_alert(loop, make_staff):
    city, enterprise = loop
    for id_number in city.nanguan[:4]:
        antigen(id_number, at(20, 7))
    sample([city.nanguan[2]], "T-0420-L", "1", at(20, 9))
    client = Client()
    client.force_login(make_staff("district_reviewer", ["220102"]))
    with time_machine.travel(at(21, 8), tick=False):
        page = client.get(f"/enterprises/{enterprise.pk}/loop/?day=2022-04-21").content.decode()
        before = client.get(f"/enterprises/{enterprise.pk}/loop/?day=2022-04-20").content.decode()
    assert 'id="loop-alert"' not in page
    assert "100.0%" in page and "没有漏检人员" in page
    assert 'id="loop-alert"' in before  # the 20th still shows what its morning showed


def test_another_districts_plant_is_not_shown(loop, make_staff):
    _, enterprise = loop
    client = Client()
    client.force_login(make_staff("district_reviewer", ["220104"]))
    with time_machine.travel(CHECKED, tick=False):
        assert client.get(f"/enterprises/{enterprise.pk}/loop/").status_code == 404
        overview = client.get("/enterprises/loop/").content.decode()
    assert "一汽-大众长春工厂" not in overview
