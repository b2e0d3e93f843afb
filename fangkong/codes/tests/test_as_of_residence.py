"""A residence corrected on 7 May does not move the person as of 5 May: their code and the
district counts as of 5 May stay what they were (docs/policies.md, "Time and knowledge")."""

from datetime import datetime, timedelta, timezone

import pytest

from fangkong.codes.actions import do_recompute
from fangkong.codes.models import PersonCode
from fangkong.codes.queries import explain, stats_by_county
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.tests.support import community
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db
BJ = timezone(timedelta(hours=8))
NANGUAN_ONLY = """
id = "nanguan-untested"
title = "南关区5月1日至3日未采样赋黄码"
colour = "yellow"
message = "请采样"
effective_from = "2022-05-04T00:00:00+08:00"
[scope]
include = ["220102"]
[trigger]
type = "no_sampling"
from = "2022-05-01T00:00:00+08:00"
until = "2022-05-04T00:00:00+08:00"
"""


def may(day: int, hour: int = 0) -> datetime:
    return datetime(2022, 5, day, hour, tzinfo=BJ)


def counts(at: datetime) -> dict[str, tuple[int, int]]:
    return {r["code"]: (r["green"], r["yellow"]) for r in stats_by_county(at)}


@pytest.fixture
def moved(city):
    """The rule published on 4 May; on 7 May the first 南关区 resident's community is corrected
    to one in 朝阳区."""
    do_publish(NANGUAN_ONLY, user=None, now=may(4))
    person = Person.objects.get(id_number=city.nanguan[0])
    row = {
        "id_number": person.id_number,
        "name": person.name,
        "phone": person.phone,
        "community_code": community("220104").code,
        "correction_reason": "户籍地址更正",
    }
    report = do_ingest("residents", rows=[row], now=may(7))
    assert report.inserted == 1, report.errors
    person.refresh_from_db()
    assert person.county_code == "220104"
    return person


def test_as_of_5_may_the_corrected_person_is_still_in_nanguan_and_yellow(moved):
    assert explain(moved, may(5)).colour == "yellow"
    assert explain(moved, may(8)).colour == "green"


def test_the_counts_of_5_may_do_not_shift_after_the_correction(moved):
    before = counts(may(5))
    assert before["220102"] == (0, 25) and before["220104"] == (5, 0)
    after = counts(may(8))
    assert after["220102"] == (0, 24) and after["220104"] == (6, 0)


def test_a_recompute_as_of_5_may_stores_the_code_in_the_district_of_then(moved):
    do_recompute(may(5))
    stored = PersonCode.objects.get(person=moved)
    assert (stored.colour, stored.county_code) == ("yellow", "220102")
