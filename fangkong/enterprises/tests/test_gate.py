"""A plant gate in 南关区 on 20 April 2022: returning workers checked and registered once
(一人一登记), new returnees in the buffer zone until a negative PCR after entry, exits that break
a closed loop, vehicles disinfected once per entry (一车一消杀), and who may use the gate."""

import json
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from stdnum.cn import uscc

from fangkong.audit.models import AuditEntry
from fangkong.checkpoints.tests.support import token_for
from fangkong.enterprises.gate import (
    GateError,
    buffer_zone,
    do_create_plant_gate,
    do_record_vehicle,
    do_register_entry,
    do_register_exit,
)
from fangkong.enterprises.models import (
    DailyReport,
    Employee,
    Enterprise,
    GateEntry,
    VehicleDisinfection,
)
from fangkong.ingest.tests.support import BJ, community, report_result, sample
from fangkong.people.models import Person
from fangkong.places.models import CommunityZone, Division
from fangkong.testing.models import AntigenTest

pytestmark = pytest.mark.django_db
MORNING = datetime(2022, 4, 20, 8, 0, tzinfo=BJ)


def make_uscc(body17: str) -> str:
    return body17 + uscc.calc_check_digit(body17)


def make_enterprise(name="一汽解放长春工厂", county="220102", serial=1, **more) -> Enterprise:
    return Enterprise.objects.create(
        uscc=make_uscc(f"91{county}{serial:09d}"),
        name=name,
        county_code=county,
        community=community(county),
        industry="automotive",
        above_scale=True,
        normal_staff=1000,
        recorded_at=datetime(2022, 4, 1, tzinfo=BJ),
        **more,
    )


def person(id_number: str) -> Person:
    return Person.objects.get(id_number=id_number)


def negative_pcr(ids, sampled_at, tube, reported_after=timedelta(hours=8)):
    sample(ids, tube, "10", sampled_at)
    report_result(tube, "negative", sampled_at + reported_after)


def enter(gate, id_number, now, **more):
    facts = {"antigen": "negative", "temperature": Decimal("36.5"), "mask": True}
    return do_register_entry(gate, now=now, id_number=id_number, **{**facts, **more})


@pytest.fixture
def plant(city):
    """An automotive plant in 南关区 with one gate; residents 0–9 sampled negative on the 19th
    at 09:00 (result that evening), residents 10–14 on the 18th at 07:00."""
    enterprise = make_enterprise()
    gate, device_key = do_create_plant_gate(None, enterprise, name="1号门", now=MORNING)
    negative_pcr(city.nanguan[:10], datetime(2022, 4, 19, 9, tzinfo=BJ), "T-0419-1")
    negative_pcr(city.nanguan[10:15], datetime(2022, 4, 18, 7, tzinfo=BJ), "T-0418-1")
    return city, enterprise, gate, device_key


