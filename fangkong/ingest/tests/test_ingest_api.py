"""The JSON API loads rows through the same checks, for the same roles and districts."""

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
AT = "2022-04-20T08:00:00+08:00"


def post(client, kind, rows, **extra):
    return client.post(
        f"/api/ingest/{kind}",
        data=json.dumps({"rows": rows}),
        content_type="application/json",
        **extra,
    )


def test_a_lab_posts_results_and_gets_the_report(city, make_staff, client):
    from fangkong.ingest.actions import do_ingest

    do_ingest(
        "samplings",
        rows=[
            {
                "id_number": city.nanguan[0],
                "tube": "T1",
                "pool_size": "1",
                "site_code": "S-NG-1",
                "sampled_at": AT,
            }
        ],
    )
    client.force_login(make_staff("lab"))
    rows = [
        {"tube": "T1", "result": "阴性", "lab": "金域", "reported_at": AT},
        {"tube": "NOPE", "result": "阴性", "lab": "金域", "reported_at": AT},
    ]
    answer = post(client, "results", rows)
    assert answer.status_code == 200
    report = answer.json()
    assert (report["inserted"], report["rejected"]) == (1, 1)
    assert report["errors"][0] == {
        "row": 2,
        "field": "tube",
        "value": "NOPE",
        "reason": "未知试管:尚无该条码的采样记录",
    }


def test_anonymous_callers_are_refused(db, client):
    assert post(client, "results", []).status_code == 401


def test_a_lab_may_not_load_residents(db, make_staff, client):
    client.force_login(make_staff("lab"))
    assert post(client, "residents", []).status_code == 403


def test_a_session_call_without_the_csrf_token_is_refused(db, make_staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("lab"))
    assert post(client, "results", []).status_code == 403


def test_a_district_reviewer_cannot_load_designations_for_another_district(
    city, make_staff, client
):
    client.force_login(make_staff("district_reviewer", ["220102"]))
    rows = [
        {"id_number": number, "kind": "密接", "start_at": AT, "designated_by": "流调组"}
        for number in (city.nanguan[0], city.chaoyang[0])
    ]
    report = post(client, "designations", rows).json()
    assert (report["inserted"], report["rejected"]) == (1, 1)
    assert report["errors"][0]["reason"] == "该人员不在您负责的区县"


def test_the_openapi_schema_describes_ingestion(db, client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/ingest/{kind}" in schema["paths"]
