"""The default `make demo` city (20 000 residents): the figures of the press conference of 21
April come out of the replayed rules themselves, not scaled, as `fangkong zones stats` reads
them. One city, so one test: building it is the slow part."""

from datetime import date

import pytest

from fangkong.demo.april import FULL_SIZE
from fangkong.demo.story import run_story
from fangkong.demo.tests.conftest import stats
from fangkong.engine.gate_rules import LOCAL
from fangkong.zones.models import EpidemicFreeBatch

pytestmark = pytest.mark.django_db


def test_the_default_demo_city_shows_the_announced_figures(capsys):
    run_story(residents=FULL_SIZE, seed=20220421)
    by_19 = stats(capsys, "2022-04-20T00:00")
    assert by_19["risk_areas"]["medium"] == 31
    assert (by_19["epidemic_free"]["communities"], by_19["epidemic_free"]["towns"]) == (1144, 99)
    batch_11 = EpidemicFreeBatch.objects.get(kind="community", number=11)
    assert batch_11.published_at.astimezone(LOCAL).date() == date(2022, 4, 20)
    assert batch_11.labels.count() == 248
    before_18, at_18 = stats(capsys, "2022-04-20T17:59"), stats(capsys, "2022-04-20T18:00")
    assert before_18["risk_areas"]["medium"] - at_18["risk_areas"]["medium"] == 4
    assert at_18["risk_areas"]["low"] - before_18["risk_areas"]["low"] == 4
    assert at_18["risk_areas"]["medium"] == 27
