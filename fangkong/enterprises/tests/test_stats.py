"""The resumption figures of a day (复工复产统计) are computed from the registry, the filing steps
and the daily reports as known at a moment: a step or a report recorded later does not change
what an earlier moment showed, a correction replaces the report it corrects, a suspended
enterprise stops counting as resumed, and the production rate weights each enterprise's capacity
by its normal staff. The figures agree with a count written directly in SQL."""

import itertools
import random
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from stdnum.cn.uscc import calc_check_digit, validate

from fangkong.enterprises.models import DailyReport, Enterprise, ResumptionStep
from fangkong.enterprises.stats import by_county, district_figures, end_of_day, last_days, trend

pytestmark = pytest.mark.django_db
BJ = ZoneInfo("Asia/Shanghai")
NEW_AREA = "220173"  # 长春新区
NANGUAN = "220102"  # 南关区
APRIL_20 = date(2022, 4, 20)
_serial = itertools.count(1)
KIND_OF = {
    "filed": "file",
    "approved": "approve",
    "resumed": "resume",
    "suspended": "suspend",
    "not_started": "reject",
}


def at(month_day: str, hour: int, minute: int = 0) -> datetime:
    month, day = (int(x) for x in month_day.split("-"))
    return datetime(2022, month, day, hour, minute, tzinfo=BJ)


def enterprise(
    name: str,
    *,
    county: str = NEW_AREA,
    industry: str = "automotive",
    normal_staff: int = 100,
    above_scale: bool = True,
    registered: datetime | None = None,
) -> Enterprise:
    """An enterprise with a valid unified social credit code (GB 32100 check character)."""
    base = f"91{county}{next(_serial):09d}"
    return Enterprise.objects.create(
        uscc=validate(base + calc_check_digit(base)),
        name=name,
        county_code=county,
        industry=industry,
        above_scale=above_scale,
        normal_staff=normal_staff,
        recorded_at=registered or at("4-1", 9),
    )


def step(firm: Enterprise, status: str, when: datetime, recorded: datetime | None = None):
    return ResumptionStep.objects.create(
        enterprise=firm,
        kind=KIND_OF[status],
        status=status,
        at=when,
        recorded_at=recorded or when,
    )


def report(
    firm: Enterprise,
    day: date,
    staff: int,
    capacity: str,
    *,
    returning: int = 0,
    recorded: datetime,
    corrects: DailyReport | None = None,
) -> DailyReport:
    return DailyReport.objects.create(
        enterprise=firm,
        day=day,
        staff_on_duty=staff,
        returning_staff=returning,
        capacity_percent=Decimal(capacity),
        recorded_at=recorded,
        supersedes=corrects,
        correction_reason="更正在岗人数" if corrects else "",
    )


def build_new_area() -> dict[str, Enterprise]:
    """In 长春新区: two automotive firms (1000 and 500 normal staff) and a pharmaceutical one
    (200), above scale; a small pharmaceutical firm below scale; in 南关区 a food plant.

    The first car maker resumed on 15 April; the second on 18 April and was suspended on 20
    April at 14:00; the pharmaceutical plant resumed on 20 April at 10:00, but that was only
    recorded the next morning. On 20 April the first car maker reported 800 on duty at 80 %
    (18:00) and corrected it to 820 at 90 % (20:00)."""
    car = enterprise("一汽测试整车", normal_staff=1000)
    parts = enterprise("测试零部件", normal_staff=500)
    pharma = enterprise("测试药业", industry="pharma", normal_staff=200)
    small = enterprise("测试小药坊", industry="pharma", above_scale=False, normal_staff=10)
    food = enterprise("南关测试食品", county=NANGUAN, industry="food", normal_staff=100)
    step(car, "filed", at("4-12", 9))
    step(car, "approved", at("4-14", 9))
    step(car, "resumed", at("4-15", 8))
    step(parts, "resumed", at("4-18", 8))
    step(parts, "suspended", at("4-20", 14))
    step(pharma, "approved", at("4-19", 9))
    step(pharma, "resumed", at("4-20", 10), recorded=at("4-21", 9))
    step(small, "resumed", at("4-15", 8))
    step(food, "resumed", at("4-16", 8))
    first = report(car, APRIL_20, 800, "80", returning=300, recorded=at("4-20", 18))
    report(car, APRIL_20, 820, "90", returning=310, recorded=at("4-20", 20), corrects=first)
    report(parts, APRIL_20, 100, "50", recorded=at("4-20", 17))
    report(pharma, APRIL_20, 150, "60", returning=20, recorded=at("4-20", 16))
    report(small, APRIL_20, 10, "100", recorded=at("4-20", 16))
    report(food, APRIL_20, 70, "70", returning=5, recorded=at("4-20", 15))
    return {"car": car, "parts": parts, "pharma": pharma, "small": small, "food": food}


