"""Times staff type, on pages and the command line: Beijing time unless they say otherwise, and
the end of a day written as announcements count it (截至19日24时)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from fangkong.policies.forms import BEIJING, parse_local_time


def test_a_time_without_an_offset_is_beijing_time():
    assert parse_local_time("2022-04-23T08:00") == datetime(2022, 4, 23, 8, tzinfo=BEIJING)
    assert parse_local_time(" 2022-04-23 ") == datetime(2022, 4, 23, tzinfo=BEIJING)


def test_a_time_with_an_offset_keeps_it():
    assert parse_local_time("2022-04-23T00:00:00Z") == datetime(2022, 4, 23, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2022-04-19T24:00", "2022-04-19 24:00:00", "2022-04-19T24:00"])
def test_twenty_four_hundred_is_the_next_days_midnight(text):
    assert parse_local_time(text) == datetime(2022, 4, 20, tzinfo=BEIJING)


def test_twenty_four_hundred_keeps_its_offset_and_crosses_months():
    utc = UTC
    assert parse_local_time("2022-04-30T24:00Z") == datetime(2022, 5, 1, tzinfo=utc)
    eight = timezone(timedelta(hours=8))
    assert parse_local_time("2022-04-30T24:00+08:00") == datetime(2022, 5, 1, tzinfo=eight)


@pytest.mark.parametrize(
    "text", ["", "2022-04-19T24:30", "2022-04-19T25:00", "4月19日", "2022-02-30"]
)
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError):
        parse_local_time(text)
