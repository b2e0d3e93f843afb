"""The bulk check's fast path: numbers in stored form are judged whole by numpy, with no call to
the per-number check. A fast path that wrongly refuses a valid number would still give the right
verdict (the per-number check catches it), only slowly; these tests make it say so."""

import datetime as dt

import numpy as np
import pytest

from fangkong.engine import id_numbers
from fangkong.engine.id_numbers import (
    check_digits_ok,
    check_id_numbers,
    is_valid_id_number,
    make_id_number,
)

TODAY = dt.date(2022, 4, 24)
EDGE_BIRTHS = [
    dt.date(1880, 1, 1),  # the earliest year accepted
    dt.date(1900, 2, 28),  # 1900 is no leap year
    dt.date(2000, 2, 29),  # 2000 is (a multiple of 400)
    dt.date(2004, 2, 29),
    dt.date(1999, 1, 31),
    dt.date(1999, 4, 30),
    dt.date(1999, 12, 1),
    dt.date(1999, 12, 31),
    TODAY,  # born today
]
REGIONS = ["220102", "110101", "650102", "220181"]  # 220181: 九台市, historic
VALID = [
    make_id_number(region, birth, sequence)
    for region in REGIONS
    for birth in EDGE_BIRTHS
    for sequence in (1, 2, 17, 999)
]


@pytest.fixture
def no_fallback(monkeypatch):
    def must_not_be_needed(value, today=None):
        raise AssertionError(f"{value} went to the per-number check")

    monkeypatch.setattr(id_numbers, "check_id_number", must_not_be_needed)


def test_every_valid_number_in_stored_form_is_accepted_by_numpy_alone(no_fallback):
    assert {v[-1] for v in VALID} >= set("0123456789X")  # every check character occurs
    lower = [v[:-1] + "x" for v in VALID if v.endswith("X")]
    for values in (VALID + lower, np.array(VALID + lower), np.array(VALID, dtype=object)):
        assert check_id_numbers(values, TODAY).ok.all()


def test_a_list_longer_than_a_block_is_judged_whole(no_fallback):
    many = (VALID * (2 * id_numbers._BLOCK // len(VALID) + 1))[: 2 * id_numbers._BLOCK + 3]
    verdicts = check_id_numbers(many, TODAY)
    assert verdicts.ok.all() and len(verdicts.ok) == len(many)
    assert check_digits_ok(many).all()


def test_the_bulk_verdicts_match_the_per_number_check_on_the_edges():
    tomorrow = make_id_number("220102", TODAY + dt.timedelta(days=1), 1)
    too_old = make_id_number("220102", dt.date(1879, 12, 31), 1)
    feb29 = make_id_number("220102", dt.date(1900, 3, 1), 1).replace("19000301", "19000229")
    feb29 = feb29[:17] + id_numbers.check_char(feb29[:17])
    values = [*VALID, tomorrow, too_old, feb29, VALID[0][:-1] + "?"]
    verdicts = check_id_numbers(values, TODAY)
    assert verdicts.ok.tolist() == [is_valid_id_number(v, TODAY) for v in values]
    assert not any(verdicts.ok[-4:])
