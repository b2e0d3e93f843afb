"""The pooled-tube state of real people, derived from ingested facts."""

from datetime import UTC, datetime

import pytest

from fangkong.engine.testing_state import AWAITING_RETEST, NONE, POSITIVE_INDIVIDUAL
from fangkong.ingest.actions import do_ingest
from fangkong.people.models import Person
from fangkong.testing.queries import person_testing_state

pytestmark = pytest.mark.django_db


def sample(ids, tube, pool, at):
    report = do_ingest(
        "samplings",
        rows=[
            {
                "id_number": i,
                "tube": tube,
                "pool_size": pool,
                "site_code": "S-NG-1",
                "sampled_at": at,
            }
            for i in ids
        ],
    )
    assert report.inserted == len(ids), report.errors


def report(tube, result, at):
    assert (
        do_ingest(
            "results",
            rows=[{"tube": tube, "result": result, "lab": "长春金域医学检验所", "reported_at": at}],
        ).inserted
        == 1
    )


def state_of(id_number, now=None):
    return person_testing_state(Person.objects.get(id_number=id_number).pk, now)


def test_every_member_of_a_positive_ten_person_tube_awaits_their_own_retest(city):
    members = city.nanguan[:10]
    sample(members, "P-0420-1", "10", "2022-04-20T08:00:00+08:00")
    report("P-0420-1", "positive", "2022-04-20T20:00:00+08:00")
    assert {state_of(m).status for m in members} == {AWAITING_RETEST}

    sample(members[:1], "S-0421-1", "1", "2022-04-21T08:00:00+08:00")
    sample(members[1:2], "S-0421-2", "1", "2022-04-21T08:05:00+08:00")
    report("S-0421-1", "negative", "2022-04-21T18:00:00+08:00")
    assert state_of(members[0]).status == NONE
    # Retested, but the single tube's result is not back yet.
    assert state_of(members[1]).status == AWAITING_RETEST
    assert state_of(members[2]).status == AWAITING_RETEST


def test_a_positive_single_tube_retest_makes_the_member_positive(city):
    member = city.nanguan[0]
    sample([member], "P-1", "10", "2022-04-20T08:00:00+08:00")
    report("P-1", "positive", "2022-04-20T20:00:00+08:00")
    sample([member], "S-1", "1", "2022-04-21T08:00:00+08:00")
    report("S-1", "positive", "2022-04-21T18:00:00+08:00")
    state = state_of(member)
    assert state.status == POSITIVE_INDIVIDUAL
    assert state.latest_result.result.result == "positive"


def test_the_state_as_of_a_past_time_ignores_later_facts(city):
    member = city.nanguan[0]
    sample([member], "P-1", "10", "2022-04-20T08:00:00+08:00")
    report("P-1", "positive", "2022-04-20T20:00:00+08:00")
    before_anything = datetime(2000, 1, 1, tzinfo=UTC)
    assert state_of(member, before_anything).latest_sampling is None
