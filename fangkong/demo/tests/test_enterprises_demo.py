"""`fangkong demo` tells the resumption of work in 长春新区 (220173) with the seed's numbers: on
20 April 195 above-scale industrial enterprises, 182 resumed (93.3 %), 78 % production and
15 217 staff on duty; 63 automotive firms back with 5 157 returning staff, 天合富奥 at 30 % and
富维东阳 at 33 % — computed from the stored filings and daily reports, by the dashboard's
figures and by a count of our own in SQL."""

import io
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection

from fangkong.accounts.models import StaffProfile
from fangkong.audit.models import AuditEntry
from fangkong.demo.accounts import print_logins
from fangkong.demo.enterprises import (
    DISTRICT,
    FUWEI,
    MAKER,
    REPORT_DAYS,
    TIANHE,
    plan,
    replay_enterprises,
)
from fangkong.enterprises.models import (
    DailyReport,
    Employee,
    Enterprise,
    GateEntry,
    ResumptionStep,
    SupplyLink,
    VehicleDisinfection,
)
from fangkong.enterprises.rules import LOCAL
from fangkong.enterprises.stats import district_figures, end_of_day
from fangkong.ingest.models import Batch
from fangkong.people.models import Person

pytestmark = pytest.mark.django_db
APRIL_20 = date(2022, 4, 20)


@pytest.fixture
def story(story_city):
    """The demo's story (fangkong.demo.tests.conftest): it ends with the enterprises."""
    return story_city


def automotive(figures: dict) -> dict:
    return next(row for row in figures["by_industry"] if row["industry"] == "automotive")


