"""Finding a resident and reading their record, as staff of different roles and districts."""

import json
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fangkong.audit.models import AuditEntry
from fangkong.engine.id_numbers import make_id_number, mask, mask_phone
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.tests.support import community, resident_rows
from fangkong.people.models import Person

pytestmark = pytest.mark.django_db
AT = "2022-04-20T08:00:00+08:00"


def search(client, query):
    return client.post(reverse("people:search"), {"q": query})


def page_of(client, id_number):
    return client.get(reverse("people:person", args=[Person.objects.get(id_number=id_number).pk]))


def sample(id_number, tube, pool_size="1", at=AT, site="S-NG-1", **extra):
    return {
        "id_number": id_number,
        "tube": tube,
        "pool_size": pool_size,
        "site_code": site,
        "sampled_at": at,
        **extra,
    }


def result(tube, value, at="2022-04-20T20:00:00+08:00", **extra):
    return {"tube": tube, "result": value, "lab": "吉林金域", "reported_at": at, **extra}


@pytest.fixture
def reviewer(make_staff):
    return make_staff("district_reviewer", ["220102"])


def test_a_district_officer_finds_only_people_of_their_district(city, client, reviewer):
    client.force_login(reviewer)
    found = search(client, city.nanguan[0]).content.decode()
    assert mask(city.nanguan[0]) in found
    assert "居民1" in found
    elsewhere = search(client, city.chaoyang[0]).content.decode()
    assert "居民100" not in elsewhere
    assert "没有找到该居民" in elsewhere


def test_a_district_officer_gets_no_page_for_a_person_of_another_district(city, client, reviewer):
    client.force_login(reviewer)
    assert page_of(client, city.chaoyang[0]).status_code == 404
    assert page_of(client, city.nanguan[0]).status_code == 200


def test_a_hotline_operator_can_search(city, client, make_staff):
    client.force_login(make_staff("hotline", ["220102"]))
    response = search(client, city.nanguan[1])
    assert response.status_code == 200
    assert "居民2" in response.content.decode()


def test_a_sampler_cannot_search(city, client, make_staff):
    client.force_login(make_staff("sampler", ["220102"]))
    assert client.get(reverse("people:search")).status_code == 403
    assert search(client, city.nanguan[0]).status_code == 403
    assert page_of(client, city.nanguan[0]).status_code == 403
    assert not AuditEntry.objects.filter(action="person.search").exists()


def test_a_search_writes_an_audit_entry_without_the_raw_id_number(city, client, reviewer):
    client.force_login(reviewer)
    search(client, city.nanguan[0])
    entry = AuditEntry.objects.get(action="person.search")
    assert entry.actor == reviewer
    assert entry.detail == {"query_kind": "id_number", "query": mask(city.nanguan[0]), "results": 1}
    assert city.nanguan[0] not in json.dumps(entry.detail)
    assert city.nanguan[0][6:14] not in json.dumps(entry.detail)  # nor the birth date


def test_a_search_that_finds_nobody_is_audited_too(city, client, reviewer):
    client.force_login(reviewer)
    search(client, city.chaoyang[0])
    assert AuditEntry.objects.get(action="person.search").detail["results"] == 0


def test_search_results_show_masked_ids_and_phones_never_the_full_ones(city, client, reviewer):
    client.force_login(reviewer)
    html = search(client, city.nanguan[0]).content.decode()
    assert f"{city.nanguan[0][:6]}********{city.nanguan[0][-4:]}" in html
    assert city.nanguan[0] not in html
    phone = Person.objects.get(id_number=city.nanguan[0]).phone
    assert mask_phone(phone) in html
    assert phone not in html


def test_a_search_by_phone_finds_the_resident_and_audits_a_masked_phone(city, client, reviewer):
    client.force_login(reviewer)
    phone = Person.objects.get(id_number=city.nanguan[2]).phone
    html = search(client, phone).content.decode()
    assert mask(city.nanguan[2]) in html
    entry = AuditEntry.objects.get(action="person.search")
    assert entry.detail == {"query_kind": "phone", "query": mask_phone(phone), "results": 1}


def test_an_id_number_ending_in_x_is_found_when_typed_in_lower_case(city, client, reviewer):
    number = next(
        n
        for n in (make_id_number("220102", date(1990, 5, 6), s) for s in range(1000))
        if n.endswith("X")
    )
    row = {**resident_rows("220102", "220102", 1, 900)[0], "id_number": number}
    assert do_ingest("residents", rows=[row]).inserted == 1
    client.force_login(reviewer)
    html = search(client, number.lower()).content.decode()
    assert mask(number) in html
    assert mask(number).endswith("X")


def test_something_that_is_neither_an_id_number_nor_a_phone_is_not_searched(city, client, reviewer):
    client.force_login(reviewer)
    html = search(client, "张三").content.decode()
    assert "请输入18位身份证号" in html
    assert not AuditEntry.objects.filter(action="person.search").exists()


