"""The command centre's overview of codes by district, and the code section of a person's page,
after the seed rule of 2022-04-21 is published."""

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone as dj_timezone

from fangkong.codes.queries import explain
from fangkong.codes.tests.test_codes_end_to_end import report_result, sample
from fangkong.engine.id_numbers import mask
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db
BJ = timezone(timedelta(hours=8))
SEED = (
    Path(__file__).resolve().parents[2] / "policies" / "fixtures" / "cc-2022-0420-untested.toml"
).read_text()


@pytest.fixture
def published_city(city):
    """The first ten of 南关区 sampled on 21 April; the rule published at 23 April 00:00."""
    sample(city.nanguan[:10], "T-0421-1", "10", datetime(2022, 4, 21, 9, tzinfo=BJ))
    report_result("T-0421-1", "negative", datetime(2022, 4, 21, 20, tzinfo=BJ))
    do_publish(SEED, user=None, now=datetime(2022, 4, 23, tzinfo=BJ))
    return city


def table_row(html: str, name: str) -> list[str] | None:
    """Numbers of the overview table's row for a county (green, yellow, red, total)."""
    row = re.search(rf"<tr>\s*<td>{name}</td>.*?</tr>", html, re.S)
    if row is None:
        return None
    return re.findall(r'<td class="num">([\d,]+)</td>', row.group(0))


def totals_row(html: str) -> list[str]:
    foot = re.search(r"<tfoot>.*?</tfoot>", html, re.S).group(0)
    return re.findall(r'<th class="num">([\d,]+)</th>', foot)


def overview(client, at=None):
    return client.get(reverse("codes:overview"), {"at": at} if at else {})


def test_the_overview_counts_codes_by_district_as_of_a_beijing_time(
    published_city, client, make_staff
):
    client.force_login(make_staff("command_centre"))
    response = overview(client, "2022-04-23T08:00")
    assert response.status_code == 200
    html = response.content.decode()
    assert "2022年4月23日 08:00" in html
    assert table_row(html, "南关区") == ["10", "15", "0", "25"]
    assert table_row(html, "朝阳区") == ["0", "5", "0", "5"]
    assert table_row(html, "公主岭市") == ["0", "0", "0", "0"]
    assert totals_row(html) == ["10", "20", "0", "30"]
    assert html.count('<rect class="seg yellow"') == 2
    assert "南关区 黄码 15人" in html  # the bar's tooltip
    assert "4月20日至22日未参加核酸检测人员赋黄码" in html  # the policy in force


def test_before_the_rule_took_effect_everyone_was_green(published_city, client, make_staff):
    client.force_login(make_staff("admin"))
    html = overview(client, "2022-04-22T23:59").content.decode()
    assert table_row(html, "南关区") == ["25", "0", "0", "25"]
    assert "当时没有生效的赋码政策" in html


def test_the_overview_defaults_to_now_and_survives_a_bad_time(published_city, client, make_staff):
    client.force_login(make_staff("auditor"))
    now = dj_timezone.now().astimezone(BJ)
    html = overview(client).content.decode()
    assert f'value="{now:%Y-%m-%dT}' in html
    assert table_row(html, "南关区") == ["10", "15", "0", "25"]
    bad = overview(client, "23 April").content.decode()
    assert "时间格式应为" in bad and table_row(bad, "南关区") is not None


def test_counts_over_a_thousand_read_with_thousands_separators(city, client, make_staff):
    from fangkong.ingest.actions import do_ingest
    from fangkong.ingest.tests.support import REGISTERED, resident_rows

    # ID numbers run to 999 per place and birthday: born in two places, living in 南关区.
    rows = resident_rows("220102", "220102", 600, 200) + resident_rows("220102", "220103", 600, 1)
    assert do_ingest("residents", rows=rows, now=REGISTERED).inserted == 1_200
    do_publish(SEED, user=None, now=datetime(2022, 4, 23, tzinfo=BJ))
    client.force_login(make_staff("command_centre"))
    html = overview(client, "2022-04-23T08:00").content.decode()
    assert table_row(html, "南关区") == ["0", "1,225", "0", "1,225"]
    assert totals_row(html) == ["0", "1,230", "0", "1,230"]
    assert '<span class="value">1,230</span>' in html  # the figures above the chart
    assert "南关区 黄码 1,225人" in html  # the bar's tooltip