def post(client, path, body, key=None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post(
        path, data=json.dumps(body, default=str), content_type="application/json", headers=headers
    )


def entry_body(token, **more):
    return {"token": token, "antigen": "negative", "temperature": "36.6", "mask": True, **more}


def test_the_gate_is_a_factory_gate_checkpoint_in_the_enterprises_district(plant):
    _, enterprise, gate, device_key = plant
    assert gate.checkpoint.type_id == "factory_gate"
    assert gate.checkpoint.county_code == "220102"
    assert device_key.startswith("fkd_")
    assert AuditEntry.objects.filter(action="enterprise.plant_gate.create").count() == 1


def test_a_worker_without_a_48_hour_negative_is_refused_with_the_reason(client, plant):
    city, _, gate, device_key = plant
    now = datetime(2022, 4, 20, 8, 30, tzinfo=BJ)  # the 18th 07:00 sampling is 49.5 h old
    with time_machine.travel(now, tick=False):
        token = token_for(city.nanguan[10], now)
        answer = post(
            client, f"/api/plant-gates/{gate.checkpoint_id}/entries", entry_body(token), device_key
        )
    assert answer.status_code == 200
    verdict = answer.json()
    assert verdict["admitted"] is False
    assert verdict["reasons"] == [
        "无48小时内核酸阴性结果(最近一次阴性采样于04-18 07:00,已过49.5小时)"
    ]
    assert verdict["name"].startswith("*") and city.nanguan[10] not in answer.content.decode()
    refused = GateEntry.objects.get(pk=verdict["entry_id"])
    assert refused.admitted is False and refused.person_id == person(city.nanguan[10]).pk
    assert AuditEntry.objects.filter(action="enterprise.gate.refuse", target_id=str(refused.pk))


def test_a_worker_with_it_is_registered_once_even_if_scanned_twice(client, plant):
    city, _, gate, device_key = plant
    now = datetime(2022, 4, 20, 8, 30, tzinfo=BJ)
    path = f"/api/plant-gates/{gate.checkpoint_id}/entries"
    scan_id = str(uuid.uuid4())
    with time_machine.travel(now, tick=False):
        token = token_for(city.nanguan[0], now)
        first = post(client, path, entry_body(token, scan_id=scan_id), device_key).json()
        resent = post(client, path, entry_body(token, scan_id=scan_id), device_key).json()
    with time_machine.travel(now + timedelta(minutes=2), tick=False):
        token = token_for(city.nanguan[0], now + timedelta(minutes=2))
        rescanned = post(client, path, entry_body(token), device_key).json()
    assert first["admitted"] is True and first["reasons"] == []
    assert first["repeated"] is False and first["new_returnee"] is True
    assert resent["entry_id"] == rescanned["entry_id"] == first["entry_id"]
    assert resent["repeated"] is True and rescanned["repeated"] is True
    assert GateEntry.objects.filter(person=person(city.nanguan[0])).count() == 1
    # the gate's antigen test counts like any other
    assert (
        AntigenTest.objects.filter(person=person(city.nanguan[0]), result="negative").count() == 1
    )


def test_after_leaving_the_next_entry_is_a_new_registration_but_not_a_new_returnee(plant):
    city, _, gate, _ = plant
    first = enter(gate, city.nanguan[1], datetime(2022, 4, 20, 8, tzinfo=BJ))
    do_register_exit(
        gate, now=datetime(2022, 4, 20, 12, tzinfo=BJ), purpose="testing", id_number=city.nanguan[1]
    )
    again = enter(gate, city.nanguan[1], datetime(2022, 4, 20, 13, tzinfo=BJ))
    assert again.entry.pk != first.entry.pk
    assert again.repeated is False and again.new_returnee is False


def test_a_worker_from_a_lockdown_community_is_refused(plant):
    city, _, gate, _ = plant
    home = person(city.nanguan[2]).community
    CommunityZone.objects.create(
        community=home,
        level="lockdown",
        start_at=datetime(2022, 4, 10, tzinfo=BJ),
        recorded_at=datetime(2022, 4, 10, tzinfo=BJ),
    )
    verdict = enter(gate, city.nanguan[2], MORNING)
    assert verdict.admitted is False
    assert verdict.reasons == [f"来自风险区({home.name},封控区),严禁返厂"]
    assert verdict.entry.origin_level == "lockdown"
    # the same worker coming from elsewhere, a community with no zone, is admitted
    elsewhere = Division.objects.filter(level=5, county_code="220104").first()
    admitted = enter(gate, city.nanguan[2], MORNING, origin_code=elsewhere.code)
    assert admitted.admitted is True and admitted.origin_name == elsewhere.name


def test_a_positive_antigen_at_the_gate_refuses_is_recorded_and_reported(plant):
    city, _, gate, _ = plant
    verdict = enter(gate, city.nanguan[3], MORNING, antigen="positive")
    assert verdict.admitted is False
    assert verdict.reasons == ["入厂抗原检测阳性:不得入厂,须立即隔离并报告疾控"]
    test = AntigenTest.objects.get(person=person(city.nanguan[3]))
    assert test.result == "positive" and test.tested_at == MORNING
    reported = AuditEntry.objects.get(action="enterprise.gate.antigen_positive")
    assert reported.target_id == str(verdict.entry.pk)


def test_fever_no_mask_and_invalid_antigen_are_all_named(plant):
    city, _, gate, _ = plant
    verdict = enter(
        gate, city.nanguan[4], MORNING, temperature="38.1", mask=False, antigen="invalid"
    )
    assert verdict.reasons == [
        "入厂抗原检测结果无效,须重新检测",
        "体温38.1℃,达到或超过37.3℃",
        "未规范佩戴口罩",
    ]
    assert not AntigenTest.objects.filter(person=person(city.nanguan[4])).exists()


def test_bad_input_names_the_field_and_the_reason(plant):
    city, _, gate, _ = plant
    with pytest.raises(GateError, match="身份证号校验位错误"):
        enter(gate, city.nanguan[5][:17] + ("0" if city.nanguan[5][17] != "0" else "1"), MORNING)
    with pytest.raises(GateError, match="体温45.0℃不在"):
        enter(gate, city.nanguan[5], MORNING, temperature="45")
    with pytest.raises(GateError, match="健康码无效"):
        do_register_entry(
            gate,
            now=MORNING,
            token="not-a-token",
            antigen="negative",
            temperature="36.5",
            mask=True,
        )
    with pytest.raises(GateError, match="来源社区代码999999不存在"):
        enter(gate, city.nanguan[5], MORNING, origin_code="999999")
    assert not GateEntry.objects.exists()


def test_a_new_returnee_stays_in_the_buffer_zone_until_a_negative_pcr_after_entry(plant):
    city, enterprise, gate, _ = plant
    entered = datetime(2022, 4, 20, 8, tzinfo=BJ)
    enter(gate, city.nanguan[6], entered)
    enter(gate, city.nanguan[7], entered)
    assert [r.state for r in buffer_zone(enterprise, entered + timedelta(hours=1))] == [
        "入厂后尚未采样",
        "入厂后尚未采样",
    ]
    sampled = datetime(2022, 4, 20, 10, tzinfo=BJ)
    sample([city.nanguan[6]], "T-0420-6", "1", sampled)
    sample([city.nanguan[7]], "T-0420-7", "1", sampled)
    waiting = buffer_zone(enterprise, datetime(2022, 4, 20, 12, tzinfo=BJ))
    assert [r.state for r in waiting] == ["已于04-20 10:00采样,待出结果"] * 2
    assert waiting[0].hours == 4.0 and waiting[0].name.startswith("*")
    report_result("T-0420-6", "negative", datetime(2022, 4, 20, 20, tzinfo=BJ))
    report_result("T-0420-7", "positive", datetime(2022, 4, 20, 20, tzinfo=BJ))
    before = buffer_zone(enterprise, datetime(2022, 4, 20, 20, tzinfo=BJ))  # not yet recorded
    assert len(before) == 2
    after = buffer_zone(enterprise, datetime(2022, 4, 20, 21, tzinfo=BJ))
    assert [(r.person_id, r.positive) for r in after] == [(person(city.nanguan[7]).pk, True)]
    assert after[0].state.startswith("核酸阳性")


def test_the_negative_before_entry_does_not_release_from_the_buffer(plant):
    city, enterprise, gate, _ = plant
    enter(gate, city.nanguan[8], MORNING)  # negative sampled the day before
    assert len(buffer_zone(enterprise, MORNING + timedelta(days=1))) == 1


def test_a_closed_loop_employee_leaving_for_other_reasons_breaks_the_loop(plant):
    city, enterprise, gate, _ = plant
    Employee.objects.create(
        enterprise=enterprise,
        person=person(city.nanguan[0]),
        role="closed_loop",
        since=datetime(2022, 4, 10, tzinfo=BJ),
        recorded_at=datetime(2022, 4, 10, tzinfo=BJ),
    )
    noon = datetime(2022, 4, 20, 12, tzinfo=BJ)
    scan_id = uuid.uuid4()

    def leave(i, purpose, **more):
        note = "回家" if purpose == "other" else ""
        return do_register_exit(
            gate, now=noon, purpose=purpose, id_number=city.nanguan[i], note=note, **more
        )

    assert leave(0, "testing").breaks_loop is False
    assert leave(0, "supplies").breaks_loop is False
    broke = leave(0, "other", scan_id=scan_id)
    assert broke.breaks_loop is True
    assert leave(0, "other", scan_id=scan_id).pk == broke.pk  # sent again: one row
    assert leave(1, "other").breaks_loop is False  # not in the loop, plant not closed
    assert AuditEntry.objects.filter(action="enterprise.gate.exit_breaks_loop").count() == 1
    with pytest.raises(GateError, match="须填写说明"):
        do_register_exit(gate, now=noon, purpose="other", id_number=city.nanguan[1])


def test_when_todays_report_says_closed_loop_everyone_leaving_for_other_reasons_breaks_it(plant):
    city, enterprise, gate, _ = plant
    DailyReport.objects.create(
        enterprise=enterprise,
        day=date(2022, 4, 20),
        staff_on_duty=800,
        capacity_percent=Decimal("78.0"),
        closed_loop=True,
        recorded_at=datetime(2022, 4, 20, 7, tzinfo=BJ),
    )
    leaving = do_register_exit(
        gate,
        now=datetime(2022, 4, 20, 12, tzinfo=BJ),
        purpose="other",
        note="家中有事",
        id_number=city.nanguan[1],
    )
    assert leaving.breaks_loop is True


def test_a_vehicle_is_logged_once_per_entry_with_a_valid_plate(client, plant):
    _, _, gate, device_key = plant
    path = f"/api/plant-gates/{gate.checkpoint_id}/vehicles"
    entry_id = str(uuid.uuid4())
    body = {
        "plate": "吉a·12345",
        "method": "含氯消毒剂喷洒",
        "disinfected_by": "王师傅",
        "entry_id": entry_id,
    }
    with time_machine.travel(MORNING, tick=False):
        first = post(client, path, body, device_key).json()
        again = post(client, path, body, device_key).json()
        bad = post(client, path, {**body, "plate": "ABC123", "entry_id": None}, device_key)
        unnamed = post(client, path, {**body, "disinfected_by": " ", "entry_id": None}, device_key)
    assert first["plate"] == "吉A12345" and first["recorded"] is True
    assert again["vehicle_id"] == first["vehicle_id"] and again["recorded"] is False
    assert VehicleDisinfection.objects.count() == 1
    assert bad.status_code == 422
    assert bad.json()["detail"] == "车牌号“ABC123”格式不正确,应如吉A12345或吉AD12345"
    assert unnamed.status_code == 422 and unnamed.json()["detail"] == "消杀人员不能为空"


def test_a_new_energy_plate_is_accepted_and_a_second_vehicle_is_a_second_row(plant):
    _, _, gate, _ = plant
    one, created = do_record_vehicle(
        gate, now=MORNING, plate="吉AD12345", method="喷洒", disinfected_by="王师傅"
    )
    two, _ = do_record_vehicle(
        gate, now=MORNING, plate="吉A12345", method="喷洒", disinfected_by="王师傅"
    )
    assert created and one.pk != two.pk


def test_a_device_key_works_only_at_its_own_gate(client, plant):
    city, _, gate, device_key = plant
    other_enterprise = make_enterprise(name="富维东阳", serial=2)
    other, other_key = do_create_plant_gate(None, other_enterprise, name="南门", now=MORNING)
    with time_machine.travel(MORNING, tick=False):
        token = token_for(city.nanguan[0], MORNING)
        elsewhere = post(
            client, f"/api/plant-gates/{other.checkpoint_id}/entries", entry_body(token), device_key
        )
        wrong = post(
            client, f"/api/plant-gates/{gate.checkpoint_id}/entries", entry_body(token), "fkd_wrong"
        )
        nobody = post(client, f"/api/plant-gates/{gate.checkpoint_id}/entries", entry_body(token))
    assert elsewhere.status_code == 404
    assert wrong.status_code == 401
    assert nobody.status_code == 401
    assert not GateEntry.objects.exists()


def test_staff_use_the_gates_of_their_district_and_an_enterprise_its_own(plant, make_staff):
    city, enterprise, gate, _ = plant
    path = f"/api/plant-gates/{gate.checkpoint_id}/entries"
    own = make_staff("employer")
    own.staff.enterprise = enterprise
    own.staff.save()
    stranger = make_staff("employer")
    stranger.staff.enterprise = make_enterprise(name="天合富奥", serial=3)
    stranger.staff.save()
    answers = {}
    for label, user in (
        ("nanguan", make_staff("checkpoint", ["220102"])),
        ("chaoyang", make_staff("checkpoint", ["220104"])),
        ("own", own),
        ("stranger", stranger),
        ("reviewer", make_staff("district_reviewer", ["220102"])),
    ):
        client = Client()
        client.force_login(user)
        body = entry_body("", id_number=city.nanguan[0], scan_id=str(uuid.uuid4()))
        with time_machine.travel(MORNING, tick=False):
            answers[label] = post(client, path, body).status_code
    assert answers == {
        "nanguan": 200,
        "chaoyang": 404,
        "own": 200,
        "stranger": 404,
        "reviewer": 404,
    }
    assert GateEntry.objects.count() == 1  # the second was the same person, still inside


def test_a_staff_session_must_send_the_csrf_token(plant, make_staff):
    city, _, gate, _ = plant
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("checkpoint", ["220102"]))
    with time_machine.travel(MORNING, tick=False):
        answer = post(
            client,
            f"/api/plant-gates/{gate.checkpoint_id}/entries",
            entry_body("", id_number=city.nanguan[0]),
        )
    assert answer.status_code == 403
    assert not GateEntry.objects.exists()


