import datetime as dt

import numpy as np
import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from fangkong.engine.id_numbers import (
    beijing_date,
    check_char,
    check_digit_ok,
    check_digits_ok,
    check_id_number,
    check_id_numbers,
    is_known_region,
    make_id_number,
    mask,
    mask_phone,
    normalise_id_number,
)

TODAY = dt.date(2022, 4, 1)


def with_wrong_check_char(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def test_a_resident_of_nanguan_born_1980_is_valid():
    number = make_id_number("220102", dt.date(1980, 5, 17), 123)
    assert check_id_number(number, today=TODAY) is None


def test_stdnum_rejects_that_nanguan_resident_which_is_why_we_do_not_rely_on_it():
    # loc.dat starts 南关区 in 1983 and stdnum wants the region to exist in the birth year.
    number = make_id_number("220102", dt.date(1980, 5, 17), 123)
    assert not ric.is_valid(number)


def test_someone_from_jiutai_district_born_1975_is_valid():
    number = make_id_number("220113", dt.date(1975, 8, 1), 42)
    assert check_id_number(number, today=TODAY) is None
    assert not ric.is_valid(number)  # 九台区 only exists since 2014 in stdnum's table


def test_the_historic_jiutai_city_code_is_valid():
    assert check_id_number(make_id_number("220181", dt.date(1992, 3, 4), 7), today=TODAY) is None


def test_gongzhuling_under_siping_is_valid():
    assert check_id_number(make_id_number("220381", dt.date(2001, 12, 31), 8), today=TODAY) is None


@pytest.mark.parametrize("zone", ["220171", "220172", "220173", "220174"])
def test_development_zone_codes_are_rejected_with_their_own_reason(zone):
    number = make_id_number(zone, dt.date(1990, 1, 1), 1)
    assert check_id_number(number, today=TODAY) == (
        f"地区代码{zone}是开发区统计代码,不出现在身份证号码中"
    )
    assert is_known_region(zone) is False


def test_stdnum_stumbles_over_development_zones_with_a_key_error():
    # Documents the other reason we wrap numdb ourselves.
    with pytest.raises(KeyError):
        ric.is_valid(make_id_number("220171", dt.date(1990, 1, 1), 1))


def test_an_unknown_region_is_named_in_the_reason():
    number = make_id_number("999999", dt.date(1990, 1, 1), 1)
    assert check_id_number(number, today=TODAY) == "地区代码999999不是已知的县级行政区划代码"


def test_a_wrong_check_character_says_which_one_was_expected():
    number = make_id_number("220102", dt.date(1980, 5, 17), 123)
    assert check_id_number(with_wrong_check_char(number), today=TODAY) == (
        f"校验位错误,应为{number[17]}"
    )


def test_the_31st_of_february_is_not_a_birth_date():
    number = make_id_number("220102", dt.date(1980, 2, 1), 1).replace("19800201", "19800231")
    assert check_id_number(number, today=TODAY) == "出生日期无效"


def test_birth_dates_before_1880_or_after_today_are_rejected():
    old = make_id_number("220102", dt.date(1879, 12, 31), 1)
    unborn = make_id_number("220102", dt.date(2022, 4, 2), 1)
    assert check_id_number(old, today=TODAY) == "出生日期早于1880年"
    assert check_id_number(unborn, today=TODAY) == "出生日期晚于今天"
    assert check_id_number(unborn, today=dt.date(2022, 4, 2)) is None


def test_a_lowercase_x_is_accepted_and_normalised():
    number = next(
        n
        for n in (make_id_number("220102", dt.date(1980, 1, 1), s) for s in range(1000))
        if n.endswith("X")
    )
    assert check_id_number(f"  {number.lower()} ", today=TODAY) is None
    assert normalise_id_number(f"  {number.lower()} ") == number


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("22010219800101001", "应为18位"),
        ("2201021980010100123", "应为18位"),
        ("22010a198001010012", "前17位应为数字"),
        ("２２０１０２198001010012", "前17位应为数字"),
        ("22010219800101001Y", "第18位应为数字或X"),
    ],
)
def test_malformed_numbers_get_a_reason(value, reason):
    assert check_id_number(value, today=TODAY) == reason


