"""The home page offers each role what it may do, and counts the data it sees."""

import pytest
from django.urls import reverse

from fangkong.ingest.actions import do_ingest

pytestmark = pytest.mark.django_db
AT = "2022-04-20T08:00:00+08:00"


def home(client, user):
    client.force_login(user)
    return client.get(reverse("home")).content.decode()


def test_a_lab_is_offered_the_results_upload_only(client, make_staff):
    html = home(client, make_staff("lab"))
    assert reverse("ingest:upload", args=["results"]) in html
    assert reverse("ingest:upload", args=["residents"]) not in html
    assert reverse("people:search") not in html
    assert reverse("audit:log") not in html


def test_a_district_reviewer_is_offered_search_flags_and_their_uploads(client, make_staff):
    html = home(client, make_staff("district_reviewer", ["220102"]))
    for url in (
        reverse("people:search"),
        reverse("ingest:flags"),
        reverse("ingest:upload", args=["residents"]),
        reverse("ingest:upload", args=["designations"]),
    ):
        assert url in html
    assert reverse("ingest:upload", args=["results"]) not in html
    assert reverse("audit:log") not in html


def test_an_auditor_is_offered_the_audit_log_and_search(client, make_staff):
    html = home(client, make_staff("auditor"))
    assert reverse("audit:log") in html and reverse("people:search") in html
    assert reverse("ingest:flags") not in html


def test_the_summary_counts_only_the_users_districts(city, client, make_staff):
    do_ingest(
        "samplings",
        rows=[
            {
                "id_number": number,
                "tube": f"T-{i}",
                "pool_size": "1",
                "site_code": "S-NG-1",
                "sampled_at": AT,
            }
            for i, number in enumerate([city.nanguan[0], city.chaoyang[0]])
        ],
    )
    do_ingest(
        "results", rows=[{"tube": "T-1", "result": "阴性", "lab": "吉林金域", "reported_at": AT}]
    )
    from fangkong.views import scope_summary

    nanguan = make_staff("district_reviewer", ["220102"])
    chaoyang = make_staff("district_reviewer", ["220104"])
    assert scope_summary(nanguan) == {"residents": 25, "samplings": 1, "results": 0}
    assert scope_summary(chaoyang) == {"residents": 5, "samplings": 1, "results": 1}
    assert scope_summary(make_staff("command_centre")) == {
        "residents": 30,
        "samplings": 2,
        "results": 1,
    }
    assert '<span class="value">25</span>' in home(client, nanguan)


def test_the_top_bar_shows_role_districts_and_the_role_s_navigation(client, make_staff):
    html = home(client, make_staff("district_reviewer", ["220102", "220104"]))
    assert "区县审核员" in html and "南关区、朝阳区" in html
    assert f'href="{reverse("people:search")}"' in html
    assert f'href="{reverse("ingest:upload", args=["samplings"])}"' not in html


def test_the_hotline_desk_serves_the_whole_city(client, make_staff):
    html = home(client, make_staff("hotline"))
    assert "12345热线专席" in html and "全市" in html
    assert f'href="{reverse("ingest:flags")}"' not in html
