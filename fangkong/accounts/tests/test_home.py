"""The home page offers each role what it may do, and counts the data it sees."""

import pytest
from django.urls import reverse
from django.utils import timezone as dj_timezone

from fangkong.clearances.tests.test_employer_batches import works  # noqa: F401 (a fixture)
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


# -- what each role's home shows, and the top bar on a phone (issue 10, items 8 and 9) ----------


def all_districts() -> list[str]:
    from fangkong.places.queries import counties

    return list(counties().values_list("code", flat=True))


def top_bar(html: str) -> str:
    return html.split('<header class="topbar">', 1)[1].split("</header>", 1)[0]


def test_a_checkpoint_account_of_every_district_reads_全市_not_fifteen_names(client, make_staff):
    from fangkong.checkpoints.actions import do_create_checkpoint
    from fangkong.checkpoints.loading import load_checkpoint_types
    from fangkong.ingest.tests.support import community

    load_checkpoint_types()
    gate, _key = do_create_checkpoint(
        None,
        name="南关区欧亚商都",
        type_code="public_place",
        county_code="220102",
        now=dj_timezone.now(),
        community=community("220102"),
    )
    html = home(client, make_staff("checkpoint", all_districts()))
    bar = top_bar(html)
    assert "全市" in bar and "南关区" not in bar and "宽城区" not in bar
    assert reverse("checkpoints:verify", args=[gate.pk]) in html
    assert "登记居民" not in html and "采样记录" not in html and "绿码" not in html


def test_the_top_bar_names_a_few_districts_and_counts_many(client, make_staff):
    assert "南关区、朝阳区" in top_bar(home(client, make_staff("sampler", ["220102", "220104"])))
    five = ["220102", "220103", "220104", "220105", "220106"]
    bar = top_bar(home(client, make_staff("sampler", five)))
    assert "南关区等5个区县" in bar and "朝阳区" not in bar


def test_an_employer_sees_their_organisation_s_lists_and_no_city_counts(
    works,  # noqa: F811 (the fixture imported above)
    client,
    make_staff,
):
    from fangkong.clearances.batches import do_submit_batch
    from fangkong.clearances.tests.test_employer_batches import (
        EMPLOYER,
        POLICY,
        UPLOADED,
        csv_file,
        good_rows,
        pdf,
    )

    city, liaison = works
    do_submit_batch(csv_file(good_rows(city)), pdf(), POLICY, liaison, UPLOADED)
    other = make_staff("employer", all_districts())
    other.staff.organisation = "吉林省伊通餐饮有限公司"
    other.staff.save()

    html = home(client, liaison)
    assert EMPLOYER in top_bar(html) and "全市" not in top_bar(html)
    assert "4月20日至22日未参加核酸检测人员赋黄码" in html  # the list's reason, by title
    assert "名单中的职工共 3 人:待审核 3 人" in html
    assert "登记居民" not in html and "绿码" not in html
    html = home(client, other)
    assert "本单位还没有提交过名单" in html and "名单中的职工" not in html


def test_the_command_centre_reads_colour_totals_now_with_thousands_separators(client, make_staff):
    from datetime import datetime

    from fangkong.ingest.tests.support import BJ, REGISTERED, policy_source, resident_rows
    from fangkong.policies.actions import do_publish

    # ID numbers run to 999 per region and birthday: born in two places, living in 南关区.
    rows = resident_rows("220102", "220102", 600, 1) + resident_rows("220102", "220103", 600, 1)
    assert do_ingest("residents", rows=rows, now=REGISTERED).inserted == 1_200
    do_publish(
        policy_source("cc-2022-0420-untested"), user=None, now=datetime(2022, 4, 23, tzinfo=BJ)
    )
    html = home(client, make_staff("command_centre"))
    totals = html.split('id="colour-totals"', 1)[1].split("</ul>", 1)[0]
    assert '绿码</span><span class="value">0<' in totals
    assert '黄码</span><span class="value">1,200<' in totals
    assert '红码</span><span class="value">0<' in totals
    assert "1,200 名登记居民" in html and "1200" not in html