def test_buffer_and_loop_api_answer_staff_who_see_the_enterprise(plant, make_staff):
    city, enterprise, gate, _ = plant
    enter(gate, city.nanguan[0], MORNING)
    reviewer, elsewhere = Client(), Client()
    reviewer.force_login(make_staff("district_reviewer", ["220102"]))
    elsewhere.force_login(make_staff("district_reviewer", ["220104"]))
    with time_machine.travel(MORNING + timedelta(hours=2), tick=False):
        answer = reviewer.get(f"/api/plant-gates/enterprises/{enterprise.pk}/buffer")
        hidden = elsewhere.get(f"/api/plant-gates/enterprises/{enterprise.pk}/buffer")
        loop = reviewer.get(f"/api/plant-gates/enterprises/{enterprise.pk}/loop?day=2022-04-20")
        bad_day = reviewer.get(f"/api/plant-gates/enterprises/{enterprise.pk}/loop?day=20-04")
    assert answer.status_code == 200
    people = answer.json()["people"]
    assert [(p["hours"], p["state"]) for p in people] == [(2.0, "入厂后尚未采样")]
    assert people[0]["id_number"].startswith("220102********")
    assert hidden.status_code == 404
    assert loop.status_code == 200 and loop.json()["members"] == 0 and loop.json()["rate"] is None
    assert bad_day.status_code == 422


