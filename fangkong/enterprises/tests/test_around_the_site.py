"""The enterprises app in the rest of the site: the navigation, the home page of an enterprise
account and of gate staff, and a resident's employer on their page."""

from datetime import datetime

import pytest
import time_machine
from django.urls import reverse

from fangkong.enterprises.gate import do_create_plant_gate
from fangkong.enterprises.models import DailyReport, Employee
from fangkong.enterprises.tests.test_gate import make_enterprise
from fangkong.ingest.tests.support import BJ
from fangkong.people.models import Person

pytestmark = pytest.mark.django_db
NOON = datetime(2022, 4, 20, 12, 0, tzinfo=BJ)


def page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


@time_machine.travel(NOON, tick=False)
def test_district_staff_find_the_registry_and_the_dashboard_in_the_navigation(client, make_staff):
    html = page(client, make_staff("district_reviewer", ["220102"]), reverse("home"))
    assert reverse("enterprises:list") in html and reverse("enterprises:dashboard") in html
    lab = page(client, make_staff("lab"), reverse("home"))
    assert reverse("enterprises:list") not in lab


@time_machine.travel(NOON, tick=False)
def test_an_enterprise_account_sees_its_enterprise_its_report_of_today_and_its_gates(
    client, make_staff
):
    plant = make_enterprise()
    do_create_plant_gate(None, plant, name="1号门", now=NOON)
    liaison = make_staff("employer")
    liaison.staff.enterprise = plant
    liaison.staff.save()

    html = page(client, liaison, reverse("home"))

    assert plant.name in html and "今日日报尚未报送" in html
    assert reverse("enterprises:report", args=[plant.pk]) in html
    assert reverse("enterprises:gate", args=[plant.gates.get().checkpoint_id]) in html

    DailyReport.objects.create(
        enterprise=plant,
        day=NOON.date(),
        staff_on_duty=80,
        returning_staff=10,
        capacity_percent=60,
        recorded_at=NOON,
    )
    assert "今日日报已报送" in page(client, liaison, reverse("home"))


@time_machine.travel(NOON, tick=False)
def test_gate_staff_are_sent_to_the_plant_gate_desk_for_a_plant_gate(client, make_staff):
    plant = make_enterprise()
    gate, _ = do_create_plant_gate(None, plant, name="1号门", now=NOON)
    html = page(client, make_staff("checkpoint", ["220102"]), reverse("home"))
    assert reverse("enterprises:gate", args=[gate.checkpoint_id]) in html
    assert reverse("checkpoints:verify", args=[gate.checkpoint_id]) not in html


@time_machine.travel(NOON, tick=False)
def test_a_residents_page_names_the_registered_employer_and_flags_free_text(
    city, client, make_staff
):
    plant = make_enterprise()
    worker = Person.objects.get(id_number=city.nanguan[0])
    Employee.objects.create(
        enterprise=plant, person=worker, role="returning", since=NOON, recorded_at=NOON
    )
    stranger = Person.objects.get(id_number=city.nanguan[1])
    stranger.employer = "未登记的小作坊"
    stranger.save()
    reviewer = make_staff("district_reviewer", ["220102"])

    html = page(client, reviewer, reverse("people:person", args=[worker.pk]))
    assert reverse("enterprises:detail", args=[plant.pk]) in html and "返岗员工" in html
    other = page(client, reviewer, reverse("people:person", args=[stranger.pk]))
    assert "未登记的小作坊(未在企业名录中)" in other


@time_machine.travel(NOON, tick=False)
def test_the_district_sets_up_a_plant_gate_from_the_enterprise_page_and_sees_its_key_once(
    client, make_staff
):
    from fangkong.checkpoints.models import Checkpoint

    plant = make_enterprise()
    reviewer = make_staff("district_reviewer", ["220102"])
    client.force_login(reviewer)

    response = client.post(reverse("enterprises:gate_new", args=[plant.pk]), {"name": "2号门"})

    assert response.status_code == 200
    gate = plant.gates.get()
    key = response.content.decode().split('id="device-key">')[1].split("<")[0]
    assert Checkpoint.hash_key(key) == gate.checkpoint.device_key_hash
    assert gate.checkpoint.type_id == "factory_gate" and gate.checkpoint.county_code == "220102"
    detail = page(client, reviewer, reverse("enterprises:detail", args=[plant.pk]))
    # Listed, not opened: district reviewers do not stand at gates.
    assert gate.checkpoint.name in detail and key not in detail
    assert reverse("enterprises:gate", args=[gate.checkpoint_id]) not in detail

    blank = client.post(reverse("enterprises:gate_new", args=[plant.pk]), {"name": " "})
    assert blank.status_code == 422 and "厂门名称不能为空" in blank.content.decode()
    outsider = make_staff("district_reviewer", ["220104"])
    client.force_login(outsider)
    assert (
        client.post(reverse("enterprises:gate_new", args=[plant.pk]), {"name": "3号门"}).status_code
        == 404
    )
    assert Checkpoint.objects.filter(plant_gate__enterprise=plant).count() == 1


@time_machine.travel(NOON, tick=False)
def test_the_enterprise_page_shows_its_own_accounts_and_employer_lists(client, make_staff):
    from fangkong.clearances.models import EmployerBatch

    plant = make_enterprise()
    liaison = make_staff("employer", username="plant-liaison")
    liaison.staff.enterprise = plant
    liaison.staff.save()
    EmployerBatch.objects.create(
        employer=plant.name,
        enterprise=plant,
        policy_id="cc-2022-0420-untested",
        uploaded_by=liaison,
        uploaded_at=NOON,
        file_name="四月职工名单.xlsx",
        rows_total=12,
    )

    html = page(
        client, make_staff("command_centre"), reverse("enterprises:detail", args=[plant.pk])
    )

    assert "plant-liaison" in html and "四月职工名单.xlsx" in html and "共1份" in html