@pytest.fixture
def new_area():
    return build_new_area()


@time_machine.travel(at("4-25", 9))
def test_the_district_figures_of_a_day_are_as_known_at_its_end(new_area):
    shown = district_figures(APRIL_20, county=NEW_AREA)
    assert shown["date"] == "2022-04-20" and shown["county"] == NEW_AREA
    # Registered: the three above-scale firms; resumed at the end of the day as known then:
    # only the car maker (the parts maker was suspended, the pharma resumption not yet known).
    assert (shown["registered"], shown["resumed"]) == (3, 1)
    assert shown["resumption_rate"] == 0.333
    # Production: the corrected report of the only resumed firm, 90 %.
    assert shown["production_rate"] == 0.9
    # Staff: the day's standing reports of all three, the correction replacing its report.
    assert shown["staff_on_duty"] == 820 + 100 + 150
    assert shown["returning_staff"] == 310 + 20
    assert (shown["reported"], shown["not_reported"]) == (3, 0)
    assert shown["as_of"] == "2022-04-20T23:59:59.999999+08:00"


@time_machine.travel(at("4-25", 9))
def test_a_step_recorded_later_counts_only_from_when_it_was_recorded(new_area):
    # Asked as known on the morning of 21 April, the pharma plant's resumption on the 20th
    # (effective 10:00, recorded 21 April 09:00) counts.
    before = district_figures(APRIL_20, county=NEW_AREA, as_of=at("4-21", 8, 59))
    after = district_figures(APRIL_20, county=NEW_AREA, as_of=at("4-21", 9))
    assert (before["resumed"], after["resumed"]) == (1, 2)
    assert after["resumption_rate"] == 0.667


@time_machine.travel(at("4-25", 9))
def test_the_production_rate_weights_each_capacity_by_the_normal_staff(new_area):
    shown = district_figures(APRIL_20, county=NEW_AREA, as_of=at("4-21", 9))
    # (90 % × 1000 + 60 % × 200) / 1200 = 85 %, not the plain mean of 90 % and 60 % (75 %);
    # the suspended parts maker's 50 % does not count.
    assert shown["production_rate"] == 0.85


@time_machine.travel(at("4-25", 9))
def test_a_report_before_its_correction_stands_until_the_correction_is_recorded(new_area):
    shown = district_figures(APRIL_20, county=NEW_AREA, as_of=at("4-20", 19))
    assert shown["staff_on_duty"] == 800 + 100 + 150
    assert shown["returning_staff"] == 300 + 20
    assert shown["production_rate"] == 0.8


@time_machine.travel(at("4-25", 9))
def test_a_suspended_enterprise_stops_counting_as_resumed(new_area):
    before = district_figures(APRIL_20, county=NEW_AREA, as_of=at("4-20", 13, 59))
    after = district_figures(APRIL_20, county=NEW_AREA, as_of=at("4-20", 14))
    assert (before["resumed"], after["resumed"]) == (2, 1)
    # No report was in by 14:00: nothing to weigh, so no production rate.
    assert after["production_rate"] is None and after["reported"] == 0
    assert after["not_reported"] == 3


def test_the_figures_of_a_day_not_yet_over_are_as_known_now(new_area):
    with time_machine.travel(at("4-20", 14, 30)):
        now = district_figures(APRIL_20, county=NEW_AREA)
    assert now == district_figures(APRIL_20, county=NEW_AREA, as_of=at("4-20", 14, 30))
    assert now["resumed"] == 1


@time_machine.travel(at("4-25", 9))
def test_an_enterprise_registered_later_is_not_counted_before(new_area):
    enterprise("后来登记的企业", registered=at("4-21", 10))
    assert district_figures(APRIL_20, county=NEW_AREA)["registered"] == 3
    later = district_figures(APRIL_20, county=NEW_AREA, as_of=at("4-21", 10))
    assert later["registered"] == 4 and later["not_reported"] == 1


@time_machine.travel(at("4-25", 9))
def test_the_figures_are_broken_down_by_industry(new_area):
    shown = district_figures(APRIL_20, county=NEW_AREA, as_of=at("4-21", 9))
    assert [row["industry"] for row in shown["by_industry"]] == ["automotive", "pharma"]
    automotive, pharma = shown["by_industry"]
    assert automotive["industry_label"] == "汽车及零部件"
    assert (automotive["registered"], automotive["resumed"]) == (2, 1)
    assert (automotive["staff_on_duty"], automotive["returning_staff"]) == (920, 310)
    assert automotive["production_rate"] == 0.9
    assert (pharma["registered"], pharma["resumed"], pharma["staff_on_duty"]) == (1, 1, 150)
    assert pharma["returning_staff"] == 20