def test_made_numbers_agree_with_stdnum_and_our_own_check_character():
    number = make_id_number("110105", dt.date(1949, 10, 1), 19)
    assert number[17] == check_char(number[:17]) == ric.calc_check_digit(number)
    assert ric.is_valid(number)


def test_make_id_number_refuses_bad_parts():
    with pytest.raises(ValueError, match="region"):
        make_id_number("22010", dt.date(1980, 1, 1), 1)
    with pytest.raises(ValueError, match="sequence"):
        make_id_number("220102", dt.date(1980, 1, 1), 1000)


def test_masks_keep_only_what_staff_need_to_tell_people_apart():
    assert mask("22010219800101123X") == "220102********123X"
    assert mask(" 22010219800101123x ") == "220102********123X"
    assert mask_phone("13812341234") == "138****1234"
    assert mask("123") == "***"


def test_is_known_region_accepts_current_and_historic_codes_and_nothing_else():
    assert all(map(is_known_region, ["220102", "220113", "220181", "220381", "229005"]))
    assert not any(map(is_known_region, ["999999", "22010", "2201021", "22010a", "220171"]))


def test_the_vectorised_check_handles_malformed_entries():
    good = make_id_number("220102", dt.date(1980, 1, 1), 1)
    values = [good, good.lower(), with_wrong_check_char(good), good[:17], good + "0", "", None]
    assert check_digits_ok(values).tolist() == [True, True, False, False, False, False, False]
    assert check_digits_ok(np.array(values[:5])).tolist() == [True, True, False, False, False]
    assert check_digits_ok([]).tolist() == []
    assert check_digits_ok(np.array(["short"])).tolist() == [False]


near_numbers = st.one_of(
    st.builds(
        make_id_number,
        st.sampled_from(["220102", "220113", "220181", "110105"]),
        st.dates(dt.date(1880, 1, 1), dt.date(2022, 1, 1)),
        st.integers(0, 999),
    ),
    st.builds(
        lambda digits, last: digits + last,
        st.text("0123456789", min_size=17, max_size=17),
        st.sampled_from(list("0123456789Xx") + ["Y", "٣", "\x00"]),
    ),
    st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=20),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(near_numbers, max_size=40))
def test_the_vectorised_check_agrees_with_the_scalar_one(values):
    expected = [check_digit_ok(v) for v in values]
    assert check_digits_ok(values).tolist() == expected
    if values:
        assert check_digits_ok(np.array(values)).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(near_numbers)
def test_the_scalar_check_agrees_with_check_id_number_on_the_check_character(value):
    reason = check_id_number(value, today=TODAY)
    if reason is None:
        assert check_digit_ok(normalise_id_number(value))
    elif reason.startswith("校验位错误"):
        assert not check_digit_ok(normalise_id_number(value))


# -- one check for sign-in and bulk ingestion ---------------------------------------------------

UTC = dt.UTC
# Instants either side of midnight in Beijing (16:00 UTC), one of them on a leap day there.
ANCHORS = [
    dt.datetime(2022, 4, 19, 15, 59, 59, tzinfo=UTC),
    dt.datetime(2022, 4, 19, 16, 0, tzinfo=UTC),
    dt.datetime(2024, 2, 28, 16, 0, tzinfo=UTC),
    dt.datetime(2024, 2, 29, 15, 59, 59, tzinfo=UTC),
    dt.datetime(2023, 2, 28, 16, 0, tzinfo=UTC),
]
# Birth dates as written in a number, real or not: leap days of leap and common years, the
# 31st of a 30-day month, a 13th month, day 0, the earliest year allowed and the one before.
WRITTEN_BIRTHS = [
    "20000229", "19000229", "20240229", "20230229", "19960229",
    "20220431", "19960431", "19801301", "19800100", "19800001", "18800101", "18791231",
    "00000101",
]  # fmt: skip
REGIONS = ["220102", "220104", "220113", "220181", "110105", "220171", "999999", "000000"]


