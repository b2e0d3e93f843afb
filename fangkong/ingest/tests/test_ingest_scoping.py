"""District-scoped staff load only rows of their districts; the rest are rejected, named."""

import pytest
from django.core.exceptions import PermissionDenied

from fangkong.ingest.actions import do_ingest
from fangkong.ingest.tests.support import resident_rows
from fangkong.people.models import Person

pytestmark = pytest.mark.django_db
AT = "2022-04-20T08:00:00+08:00"


def test_a_district_reviewer_registers_residents_of_their_district_only(db, make_staff):
    reviewer = make_staff("district_reviewer", ["220102"])
    rows = resident_rows("220102", "220102", 2, 500) + resident_rows("220104", "220104", 1, 600)
    report = do_ingest("residents", rows=rows, user=reviewer)
    assert (report.inserted, report.rejected) == (2, 1)
    assert report.errors[0]["reason"] == "该社区不在您负责的区县"
    assert set(Person.objects.values_list("county_code", flat=True)) == {"220102"}


def test_a_sampler_records_samplings_only_at_sites_of_their_district(city, make_staff):
    sampler = make_staff("sampler", ["220104"])
    rows = [
        {
            "id_number": city.nanguan[0],
            "tube": "T1",
            "pool_size": "1",
            "site_code": site,
            "sampled_at": AT,
        }
        for site in ("S-CY-1", "S-NG-1")
    ]
    rows[1]["tube"] = "T2"
    report = do_ingest("samplings", rows=rows, user=sampler)
    assert (report.inserted, report.rejected) == (1, 1)
    assert report.errors[0]["reason"] == "该采样点不在您负责的区县"


def test_a_hotline_operator_cannot_load_anything(db, make_staff):
    with pytest.raises(PermissionDenied):
        do_ingest("samplings", rows=[], user=make_staff("hotline"))


def test_a_district_reviewer_records_presence_only_in_their_district(city, make_staff):
    reviewer = make_staff("district_reviewer", ["220102"])
    rows = [
        {
            "id_number": city.chaoyang[0],
            "region_code": code,
            "start_at": AT,
            "end_at": "2022-04-21T08:00:00+08:00",
        }
        for code in ("220102", "220104")
    ]
    report = do_ingest("presence", rows=rows, user=reviewer)
    assert (report.inserted, report.rejected) == (1, 1)
