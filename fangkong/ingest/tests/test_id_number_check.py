"""A file and the sign-in page judge an ID number alike (fangkong.engine.id_numbers), on the
Beijing date of the upload."""

from datetime import UTC, date, datetime

import pytest

from fangkong.engine.id_numbers import check_id_number, make_id_number
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.tests.support import community

pytestmark = pytest.mark.django_db
# 00:30 on 20 April in Beijing, still 19 April in UTC.
JUST_AFTER_MIDNIGHT = datetime(2022, 4, 19, 16, 30, tzinfo=UTC)


def resident(id_number: str) -> dict:
    return {
        "id_number": id_number,
        "name": "新生儿",
        "phone": "13900000001",
        "community_code": community("220102").code,
    }


def test_a_baby_born_after_midnight_in_beijing_loads_while_utc_is_still_on_the_day_before():
    newborn = make_id_number("220102", date(2022, 4, 20), 2)
    report = do_ingest("residents", rows=[resident(newborn)], now=JUST_AFTER_MIDNIGHT)
    assert (report.inserted, report.rejected) == (1, 0), report.errors


def test_a_birth_date_after_today_is_refused_in_a_file_as_at_sign_in():
    unborn = make_id_number("220102", date(2022, 4, 21), 2)
    report = do_ingest("residents", rows=[resident(unborn)], now=JUST_AFTER_MIDNIGHT)
    assert report.rejected == 1
    assert report.errors[0]["reason"] == "出生日期晚于今天"
    assert check_id_number(unborn, today=date(2022, 4, 20)) == "出生日期晚于今天"


def test_a_birth_year_before_1880_is_refused_in_a_file_as_at_sign_in():
    report = do_ingest(
        "residents",
        rows=[resident(make_id_number("220102", date(1879, 12, 31), 2))],
        now=JUST_AFTER_MIDNIGHT,
    )
    assert report.rejected == 1
    assert report.errors[0]["reason"] == "出生日期早于1880年"


def test_blanks_around_a_number_and_a_lower_case_x_do_not_make_it_a_different_person():
    number = next(
        n
        for n in (make_id_number("220102", date(1980, 1, 1), s) for s in range(1000))
        if n.endswith("X")
    )
    first = do_ingest("residents", rows=[resident(number)], now=JUST_AFTER_MIDNIGHT)
    again = do_ingest("residents", rows=[resident(f" {number.lower()} ")], now=JUST_AFTER_MIDNIGHT)
    assert (first.inserted, again.duplicates) == (1, 1), again.errors