@st.composite
def numbers_on_a_day(draw):
    """(today, values): ID-number-like texts around the edges of every check, judged on the
    Beijing date of an instant near midnight in Beijing or anywhere in 2019–2026."""
    instant = draw(
        st.sampled_from(ANCHORS)
        | st.datetimes(dt.datetime(2019, 1, 1), dt.datetime(2026, 12, 31), timezones=st.just(UTC))
    )
    today = beijing_date(instant)
    near_today = st.integers(-2, 2).map(lambda k: (today + dt.timedelta(days=k)).strftime("%Y%m%d"))
    birth = st.one_of(
        near_today,
        st.sampled_from(WRITTEN_BIRTHS),
        st.dates(dt.date(1870, 1, 1), dt.date(2030, 12, 31)).map(lambda d: d.strftime("%Y%m%d")),
    )

    @st.composite
    def structured(draw):
        body = draw(st.sampled_from(REGIONS)) + draw(birth) + f"{draw(st.integers(0, 999)):03d}"
        last = draw(st.just(check_char(body)) | st.sampled_from(list("0123456789Xx") + ["Y"]))
        number = body + last
        number = draw(st.sampled_from([number, number.lower()]))
        pad = st.just("") | st.sampled_from([" ", "\t", "\u3000", "\n"])
        return draw(pad) + number + draw(pad)

    values = draw(st.lists(structured() | near_numbers, max_size=30))
    return today, values


@settings(max_examples=400, deadline=None)
@given(numbers_on_a_day())
def test_the_bulk_check_gives_the_verdict_and_reason_of_the_per_number_check(case):
    today, values = case
    expected = [check_id_number(v, today=today) for v in values]
    for given_as in (values, np.array(values, dtype=object)):
        verdicts = check_id_numbers(given_as, today)
        assert verdicts.ok.tolist() == [reason is None for reason in expected]
        assert [verdicts.reasons.get(i) for i in range(len(values))] == expected


def test_a_baby_born_after_midnight_in_beijing_is_valid_while_utc_is_still_on_the_day_before():
    just_after_midnight = dt.datetime(2022, 4, 19, 16, 30, tzinfo=UTC)  # 00:30 on 20 April there
    newborn = make_id_number("220102", dt.date(2022, 4, 20), 2)
    assert beijing_date(just_after_midnight) == dt.date(2022, 4, 20)
    assert check_id_number(newborn, today=beijing_date(just_after_midnight)) is None
    assert check_id_numbers([newborn], beijing_date(just_after_midnight)).ok.tolist() == [True]
    assert check_id_number(newborn, today=just_after_midnight.date()) == "出生日期晚于今天"


def test_without_a_date_given_the_check_takes_todays_date_in_beijing():
    newborn = make_id_number("220102", dt.date(2022, 4, 20), 2)
    with time_machine.travel(dt.datetime(2022, 4, 19, 16, 30, tzinfo=UTC), tick=False):
        assert check_id_number(newborn) is None
    with time_machine.travel(dt.datetime(2022, 4, 19, 15, 30, tzinfo=UTC), tick=False):
        assert check_id_number(newborn) == "出生日期晚于今天"


def test_the_bulk_check_accepts_what_the_per_number_check_accepts_in_any_spelling():
    number = make_id_number("220102", dt.date(1980, 2, 29), 7)
    verdicts = check_id_numbers([number, f" {number.lower()}\t", None, ""], dt.date(2022, 4, 20))
    assert verdicts.ok.tolist() == [True, True, False, False]
    assert verdicts.reasons == {2: "应为18位", 3: "应为18位"}


@pytest.mark.parametrize("instant", ANCHORS)
def test_the_bulk_check_agrees_on_every_written_birth_date_region_and_check_character(instant):
    today = beijing_date(instant)
    written = [
        *WRITTEN_BIRTHS,
        *((today + dt.timedelta(days=k)).strftime("%Y%m%d") for k in (-1, 0, 1)),
    ]
    bodies = [
        f"{region}{birth}{seq:03d}" for region in REGIONS for birth in written for seq in (1, 2)
    ]
    values = [body + check_char(body) for body in bodies] + [
        body + ("1" if check_char(body) == "0" else "0") for body in bodies
    ]
    verdicts = check_id_numbers(values, today)
    assert verdicts.ok.tolist() == [check_id_number(v, today=today) is None for v in values]
    assert verdicts.ok.any() and not verdicts.ok.all()
