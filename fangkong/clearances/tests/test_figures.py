"""The clearance figures (解码统计): requests by channel and district, time to decision and
approval rates by channel and reviewer, the backlog, by Beijing day; a district reviewer's own
districts only; a CSV of the same tables."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from fangkong.accounts.models import Role
from fangkong.clearances.actions import do_review, do_submit
from fangkong.clearances.figures import clearance_figures, percentile
from fangkong.clearances.models import Clearance
from fangkong.ingest.tests.support import BJ, policy_source
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db
POLICY = "cc-2022-0420-untested"
T0 = datetime(2022, 4, 24, 10, tzinfo=BJ)
NOW = T0 + timedelta(hours=60)  # 2022-04-26 22:00
START, END = date(2022, 4, 24), date(2022, 4, 26)
URL = "/clearances/figures/"


def decide(clearance, reviewer, at, action):
    do_review(clearance.pk, "start_review", reviewer, at)
    do_review(clearance.pk, action, reviewer, at, "核实")


@pytest.fixture
def scenario(city, make_staff, settings):
    """Seven decisions in the range (one of a request submitted the day before), one before it,
    an employer request left open past the 24-hour target and a hotline request under review.

        request  district  channel   submitted       decided by  after   decision
        n0       南关区     appeal    T0              r1          2h      approved
        n1       南关区     appeal    T0              r1          4h      rejected
        n2       南关区     appeal    T0              r2          10h     approved
        n3       南关区     hotline   T0              r2          30h     approved (4-25)
        n4       南关区     employer  T0+1h           —                   open, overdue
        n5       南关区     hotline   T0+50h (4-26)   —                   under review
        n6       南关区     appeal    4-23 20:00      r1          14h     approved (4-24)
        o0       南关区     appeal    4-23 12:00      r1          1h      approved (4-23)
        c0       朝阳区     appeal    4-24 07:00      r3          1h      approved
        c1       朝阳区     hotline   T0              r3          8h      rejected

    c0 was submitted at 23:00 UTC on 4-23: in the range only when days are Beijing days.
    """
    settings.CLEARANCE_TARGET_HOURS = 24
    do_publish(policy_source(POLICY), user=None, now=datetime(2022, 4, 22, tzinfo=BJ))
    nanguan = [Person.objects.get(id_number=n) for n in city.nanguan[:8]]
    chaoyang = [Person.objects.get(id_number=n) for n in city.chaoyang[:2]]
    r1 = make_staff(Role.DISTRICT_REVIEWER, ["220102"], username="nanguan-a")
    r2 = make_staff(Role.DISTRICT_REVIEWER, ["220102"], username="nanguan-b")
    r3 = make_staff(Role.DISTRICT_REVIEWER, ["220104"], username="chaoyang-a")
    hours = timedelta(hours=1)

    def submit(person, channel, at):
        return do_submit(person, POLICY, channel, at)

    o0 = submit(nanguan[7], "appeal", datetime(2022, 4, 23, 12, tzinfo=BJ))
    decide(o0, r1, o0.submitted_at + hours, "approve")
    n6 = submit(nanguan[6], "appeal", datetime(2022, 4, 23, 20, tzinfo=BJ))
    decide(n6, r1, n6.submitted_at + 14 * hours, "approve")
    n0, n1, n2 = (submit(p, "appeal", T0) for p in nanguan[:3])
    n3 = submit(nanguan[3], "hotline", T0)
    decide(n0, r1, T0 + 2 * hours, "approve")
    decide(n1, r1, T0 + 4 * hours, "reject")
    decide(n2, r2, T0 + 10 * hours, "approve")
    decide(n3, r2, T0 + 30 * hours, "approve")
    submit(nanguan[4], "employer", T0 + hours)
    n5 = submit(nanguan[5], "hotline", T0 + 50 * hours)
    do_review(n5.pk, "start_review", r2, T0 + 51 * hours)
    c0 = submit(chaoyang[0], "appeal", datetime(2022, 4, 24, 7, tzinfo=BJ))
    decide(c0, r3, c0.submitted_at + hours, "approve")
    c1 = submit(chaoyang[1], "hotline", T0)
    decide(c1, r3, T0 + 8 * hours, "reject")
    return {"r1": r1, "r2": r2, "r3": r3}


def figures_of(qs=None, start=START, end=END):
    return clearance_figures(qs or Clearance.objects.all(), start, end, now=NOW)


def row(rows, key):
    return next(r for r in rows if r["key"] == key)


def test_percentiles_interpolate_between_ranks():
    assert percentile([], 0.5) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([1, 2, 4, 8, 10, 14, 30], 0.5) == 8
    assert percentile([30, 1, 14, 2, 8, 10, 4], 0.9) == pytest.approx(20.4)
    assert percentile([8, 30], 0.5) == 19


def test_time_to_decision_and_approval_rates(scenario):
    decisions = figures_of()["decisions"]
    overall = decisions["overall"]
    # hours [1, 2, 4, 8, 10, 14, 30]; o0 was decided before the range.
    assert (overall["decided"], overall["approved"], overall["rejected"]) == (7, 5, 2)
    assert overall["median_hours"] == pytest.approx(8)
    assert overall["p90_hours"] == pytest.approx(20.4)
    assert overall["rate"] == pytest.approx(5 / 7) and overall["rate_text"] == "71.4%"

    appeal = row(decisions["by_channel"], "appeal")  # [1, 2, 4, 10, 14], one rejected
    assert (appeal["decided"], appeal["approved"], appeal["rate"]) == (5, 4, pytest.approx(0.8))
    assert appeal["median_hours"] == pytest.approx(4)
    assert appeal["p90_hours"] == pytest.approx(12.4)
    hotline = row(decisions["by_channel"], "hotline")  # [8, 30], one rejected
    assert (hotline["decided"], hotline["approved"], hotline["rate"]) == (2, 1, 0.5)
    assert hotline["median_hours"] == pytest.approx(19)
    assert hotline["p90_hours"] == pytest.approx(27.8)
    assert [r["key"] for r in decisions["by_channel"]] == ["appeal", "hotline"]


def test_approval_rates_per_reviewer(scenario):
    by_reviewer = figures_of()["decisions"]["by_reviewer"]
    assert [r["key"] for r in by_reviewer] == ["nanguan-a", "chaoyang-a", "nanguan-b"]
    first = row(by_reviewer, "nanguan-a")  # n0 2h ✓, n1 4h ✗, n6 14h ✓
    assert (first["decided"], first["approved"], first["rate_text"]) == (3, 2, "66.7%")
    assert first["median_hours"] == pytest.approx(4)
    second = row(by_reviewer, "nanguan-b")  # n2 10h ✓, n3 30h ✓
    assert (second["rate"], second["median_hours"]) == (1.0, pytest.approx(20))
    third = row(by_reviewer, "chaoyang-a")  # c0 1h ✓, c1 8h ✗
    assert (third["rate"], third["median_hours"]) == (0.5, pytest.approx(4.5))


def test_requests_by_channel_and_district_count_submissions_in_beijing_days(scenario):
    figures = figures_of()
    statuses = [s for s, _ in figures["statuses"]]

    def counts(r):
        return {s: n for s, n in zip(statuses, r["counts"], strict=True) if n}

    by_channel = figures["by_channel"]
    assert counts(row(by_channel["rows"], "appeal")) == {"approved": 3, "rejected": 1}
    assert counts(row(by_channel["rows"], "hotline")) == {
        "approved": 1,
        "rejected": 1,
        "under_review": 1,
    }
    assert counts(row(by_channel["rows"], "employer")) == {"submitted": 1}
    assert row(by_channel["rows"], "override")["total"] == 0
    assert (by_channel["total"], by_channel["open"]) == (8, 2)

    by_county = figures["by_county"]
    assert [(r["key"], r["label"], r["total"]) for r in by_county["rows"]] == [
        ("220102", "南关区", 6),
        ("220104", "朝阳区", 2),
    ]


def test_by_day_and_the_backlog(scenario):
    figures = figures_of()
    daily = {d["day"]: (d["submitted"], d["decided"], d["approved"]) for d in figures["daily"]}
    assert daily == {
        date(2022, 4, 24): (7, 6, 4),  # c0 at 07:00 Beijing; n6 decided at 10:00
        date(2022, 4, 25): (0, 1, 1),
        date(2022, 4, 26): (1, 0, 0),
    }
    backlog = figures["backlog"]
    assert (backlog["open"], backlog["overdue"]) == (2, 1)  # n4 is 61 hours old
    assert [(r["key"], r["open"], r["overdue"]) for r in backlog["by_channel"]] == [
        ("employer", 1, 1),
        ("hotline", 1, 0),
    ]
    assert [(r["label"], r["open"]) for r in backlog["by_county"]] == [("南关区", 2)]


def test_the_default_range_is_the_last_thirty_days(scenario):
    figures = clearance_figures(Clearance.objects.all(), now=NOW)
    assert (figures["start"], figures["end"]) == (date(2022, 3, 28), date(2022, 4, 26))
    assert figures["decisions"]["overall"]["decided"] == 8 and len(figures["daily"]) == 30


def test_the_command_centre_reads_the_page(client, scenario, make_staff):
    client.force_login(make_staff(Role.COMMAND_CENTRE))
    with time_machine.travel(NOW, tick=False):
        response = client.get(URL, {"start": "2022-04-24", "end": "2022-04-26"})
    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("clearances:figures") == URL
    assert '<span class="value" id="fig-rate">71.4%</span>' in html
    assert '<span class="value" id="fig-median">8.0</span>' in html
    assert '<span class="value" id="fig-p90">20.4</span>' in html
    assert '<span class="value" id="fig-overdue">1</span>' in html
    assert "nanguan-a" in html and "chaoyang-a" in html and "朝阳区" in html
    assert 'data-day="2022-04-24"' in html and 'data-day="2022-04-27"' not in html


def test_a_district_reviewer_sees_only_their_district(client, scenario):
    client.force_login(scenario["r1"])
    with time_machine.travel(NOW, tick=False):
        html = client.get(URL, {"start": "2022-04-24", "end": "2022-04-26"}).content.decode()
    # 南关区: hours [2, 4, 10, 14, 30], four of five approved.
    assert '<span class="value" id="fig-decided">5</span>' in html
    assert '<span class="value" id="fig-rate">80.0%</span>' in html
    assert '<span class="value" id="fig-median">10.0</span>' in html
    assert '<span class="value" id="fig-p90">23.6</span>' in html
    assert '<span class="value" id="fig-submitted">6</span>' in html
    assert "chaoyang-a" not in html and 'data-key="220104"' not in html
    assert "nanguan-b" in html


def test_a_bad_range_falls_back_to_the_last_thirty_days(client, scenario, make_staff):
    client.force_login(make_staff(Role.AUDITOR))
    with time_machine.travel(NOW, tick=False):
        html = client.get(URL, {"start": "2022-04-26", "end": "2022-04-01"}).content.decode()
    assert "起始日期不能晚于截止日期" in html
    assert 'value="2022-03-28"' in html and 'data-day="2022-03-28"' in html


def test_the_tables_download_as_csv_that_excel_reads_as_utf8(client, scenario, make_staff):
    client.force_login(make_staff(Role.ADMIN))
    with time_machine.travel(NOW, tick=False):
        response = client.get(URL, {"start": "2022-04-24", "end": "2022-04-26", "format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "clearance-figures-20220424-20220426.csv" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert "线上申诉,0,0,0,3,1,0,0,4" in lines  # by channel × status, then open and total
    assert "南关区,1,1,0,3,1,0,2,6" in lines
    assert "线上申诉,5,4,1,80.0%,4.0,12.4" in lines
    assert "nanguan-a,3,2,1,66.7%,4.0,12.0" in lines
    assert "合计,7,5,2,71.4%,8.0,20.4" in lines
    assert "2022-04-24,7,6,4" in lines
    assert "单位集中申请,1,1" in lines


def test_a_district_reviewers_csv_is_their_district_only(client, scenario):
    client.force_login(scenario["r3"])
    with time_machine.travel(NOW, tick=False):
        text = client.get(
            URL, {"start": "2022-04-24", "end": "2022-04-26", "format": "csv"}
        ).content.decode("utf-8-sig")
    assert "朝阳区" in text and "南关区" not in text and "nanguan-a" not in text


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.EMPLOYER, Role.HOTLINE, Role.LAB])
def test_other_roles_are_refused(client, make_staff, role):
    client.force_login(make_staff(role))
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"format": "csv"}).status_code == 403


def test_signing_in_is_required(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_days_of_another_year_show_their_year(client, scenario, make_staff):
    client.force_login(make_staff(Role.COMMAND_CENTRE))
    query = {"start": "2022-04-24", "end": "2022-04-26"}
    with time_machine.travel(NOW, tick=False):
        this_year = client.get(URL, query).content.decode()
    with time_machine.travel(datetime(2023, 1, 5, 9, tzinfo=BJ), tick=False):
        next_year = client.get(URL, query).content.decode()
    assert '<td class="nowrap">4月24日 星期日</td>' in this_year
    assert '<td class="nowrap">2022年4月24日 星期日</td>' in next_year
