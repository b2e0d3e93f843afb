"""The resumption dashboard: the command centre sees the city's headline figures, a row a
district, a row an industry and the 14-day trend; a district reviewer sees their district and is
refused another; an enterprise account sees its own enterprise; the Excel export holds the same
numbers as numbers; the API answers the same figures; and what the dashboard shows agrees with a
direct SQL count."""

import io
import json
import re
from datetime import date

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from fangkong.accounts.models import Role
from fangkong.enterprises.stats import district_figures, end_of_day
from fangkong.enterprises.tests.test_stats import (
    APRIL_20,
    NANGUAN,
    NEW_AREA,
    at,
    build_busy_district,
    build_new_area,
    sql_figures,
)

pytestmark = pytest.mark.django_db
DASHBOARD = reverse("enterprises:dashboard")
XLSX = reverse("enterprises:dashboard_xlsx")
STATS = "/api/enterprises/stats"
TREND = "/api/enterprises/stats/trend"
AFTERWARDS = at("4-25", 9)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def firms():
    return build_new_area()


@pytest.fixture
def centre(make_staff):
    return signed_in(make_staff(Role.COMMAND_CENTRE))


@pytest.fixture
def reviewer(make_staff):
    return signed_in(make_staff(Role.DISTRICT_REVIEWER, [NEW_AREA]))


def figure(html: str, name: str) -> str:
    found = re.search(rf'id="fig-{name}">([^<]*)<', html)
    assert found, name
    return found.group(1)


def row(html: str, table: str, key: str) -> list[str]:
    section = html.split(f'id="{table}"', 1)[1].split("</section>", 1)[0]
    found = re.search(rf'<tr data-key="{key}">(.*?)</tr>', section, re.S)
    assert found, (table, key)
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1))
    ]


@time_machine.travel(AFTERWARDS)
def test_the_command_centre_sees_the_citys_figures_by_district_and_industry(firms, centre):
    page = centre.get(DASHBOARD, {"date": "2022-04-20"})
    html = page.content.decode()
    assert page.status_code == 200
    assert figure(html, "registered") == "4 户"
    assert figure(html, "resumed") == "2 户"
    assert figure(html, "resumption-rate") == "50.0%"
    assert figure(html, "production-rate") == "88.2%"  # (90 % × 1000 + 70 % × 100) / 1100
    assert figure(html, "staff") == "1,140"
    assert figure(html, "returning") == "335"
    assert row(html, "by-county", NANGUAN)[1:5] == ["1", "1", "100.0%", "70.0%"]
    assert row(html, "by-county", NEW_AREA)[1:7] == ["3", "1", "33.3%", "90.0%", "1,070", "330"]
    assert row(html, "by-industry", "automotive")[:6] == [
        "汽车及零部件",
        "2",
        "1",
        "50.0%",
        "90.0%",
        "920",
    ]
    assert row(html, "by-industry", "food")[0] == "食品加工"


@time_machine.travel(AFTERWARDS)
def test_the_trend_of_the_last_14_days_is_passed_to_the_chart_script(firms, centre):
    html = centre.get(DASHBOARD, {"date": "2022-04-20"}).content.decode()
    data = json.loads(
        re.search(r'id="enterprises-trend-data"[^>]*>(.*?)</script>', html, re.S).group(1)
    )
    assert len(data["days"]) == 14 and data["days"][-1] == "2022-04-20"
    assert data["days"][0] == "2022-04-07"
    rates, production = data["rates"]
    assert rates["values"][-1] == 50.0 and production["values"][-1] == 88.2
    assert rates["values"][0] == 0.0 and production["values"][0] is None
    assert data["staff"][0]["values"][-1] == 1140
    assert "fangkong/enterprises-trend.js" in html and "<script>" not in html
    assert row(html, "trend", "2022-04-18")[1:4] == ["4", "3", "75.0%"]


@time_machine.travel(AFTERWARDS)
def test_an_industry_narrows_the_headline_and_the_districts(firms, centre):
    html = centre.get(DASHBOARD, {"date": "2022-04-20", "industry": "pharma"}).content.decode()
    assert figure(html, "registered") == "1 户" and figure(html, "staff") == "150"
    assert row(html, "by-county", NEW_AREA)[1] == "1"
    # The industry table still lists every industry.
    assert row(html, "by-industry", "automotive")[1] == "2"


@time_machine.travel(AFTERWARDS)
def test_a_later_moment_counts_what_was_recorded_by_then(firms, centre):
    html = centre.get(
        DASHBOARD, {"date": "2022-04-20", "county": NEW_AREA, "as_of": "2022-04-21T09:00"}
    ).content.decode()
    assert figure(html, "resumed") == "2 户" and figure(html, "production-rate") == "85.0%"
    assert "2022-04-21 09:00" in html