def test_a_district_reviewer_sees_only_their_district(published_city, client, make_staff):
    client.force_login(make_staff("district_reviewer", ["220102"]))
    html = overview(client, "2022-04-23T08:00").content.decode()
    assert table_row(html, "南关区") == ["10", "15", "0", "25"]
    assert table_row(html, "朝阳区") is None and "朝阳区" not in html.split("<tfoot>")[0]
    assert totals_row(html) == ["10", "15", "0", "25"]


def test_roles_without_district_statistics_get_403(client, make_staff):
    for role in ("lab", "sampler", "employer", "checkpoint"):
        client.force_login(make_staff(role, ["220102"]))
        assert overview(client).status_code == 403


def test_the_person_page_shows_the_yellow_reason_and_the_history(
    published_city, client, make_staff
):
    person = Person.objects.get(id_number=published_city.nanguan[10])
    client.force_login(make_staff("hotline"))
    html = client.get(reverse("people:person", args=[person.pk])).content.decode()
    code = html.split('id="code"')[1].split("</section>")[0]
    assert '<span class="code-badge big yellow">黄码</span>' in code
    assert "吉祥码被赋黄码" in code
    assert "2022-04-23 00:00" in code  # since, in Beijing time
    assert "2022-04-20 00:00 至 2022-04-23 00:00 无采样记录" in code
    assert "2022年04月23日00:00之后采样的一次核酸检测结果为阴性" in code
    assert "满足任一条件即自动解除,无需申请" in code
    # The clearance is an application, not a condition met by oneself: listed apart.
    clears = code.split("解除方式")[1].split("申请解码")[0]
    assert "经审核通过的解码申请" not in clears
    assert "经审核通过的解码申请" in code.split("申请解码")[1]
    history = code.split("健康码变化记录")[1]
    assert "绿码</span> → <span" in history and "黄码" in history
    assert "发布政策" in history and "cc-2022-0420-untested v1" in history
    assert "4月20日至22日未参加核酸检测人员赋黄码" in history


def test_the_person_page_of_someone_who_sampled_is_green_without_history(
    published_city, client, make_staff
):
    person = Person.objects.get(id_number=published_city.nanguan[0])
    client.force_login(make_staff("district_reviewer", ["220102"]))
    html = client.get(reverse("people:person", args=[person.pk])).content.decode()
    assert '<span class="code-badge big green">绿码</span>' in html
    assert "健康码从未变化" in html


def test_the_person_page_explains_the_code_as_the_per_person_query_does(
    published_city, client, make_staff
):
    # The page builds the engine's facts from rows it already read: they must agree.
    person = Person.objects.get(id_number=published_city.nanguan[10])
    sample([person.id_number], "T-0424-1", "10", datetime(2022, 4, 24, 9, tzinfo=BJ))
    client.force_login(make_staff("command_centre"))
    response = client.get(reverse("people:person", args=[person.pk]))
    code = response.context["code"]
    assert code == explain(person, dj_timezone.now())
    assert code.colour == "yellow"


def test_codes_changes_and_exemptions_are_read_only_in_the_admin(published_city, client):
    user = get_user_model().objects.create_superuser("root", password="correct-horse-battery")
    client.force_login(user)
    for model in ("personcode", "codechange", "exemption"):
        assert client.get(reverse(f"admin:codes_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:codes_{model}_add")).status_code == 403
    html = client.get(reverse("admin:codes_personcode_changelist")).content.decode()
    number = published_city.nanguan[10]
    assert mask(number) in html and number not in html


def test_the_chart_scale_has_round_ticks_and_room_for_the_longest_name():
    from fangkong.codes.views import bar_chart, nice_step

    assert [nice_step(v) for v in (0, 3, 408.8, 1000, 1001)] == [1, 5, 500, 1000, 2000]
    rows = [
        {"name": "南关区", "green": 1293, "yellow": 44, "red": 0, "total": 1337},
        {
            "name": "长春净月高新技术产业开发区",
            "green": 2000,
            "yellow": 40,
            "red": 4,
            "total": 2044,
        },
    ]
    chart = bar_chart(rows)
    assert [t["label"] for t in chart["ticks"]] == ["0", "500", "1,000", "1,500", "2,000", "2,500"]
    assert chart["label_x"] > 13 * 13
    red = chart["bars"][1]["segments"][-1]
    assert red["colour"] == "red" and red["width"] >= 2  # small counts stay visible