@time_machine.travel(at("4-25", 9))
def test_the_contract_keys_have_their_types(new_area):
    shown = district_figures(APRIL_20)
    for key in ("registered", "resumed", "staff_on_duty"):
        assert type(shown[key]) is int
    for key in ("resumption_rate", "production_rate"):
        assert type(shown[key]) is float
    assert shown["county"] is None
    for row in shown["by_industry"]:
        assert {"industry", "registered", "resumed", "staff_on_duty", "returning_staff"} <= set(row)


@time_machine.travel(at("4-25", 9))
def test_the_city_counts_every_district_and_by_county_splits_it(new_area):
    city = district_figures(APRIL_20)
    assert (city["registered"], city["resumed"]) == (4, 2)
    assert city["staff_on_duty"] == 820 + 100 + 150 + 70
    rows = by_county(APRIL_20)
    assert [(r["county"], r["county_name"]) for r in rows] == [
        (NANGUAN, "南关区"),
        (NEW_AREA, "长春高新技术产业开发区"),
    ]
    nanguan, new = rows
    assert (nanguan["registered"], nanguan["resumed"], nanguan["staff_on_duty"]) == (1, 1, 70)
    assert nanguan["production_rate"] == 0.7
    assert (new["registered"], new["resumed"], new["staff_on_duty"]) == (3, 1, 1070)
    assert sum(r["registered"] for r in rows) == city["registered"]


@time_machine.travel(at("4-25", 9))
def test_by_county_lists_the_districts_asked_for_even_without_enterprises(new_area):
    rows = by_county(APRIL_20, counties=["220104", NEW_AREA])
    assert [(r["county"], r["registered"]) for r in rows] == [("220104", 0), (NEW_AREA, 3)]
    assert rows[0]["resumption_rate"] is None


@time_machine.travel(at("4-25", 9))
def test_a_district_or_an_industry_narrows_the_figures(new_area):
    assert district_figures(APRIL_20, counties=[NANGUAN])["staff_on_duty"] == 70
    pharma = district_figures(APRIL_20, county=NEW_AREA, industry="pharma")
    assert (pharma["registered"], pharma["staff_on_duty"]) == (1, 150)
    own = district_figures(APRIL_20, enterprise_ids=[new_area["parts"].pk])
    assert (own["registered"], own["resumed"], own["staff_on_duty"]) == (1, 0, 100)


@time_machine.travel(at("4-25", 9))
def test_each_day_of_the_trend_is_that_days_figures(new_area, django_assert_max_num_queries):
    report(new_area["car"], date(2022, 4, 19), 700, "75", recorded=at("4-19", 18))
    days = last_days(APRIL_20, 3)
    assert days == [date(2022, 4, 18), date(2022, 4, 19), APRIL_20]
    with django_assert_max_num_queries(2 + 2 * len(days)):
        rows = trend(days, NEW_AREA)
    for day, row in zip(days, rows, strict=True):
        shown = district_figures(day, county=NEW_AREA)
        assert row == {k: shown[k] for k in row if k != "date"} | {"date": day.isoformat()}
    assert [r["resumed"] for r in rows] == [2, 2, 1]
    assert [r["staff_on_duty"] for r in rows] == [0, 700, 1070]
    later = trend(days, NEW_AREA, as_of=at("4-21", 9))
    assert later[-1]["resumed"] == 2
    assert trend(days, NEW_AREA, industry="pharma")[-1]["staff_on_duty"] == 150


# --- the figures agree with a direct SQL count ----------------------------------------------


# Registered above-scale firms of the county; the resumed among them (their latest step effective
# and recorded by then says 已复工); their standing reports (recorded by then, not corrected by
# then).
DIRECT_COUNT = """
    SELECT COUNT(*),
           COUNT(res.enterprise_id),
           COALESCE(SUM(rep.staff_on_duty), 0),
           SUM(CASE WHEN res.enterprise_id IS NOT NULL AND f.normal_staff > 0
                    THEN rep.capacity_percent * f.normal_staff END),
           SUM(CASE WHEN res.enterprise_id IS NOT NULL AND rep.enterprise_id IS NOT NULL
                    THEN f.normal_staff END)
    FROM (
        SELECT e.id, e.normal_staff FROM enterprises_enterprise e
        WHERE e.above_scale = %(yes)s AND e.recorded_at <= %(known)s
          AND e.county_code = %(county)s
    ) f
    LEFT JOIN (
        SELECT s.enterprise_id FROM enterprises_resumptionstep s
        WHERE s.status = 'resumed' AND s.at <= %(effective)s AND s.recorded_at <= %(known)s
          AND NOT EXISTS (
            SELECT 1 FROM enterprises_resumptionstep l
            WHERE l.enterprise_id = s.enterprise_id
              AND l.at <= %(effective)s AND l.recorded_at <= %(known)s
              AND (l.at > s.at OR (l.at = s.at AND (l.recorded_at > s.recorded_at
                   OR (l.recorded_at = s.recorded_at AND l.id > s.id)))))
    ) res ON res.enterprise_id = f.id
    LEFT JOIN (
        SELECT r.enterprise_id, r.staff_on_duty, r.capacity_percent
        FROM enterprises_dailyreport r
        WHERE r.day = %(day)s AND r.recorded_at <= %(known)s
          AND NOT EXISTS (
            SELECT 1 FROM enterprises_dailyreport c
            WHERE c.supersedes_id = r.id AND c.recorded_at <= %(known)s)
    ) rep ON rep.enterprise_id = f.id
"""