@time_machine.travel(AFTERWARDS)
def test_a_district_reviewer_sees_only_their_district(firms, reviewer):
    html = reviewer.get(DASHBOARD, {"date": "2022-04-20"}).content.decode()
    assert figure(html, "registered") == "3 户"
    assert f'data-key="{NANGUAN}"' not in html and f'data-key="{NEW_AREA}"' in html
    assert reviewer.get(DASHBOARD, {"county": NANGUAN}).status_code == 403
    assert reviewer.get(XLSX, {"county": NANGUAN}).status_code == 403


@time_machine.travel(AFTERWARDS)
def test_an_enterprise_account_sees_only_its_own_enterprise(firms, make_staff):
    user = make_staff(Role.EMPLOYER)
    user.staff.enterprise = firms["parts"]
    user.staff.save()
    client = signed_in(user)
    html = client.get(DASHBOARD, {"date": "2022-04-20"}).content.decode()
    assert "测试零部件" in html
    assert figure(html, "registered") == "1 户" and figure(html, "staff") == "100"
    assert 'id="d-county"' not in html
    assert client.get(DASHBOARD, {"county": NANGUAN}).status_code == 403
    unlinked = signed_in(make_staff(Role.EMPLOYER))
    assert unlinked.get(DASHBOARD).status_code == 403


def test_other_roles_and_strangers_are_turned_away(db, make_staff):
    assert signed_in(make_staff(Role.HOTLINE)).get(DASHBOARD).status_code == 403
    assert signed_in(make_staff(Role.CHECKPOINT)).get(XLSX).status_code == 403
    assert Client().get(DASHBOARD).status_code == 302
    assert Client().get(STATS).status_code == 401


@time_machine.travel(AFTERWARDS)
def test_bad_choices_are_named_and_left_out(firms, centre):
    page = centre.get(DASHBOARD, {"date": "2022-13-40", "industry": "mining", "county": "abc"})
    html = page.content.decode()
    assert page.status_code == 400
    assert "日期:“2022-13-40”不是有效的日期" in html
    assert "行业:“mining”不是已知的行业" in html
    assert "区县:“abc”不是有效的区县代码" in html
    assert centre.get(XLSX, {"date": "4月20日"}).status_code == 400