def test_the_person_page_writes_a_person_view_audit_entry(city, client, reviewer):
    client.force_login(reviewer)
    page_of(client, city.nanguan[0])
    entry = AuditEntry.objects.get(action="person.view")
    assert (entry.actor, entry.target_type) == (reviewer, "person")
    assert entry.target_id == str(Person.objects.get(id_number=city.nanguan[0]).pk)


def test_a_refused_person_page_is_not_recorded_as_a_view(city, client, reviewer):
    client.force_login(reviewer)
    page_of(client, city.chaoyang[0])
    assert not AuditEntry.objects.filter(action="person.view").exists()


def test_the_person_page_shows_the_full_id_number_and_where_the_person_lives(
    city, client, reviewer
):
    client.force_login(reviewer)
    html = page_of(client, city.nanguan[0]).content.decode()
    home = community("220102")
    assert city.nanguan[0] in html
    assert home.name in html and home.parent.name in html and "南关区" in html


def test_the_person_page_shows_samplings_with_the_tubes_effective_result(city, client, reviewer):
    person = city.nanguan[0]
    do_ingest(
        "samplings",
        rows=[
            sample(person, "P10-1", pool_size="10"),
            sample(person, "T-1", at="2022-04-19T08:00:00+08:00"),  # before the pool: no retest
        ],
    )
    do_ingest("results", rows=[result("P10-1", "阴性"), result("T-1", "阴性")])
    # The lab corrects the pooled tube: the negative no longer stands.
    do_ingest("results", rows=[result("P10-1", "阳性", correction_reason="录入错误")])
    client.force_login(reviewer)
    html = page_of(client, person).content.decode()
    assert "南关区第1采样点" in html and "P10-1" in html and "10混1" in html and "单管" in html
    assert html.count('class="badge positive"') == 1
    assert html.count('class="badge negative"') == 1
    assert "混管阳性,待单管复核" in html


def test_a_tube_without_a_result_is_shown_as_awaiting_it(city, client, reviewer):
    do_ingest("samplings", rows=[sample(city.nanguan[0], "T-9")])
    client.force_login(reviewer)
    assert "待出结果" in page_of(client, city.nanguan[0]).content.decode()


def test_the_person_page_shows_designations_presence_and_revisions(city, client, reviewer):
    person = city.nanguan[0]
    do_ingest(
        "designations",
        rows=[
            {"id_number": person, "kind": "密接", "start_at": AT, "designated_by": "南关区流调组"}
        ],
    )
    do_ingest(
        "presence",
        rows=[
            {
                "id_number": person,
                "region_code": "220104",
                "start_at": AT,
                "end_at": "2022-04-20T18:00:00+08:00",
                "source": "大数据",
            }
        ],
    )
    row = {
        **resident_rows("220102", "220102", 1, 1)[0],
        "name": "改名后",
        "correction_reason": "户籍信息更正",
    }
    assert do_ingest("residents", rows=[row]).inserted == 1
    client.force_login(reviewer)
    html = page_of(client, person).content.decode()
    assert "密切接触者" in html and "南关区流调组" in html
    assert "朝阳区" in html and "大数据" in html
    assert "改名后" in html and "居民1" in html and "户籍信息更正" in html


def test_the_person_page_makes_the_same_number_of_queries_for_many_samplings(
    city, client, reviewer
):
    person = city.nanguan[0]
    do_ingest("samplings", rows=[sample(person, "T-0")])
    do_ingest("results", rows=[result("T-0", "阴性")])
    client.force_login(reviewer)
    with CaptureQueriesContext(connection) as one:
        page_of(client, person)
    do_ingest(
        "samplings",
        rows=[
            sample(person, f"T-{i}", at=f"2022-04-{i + 10:02d}T08:00:00+08:00") for i in range(1, 8)
        ],
    )
    do_ingest("results", rows=[result(f"T-{i}", "阴性") for i in range(1, 8)])
    with CaptureQueriesContext(connection) as many:
        page_of(client, person)
    assert len(many) == len(one)
    # the page's reads (open requests among them, the registered employers) and its audit record
    assert len(one) <= 22


def test_the_person_page_is_for_person_readers_only(city, client, make_staff):
    client.force_login(make_staff("lab"))
    assert page_of(client, city.nanguan[0]).status_code == 403


def test_a_city_wide_role_sees_people_of_every_district(city, client, make_staff):
    client.force_login(make_staff("command_centre"))
    assert page_of(client, city.chaoyang[0]).status_code == 200
    assert mask(city.chaoyang[0]) in search(client, city.chaoyang[0]).content.decode()


def test_a_corrected_sampling_is_shown_struck_through_beside_its_correction(city, client, reviewer):
    person = city.nanguan[0]
    do_ingest("samplings", rows=[sample(person, "T-5")])
    corrected = sample(
        person, "T-5", at="2022-04-20T09:00:00+08:00", correction_reason="采样时间录错"
    )
    assert do_ingest("samplings", rows=[corrected]).inserted == 1
    client.force_login(reviewer)
    html = page_of(client, person).content.decode()
    assert html.count('class="superseded"') == 1
    assert "2022年4月20日 08:00" in html and "2022年4月20日 09:00" in html
