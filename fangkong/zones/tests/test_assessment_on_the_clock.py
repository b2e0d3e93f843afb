"""Nobody runs a command: a positive loaded into an epidemic-free community withdraws its label
and proposes 封控 on the clock's next sweep, which the load itself wakes; a sweep with no new
fact does not assess again."""

import json

import pytest

from fangkong.cli import build_parser
from fangkong.clock.scheduling import waiting
from fangkong.zones.epidemic_free import do_publish_epidemic_free_batch
from fangkong.zones.models import DecisionSource, EpidemicFreeLabel, ZoneDecision
from fangkong.zones.tests.test_eligibility_timelines import (  # noqa: F401 (a fixture)
    bj,
    street_fixture,
)

pytestmark = pytest.mark.django_db


def clock_once(at, capsys) -> dict:
    args = build_parser().parse_args(["clock", "--once", "--at", at.isoformat(), "--json"])
    capsys.readouterr()
    assert args.func(args) == 0
    return json.loads(capsys.readouterr().out)


ASSESS = "fangkong.zones.eligibility_actions.assess_after_sweep"


def test_a_loaded_positive_is_answered_on_the_next_sweep_and_only_once(street, capsys):
    street.negative_round(street.b, 16, "R-16")
    do_publish_epidemic_free_batch(None, "community", [street.b], bj(4, 17))
    assert clock_once(bj(4, 18), capsys)["followed"][ASSESS]["withdrawn"] == []

    street.case(street.people[street.b][0], bj(4, 19, 8), "P-1", bj(4, 20, 8))
    # The load asked for a sweep at once rather than at the next scheduled beat.
    assert waiting().run_after <= bj(4, 20, 8)
    assert not ZoneDecision.objects.exists()

    followed = clock_once(bj(4, 20, 8, 1), capsys)["followed"][ASSESS]
    assert followed["withdrawn"] == [street.b]
    [decision] = ZoneDecision.objects.all()
    assert followed["proposed"] == [decision.pk]
    assert decision.source == DecisionSource.AUTO
    assert list(decision.entries.values_list("community_id", "level")) == [(street.b, "lockdown")]
    label = EpidemicFreeLabel.objects.get(division_id=street.b)
    assert label.withdrawn_at == bj(4, 20, 8, 1)

    assert clock_once(bj(4, 20, 9), capsys)["followed"][ASSESS] is None
    assert ZoneDecision.objects.count() == 1