def counted_in_sql(day: date) -> dict:
    """The day's figures of 220173 counted straight from the tables: each enterprise's latest
    filing step by the end of the day, the day's reports not corrected."""
    end = connection.ops.adapt_datetimefield_value(end_of_day(day))
    on = connection.ops.adapt_datefield_value(day)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH latest AS (
                SELECT s.enterprise_id, s.status, ROW_NUMBER() OVER (
                    PARTITION BY s.enterprise_id ORDER BY s.at DESC, s.recorded_at DESC, s.id DESC
                ) AS n
                FROM enterprises_resumptionstep s WHERE s.at <= %s AND s.recorded_at <= %s
            ), firms AS (
                SELECT e.id, e.industry, e.normal_staff,
                       CASE WHEN l.status = 'resumed' THEN 1 ELSE 0 END AS resumed
                FROM enterprises_enterprise e
                LEFT JOIN latest l ON l.enterprise_id = e.id AND l.n = 1
                WHERE e.county_code = %s AND e.above_scale
            ), reports AS (
                SELECT r.* FROM enterprises_dailyreport r
                WHERE r.day = %s AND r.recorded_at <= %s AND NOT EXISTS (
                    SELECT 1 FROM enterprises_dailyreport c
                    WHERE c.supersedes_id = r.id AND c.recorded_at <= %s)
            )
            SELECT f.industry, COUNT(*), SUM(f.resumed),
                   COALESCE(SUM(r.staff_on_duty), 0), COALESCE(SUM(r.returning_staff), 0),
                   SUM(CASE WHEN f.resumed = 1 THEN r.capacity_percent * 10 * f.normal_staff END),
                   SUM(CASE WHEN f.resumed = 1 AND r.id IS NOT NULL THEN f.normal_staff END)
            FROM firms f LEFT JOIN reports r ON r.enterprise_id = f.id
            GROUP BY f.industry
            """,
            [end, end, DISTRICT, on, end, end],
        )
        rows = cursor.fetchall()
    total = {"registered": 0, "resumed": 0, "staff": 0, "weighted": Decimal(0), "weight": 0}
    by_industry = {}
    for industry, registered, resumed, staff, returning, weighted, weight in rows:
        by_industry[industry] = {
            "registered": registered,
            "resumed": int(resumed),
            "returning": int(returning),
        }
        total["registered"] += registered
        total["resumed"] += int(resumed)
        total["staff"] += int(staff)
        total["weighted"] += Decimal(str(weighted or 0))
        total["weight"] += int(weight or 0)
    production = total["weighted"] / 1000 / total["weight"]
    return {
        "registered": total["registered"],
        "resumed": total["resumed"],
        "resumption_rate": float(
            (Decimal(total["resumed"]) / total["registered"]).quantize(Decimal("0.001"))
        ),
        "production_rate": float(production.quantize(Decimal("0.001"), ROUND_HALF_UP)),
        "staff_on_duty": total["staff"],
        "automotive": by_industry["automotive"],
    }


def test_the_dashboard_of_20_april_shows_the_seeds_figures(story):
    figures = district_figures(APRIL_20, county=DISTRICT)
    assert (figures["registered"], figures["resumed"]) == (195, 182)
    assert (figures["resumption_rate"], figures["production_rate"]) == (0.933, 0.78)
    assert figures["staff_on_duty"] == 15_217
    auto = automotive(figures)
    assert (auto["registered"], auto["resumed"], auto["returning_staff"]) == (66, 63, 5_157)


def test_a_count_of_our_own_in_sql_agrees(story):
    counted = counted_in_sql(APRIL_20)
    assert counted == {
        "registered": 195,
        "resumed": 182,
        "resumption_rate": 0.933,
        "production_rate": 0.78,
        "staff_on_duty": 15_217,
        "automotive": {"registered": 66, "resumed": 63, "returning": 5_157},
    }
    for day in REPORT_DAYS:
        figures = district_figures(day, county=DISTRICT)
        mine = counted_in_sql(day)
        assert (figures["resumed"], figures["staff_on_duty"], figures["production_rate"]) == (
            mine["resumed"],
            mine["staff_on_duty"],
            mine["production_rate"],
        ), day


def test_the_named_suppliers_report_their_capacity_and_the_key_ones_are_about_30(story):
    reports = DailyReport.objects.filter(day=APRIL_20, supersedes__isnull=True)
    assert reports.get(enterprise__name=TIANHE).capacity_percent == Decimal("30.0")
    assert reports.get(enterprise__name=FUWEI).capacity_percent == Decimal("33.0")
    key = story["enterprises"]["key_suppliers"]
    assert key["count"] >= 20 and 28 <= key["capacity"] <= 32
    auto = reports.filter(enterprise__industry="automotive", enterprise__county_code=DISTRICT)
    assert all(Decimal(15) <= r.capacity_percent <= Decimal(50) for r in auto)


def test_the_story_text_quotes_the_computed_figures(story):
    text = story["text"]
    for words in ("195户规上工业企业", "已复工182户", "复工率93.3%", "复产率78.0%", "15,217人"):
        assert words in text
    for words in (
        "复工汽车企业63户",
        "返岗人员5,157人",
        "天合富奥产能恢复30%",
        "富维东阳产能恢复33%",
    ):
        assert words in text


def test_resumption_grows_day_by_day_and_earlier_days_report_less(story):
    days = [district_figures(day, county=DISTRICT) for day in REPORT_DAYS]
    resumed = [d["resumed"] for d in days]
    assert resumed == sorted(resumed) and len(set(resumed)) == len(resumed)
    staff = [d["staff_on_duty"] for d in days]
    assert staff == sorted(staff) and staff[0] < staff[-1] / 2
    assert days[0]["production_rate"] < days[-1]["production_rate"]
    # Every enterprise resumed at the end of a day reported that day, and no other.
    for day, figures in zip(REPORT_DAYS, days, strict=True):
        reported = DailyReport.objects.filter(day=day, enterprise__county_code=DISTRICT).count()
        assert reported == figures["resumed"], day


def test_the_filing_history_is_real(story):
    firms = Enterprise.objects.filter(county_code=DISTRICT, above_scale=True)
    kinds = {}
    for e in firms:
        kinds[e.pk] = list(
            ResumptionStep.objects.filter(enterprise=e).order_by("at").values_list("kind", "status")
        )
    suspended = [k for k in kinds.values() if ("suspend", "suspended") in k]
    assert len(suspended) == 2
    assert all(k[-1] == ("resume", "resumed") for k in suspended)
    last = [k[-1][1] if k else "not_started" for k in kinds.values()]
    assert last.count("resumed") == 182
    assert {"approved", "filed", "not_started"} <= set(last)
    resumed = [k for k in kinds.values() if k and k[-1][1] == "resumed"]
    assert all(
        [kind for kind, _ in k[:4]] == ["file", "check", "approve", "resume"] for k in resumed
    )
    steps = ResumptionStep.objects.filter(enterprise__county_code=DISTRICT)
    first, last_step = steps.order_by("at").first().at, steps.order_by("-at").first().at
    assert first.astimezone(LOCAL).date() == date(2022, 4, 8)
    assert last_step.astimezone(LOCAL).date() <= APRIL_20
    tianhe_filing = steps.get(enterprise__name=TIANHE, kind="file")
    assert tianhe_filing.recorded_by.username == "tianhe"
    assert set(steps.filter(kind="approve").values_list("recorded_by__username", flat=True)) == {
        "district_xinqu"
    }


def test_faw_is_the_customer_of_the_automotive_suppliers(story):
    maker = Enterprise.objects.get(name=MAKER)
    assert (maker.county_code, maker.above_scale, maker.industry) == ("220172", True, "automotive")
    suppliers = set(SupplyLink.objects.filter(customer=maker).values_list("supplier_id", flat=True))
    auto = set(
        Enterprise.objects.filter(
            county_code=DISTRICT, above_scale=True, industry="automotive"
        ).values_list("pk", flat=True)
    )
    assert suppliers == auto and len(auto) == 66


def test_the_registry_came_through_the_ingestion_path_with_valid_codes(story):
    from stdnum.cn.uscc import is_valid

    firms = Enterprise.objects.filter(county_code=DISTRICT, above_scale=True)
    assert all(is_valid(e.uscc) for e in Enterprise.objects.all())
    batches = set(firms.values_list("batch_id", flat=True))
    assert Batch.objects.filter(pk__in=batches, kind="enterprises", source="demo").count() == 1
    employers = set(Person.objects.exclude(employer="").values_list("employer", flat=True))
    assert {e.name for e in firms} == {f.name for f in plan(7, taken=employers)}
    reports = Batch.objects.filter(kind="daily_reports", source="demo")
    assert reports.count() == len(REPORT_DAYS)


def test_the_demo_employers_are_registered_where_their_staff_live_and_linked(story):
    employers = set(Person.objects.exclude(employer="").values_list("employer", flat=True))
    assert employers
    registered = Enterprise.objects.filter(name__in=employers)
    assert registered.count() == len(employers)
    assert not registered.filter(above_scale=True).exists()
    for e in registered:
        staff = Person.objects.filter(employer=e.name)
        counties = list(staff.values_list("county_code", flat=True))
        most = max(counties.count(c) for c in set(counties))
        assert counties.count(e.county_code) == most
        assert Employee.objects.filter(enterprise=e).count() == staff.count()


def test_tianhe_has_its_own_account_staff_and_a_gate_that_admits_and_refuses(story):
    tianhe = Enterprise.objects.get(name=TIANHE)
    assert StaffProfile.objects.get(user__username="tianhe").enterprise == tianhe
    roles = set(Employee.objects.filter(enterprise=tianhe).values_list("role", flat=True))
    assert roles == {"resident", "returning", "closed_loop"}
    entries = list(GateEntry.objects.filter(enterprise=tianhe).order_by("at"))
    admitted = [e for e in entries if e.admitted]
    refused = [e for e in entries if not e.admitted]
    assert len(admitted) == 1 and len(refused) == 1
    assert admitted[0].at - admitted[0].pcr_sampled_at <= timedelta(hours=48)
    assert any("无48小时内核酸阴性结果" in reason for reason in refused[0].reasons)
    assert refused[0].pcr_sampled_at is None or (
        refused[0].at - refused[0].pcr_sampled_at > timedelta(hours=48)
    )
    assert VehicleDisinfection.objects.filter(enterprise=tianhe).count() == 1
    out = io.StringIO()
    print_logins(out)
    assert "tianhe" in out.getvalue() and "district_xinqu" in out.getvalue()


def test_running_it_again_changes_nothing(story):
    def counts():
        return {
            model.__name__: model.objects.count()
            for model in (
                Enterprise,
                SupplyLink,
                Employee,
                ResumptionStep,
                DailyReport,
                GateEntry,
                VehicleDisinfection,
                Batch,
                AuditEntry,
            )
        }

    before = counts()
    again = replay_enterprises(7)
    assert counts() == before
    assert again["resumed"] == 182 and again["staff_on_duty"] == 15_217