def test_the_gate_routes_are_in_the_openapi_schema(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    entries = paths["/api/plant-gates/{checkpoint_id}/entries"]["post"]
    assert set(entries["responses"]) >= {"200", "401", "404", "422"}
    assert "/api/plant-gates/enterprises/{pk}/loop" in paths


def test_the_gate_desk_opens_for_the_gates_staff_only(plant, make_staff):
    _, _, gate, _ = plant
    mine, theirs = Client(), Client()
    mine.force_login(make_staff("checkpoint", ["220102"]))
    theirs.force_login(make_staff("checkpoint", ["220104"]))
    page = mine.get(f"/enterprises/gates/{gate.checkpoint_id}/")
    assert page.status_code == 200 and "核验并登记" in page.content.decode()
    assert theirs.get(f"/enterprises/gates/{gate.checkpoint_id}/").status_code == 404


def test_the_desk_refuses_a_form_without_the_mask_answered(plant, make_staff):
    city, _, gate, _ = plant
    client = Client()
    client.force_login(make_staff("checkpoint", ["220102"]))
    with time_machine.travel(MORNING, tick=False):
        page = client.post(
            f"/enterprises/gates/{gate.checkpoint_id}/",
            {
                "form": "entry",
                "scan": city.nanguan[0],
                "antigen": "negative",
                "temperature": "36.5",
            },
        )
    assert page.status_code == 422
    assert "未能登记:口罩:请选择是否规范佩戴" in page.content.decode()
    assert not GateEntry.objects.exists()


def test_it_is_the_sampling_time_that_counts_not_the_result_time(plant):
    city, _, gate, _ = plant  # residents 10–14: sampled on the 18th at 07:00, result at 15:00
    in_time = enter(gate, city.nanguan[11], datetime(2022, 4, 20, 6, 59, tzinfo=BJ))
    exactly = enter(gate, city.nanguan[12], datetime(2022, 4, 20, 7, 0, tzinfo=BJ))
    late = enter(gate, city.nanguan[13], datetime(2022, 4, 20, 7, 1, tzinfo=BJ))
    assert in_time.admitted is True and exactly.admitted is True
    assert late.admitted is False
    assert late.pcr_sampled_at == datetime(2022, 4, 18, 7, tzinfo=BJ)


def test_a_result_not_yet_known_at_the_gate_does_not_count(plant):
    city, _, gate, _ = plant
    sample([city.nanguan[15]], "T-0420-15", "1", datetime(2022, 4, 19, 20, tzinfo=BJ))
    report_result("T-0420-15", "negative", datetime(2022, 4, 20, 9, tzinfo=BJ))
    verdict = enter(gate, city.nanguan[15], datetime(2022, 4, 20, 8, tzinfo=BJ))
    assert verdict.reasons == ["无48小时内核酸阴性结果"]