@time_machine.travel(AFTERWARDS)
def test_the_excel_export_holds_the_figures_as_numbers(firms, centre):
    response = centre.get(XLSX, {"date": "2022-04-20"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="resumption-2022-04-20.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["复工复产", "趋势"]
    rows = [list(r) for r in book["复工复产"].iter_rows(values_only=True)]
    assert rows[0] == ["复工复产情况", "2022年4月20日"] + [None] * 8
    header = ["", "", "规上工业企业(户)", "已复工(户)", "复工率", "复产率", "在岗人数", "返岗人数"]
    assert [c or "" for c in rows[4][:8]] == header
    total = rows[5]
    assert total[1:8] == ["合计", 4, 2, 0.5, 0.882, 1140, 335]
    by_code = {r[0]: r for r in rows if r[0] in (NANGUAN, NEW_AREA, "automotive", "pharma")}
    assert by_code[NEW_AREA][1:8] == ["长春高新技术产业开发区", 3, 1, 0.333, 0.9, 1070, 330]
    assert by_code["automotive"][1:8] == ["汽车及零部件", 2, 1, 0.5, 0.9, 920, 310]
    cell = book["复工复产"].cell(row=6, column=5)
    assert cell.value == 0.5 and cell.number_format == "0.0%"
    trend = [list(r) for r in book["趋势"].iter_rows(values_only=True)]
    assert trend[0][:5] == ["日期", "规上工业企业(户)", "已复工(户)", "复工率", "复产率"]
    assert len(trend) == 15 and trend[-1][:4] == ["2022-04-20", 4, 2, 0.5]


# --- the API ---------------------------------------------------------------------------------


@time_machine.travel(AFTERWARDS)
def test_the_api_answers_the_days_figures(firms, centre):
    answer = centre.get(STATS, {"date": "2022-04-20", "county": NEW_AREA})
    assert answer.status_code == 200
    assert answer.json() == district_figures(APRIL_20, county=NEW_AREA)
    assert answer.json()["resumption_rate"] == 0.333
    later = centre.get(
        STATS, {"date": "2022-04-20", "county": NEW_AREA, "as_of": "2022-04-21T09:00"}
    )
    assert later.json()["resumed"] == 2 and later.json()["as_of"] == "2022-04-21T09:00:00+08:00"


@time_machine.travel(AFTERWARDS)
def test_the_api_keeps_a_reviewer_to_their_districts(firms, make_staff):
    reviewer = signed_in(make_staff(Role.DISTRICT_REVIEWER, [NEW_AREA]))
    own = reviewer.get(STATS, {"date": "2022-04-20"}).json()
    assert own["county"] == NEW_AREA and own["registered"] == 3
    refused = reviewer.get(STATS, {"date": "2022-04-20", "county": NANGUAN})
    assert refused.status_code == 403 and NANGUAN in refused.json()["detail"]
    both = signed_in(make_staff(Role.DISTRICT_REVIEWER, [NEW_AREA, NANGUAN]))
    answer = both.get(STATS, {"date": "2022-04-20"}).json()
    assert answer["county"] is None and answer["counties"] == [NANGUAN, NEW_AREA]
    assert answer["registered"] == 4
    employer = make_staff(Role.EMPLOYER)
    employer.staff.enterprise = firms["car"]
    employer.staff.save()
    mine = signed_in(employer).get(STATS, {"date": "2022-04-20"}).json()
    assert (mine["registered"], mine["staff_on_duty"]) == (1, 820)


@time_machine.travel(AFTERWARDS)
def test_the_api_trend_answers_day_by_day(firms, centre):
    answer = centre.get(TREND, {"from": "2022-04-18", "to": "2022-04-20", "county": NEW_AREA})
    assert answer.status_code == 200
    days = answer.json()["days"]
    assert [d["date"] for d in days] == ["2022-04-18", "2022-04-19", "2022-04-20"]
    assert [d["resumed"] for d in days] == [2, 2, 1]
    assert days[-1]["staff_on_duty"] == 1070
    pharma = centre.get(TREND, {"from": "2022-04-20", "to": "2022-04-20", "industry": "pharma"})
    assert pharma.json()["days"][0]["registered"] == 1


@time_machine.travel(AFTERWARDS)
def test_the_api_names_what_is_wrong_with_a_request(firms, centre):
    backwards = centre.get(TREND, {"from": "2022-04-20", "to": "2022-04-18"})
    assert backwards.status_code == 400 and "from" in backwards.json()["detail"]
    long = centre.get(TREND, {"from": "2022-01-01", "to": "2022-04-20"})
    assert long.status_code == 400 and "最多" in long.json()["detail"]
    bad_time = centre.get(STATS, {"date": "2022-04-20", "as_of": "yesterday"})
    assert bad_time.status_code == 400 and "as_of" in bad_time.json()["detail"]
    assert centre.get(STATS, {"date": "20 April"}).status_code == 422
    assert centre.get(STATS, {"county": "22"}).status_code == 422


# --- what the dashboard shows agrees with a direct SQL count ----------------------------------


@time_machine.travel(AFTERWARDS)
def test_the_dashboard_agrees_with_a_direct_sql_count(centre):
    build_busy_district()
    for day in (date(2022, 4, 19), APRIL_20):
        expected = sql_figures(day, NEW_AREA, end_of_day(day))
        html = centre.get(DASHBOARD, {"date": day.isoformat()}).content.decode()
        shown = row(html, "by-county", NEW_AREA)
        assert shown[1] == f"{expected['registered']:,}"
        assert shown[2] == f"{expected['resumed']:,}"
        assert shown[4] == (
            "—"
            if expected["production_rate"] is None
            else f"{expected['production_rate'] * 100:.1f}%"
        )
        assert shown[5] == f"{expected['staff_on_duty']:,}"


# --- in a real browser -----------------------------------------------------------------------


@pytest.fixture
def divisions():
    """Transactional tests empty the database after each test: put the places back."""
    from fangkong.places.loading import load_divisions

    load_divisions()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_dashboard_draws_its_trend_charts_in_the_browser(
    browser, live_server, divisions, make_staff
):
    build_new_area()
    make_staff(Role.COMMAND_CENTRE, username="centre")
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "centre")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}{DASHBOARD}?date=2022-04-20")
    page.wait_for_selector("#enterprises-rates canvas")
    page.wait_for_selector("#enterprises-staff canvas")
    assert page.locator("#enterprises-rates").get_attribute("data-drawn") == "true"
    assert page.locator("#fig-resumption-rate").inner_text() == "50.0%"
    page.select_option("#d-industry", "pharma")
    page.click("button:has-text('查看')")
    assert page.locator("#fig-registered").inner_text() == "1 户"
    assert errors == []