def sql_figures(day: date, county: str, as_of: datetime) -> dict:
    """The day's figures counted straight from the tables, without the ORM or the app's code."""
    ops = connection.ops
    params = {
        "yes": True,
        "known": ops.adapt_datetimefield_value(as_of),
        "effective": ops.adapt_datetimefield_value(min(end_of_day(day), as_of)),
        "county": county,
        "day": ops.adapt_datefield_value(day),
    }
    with connection.cursor() as cursor:
        cursor.execute(DIRECT_COUNT, params)
        registered, resumed_count, staff, weighted, weight = cursor.fetchone()
    rate = None
    if weight:
        rate = float(
            (Decimal(str(weighted)) / 100 / Decimal(weight)).quantize(
                Decimal("0.001"), ROUND_HALF_UP
            )
        )
    return {
        "registered": registered,
        "resumed": resumed_count,
        "staff_on_duty": staff,
        "production_rate": rate,
    }


def build_busy_district() -> None:
    """Forty firms in 长春新区 with random filings (filed, resumed, suspended, resumed again,
    some recorded late) and random reports on 19-21 April, some corrected once or twice."""
    rng = random.Random(20220420)
    start = at("4-17", 0)
    for n in range(40):
        firm = enterprise(
            f"随机企业{n}",
            industry=rng.choice(["automotive", "pharma", "food", "equipment"]),
            normal_staff=rng.choice([0, 50, 120, 300, 1000]),
            above_scale=rng.random() < 0.85,
            registered=start + timedelta(hours=rng.randint(-48, 96)),
        )
        when = start
        for _ in range(rng.randint(0, 4)):
            when += timedelta(minutes=rng.randint(60, 60 * 30))
            late = timedelta(minutes=rng.choice([0, 0, 0, 90, 60 * 20]))
            step(
                firm,
                rng.choice(["filed", "approved", "resumed", "resumed", "suspended"]),
                when,
                recorded=when + late,
            )
        for day in (date(2022, 4, 19), APRIL_20, date(2022, 4, 21)):
            if rng.random() < 0.2:
                continue
            recorded = datetime.combine(day, datetime.min.time(), tzinfo=BJ) + timedelta(
                minutes=rng.randint(8 * 60, 30 * 60)
            )
            shown = None
            for _ in range(rng.choice([1, 1, 2, 3])):
                staff = rng.randint(0, 900)
                shown = report(
                    firm,
                    day,
                    staff,
                    str(rng.randint(0, 120)),
                    returning=rng.randint(0, staff),
                    recorded=recorded,
                    corrects=shown,
                )
                recorded += timedelta(minutes=rng.randint(10, 600))
    # A firm of another district, which the district's count must leave out.
    other = enterprise("南关随机企业", county=NANGUAN, normal_staff=100)
    step(other, "resumed", at("4-18", 8))
    report(other, APRIL_20, 99, "99", recorded=at("4-20", 12))


@pytest.fixture
def busy_district():
    build_busy_district()


@pytest.mark.parametrize(
    "day, as_of",
    [
        (date(2022, 4, 19), None),
        (APRIL_20, None),
        (APRIL_20, at("4-20", 15)),
        (APRIL_20, at("4-21", 6)),
        (APRIL_20, at("4-23", 0)),
        (date(2022, 4, 21), at("4-21", 12)),
    ],
)
@time_machine.travel(at("4-25", 9))
def test_the_figures_agree_with_a_direct_sql_count(busy_district, day, as_of):
    shown = district_figures(day, county=NEW_AREA, as_of=as_of)
    expected = sql_figures(day, NEW_AREA, as_of or end_of_day(day))
    # The data are not trivially empty.
    assert expected["registered"] > 20 and expected["resumed"] and expected["staff_on_duty"]
    assert {k: shown[k] for k in expected} == expected
