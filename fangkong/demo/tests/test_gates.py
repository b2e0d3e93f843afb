"""The demo's checkpoints, zones and yesterday's round: the resident and checkpoint pages work
at today's date, not only in April 2022."""

from datetime import datetime

import pytest
import time_machine

from fangkong.checkpoints.models import Checkpoint
from fangkong.codes.models import PersonCode
from fangkong.demo.gates import seed_gates
from fangkong.engine.gate_rules import LOCAL
from fangkong.exits.actions import do_request_exit_pass
from fangkong.people.models import Person
from fangkong.zones.queries import current_level

pytestmark = pytest.mark.django_db
TODAY = datetime(2026, 11, 29, 10, 0, tzinfo=LOCAL)


@pytest.fixture
def gates(april_city):
    with time_machine.travel(TODAY, tick=False):
        return seed_gates(TODAY)


def test_there_is_a_checkpoint_of_every_type_and_the_gate_is_at_a_released_compound(gates):
    assert sorted(c.type_id for c in gates["checkpoints"]) == [
        "city_exit",
        "compound_gate",
        "factory_gate",
        "public_place",
        "testing_site",
    ]
    gate = next(c for c in gates["checkpoints"] if c.type_id == "compound_gate")
    assert gate.community == gates["community"]
    assert current_level(gate.community_id, TODAY) == "prevention"


def test_the_green_example_gets_an_exit_pass_and_the_yellow_one_stays_yellow(gates):
    green = Person.objects.get(id_number=gates["examples"]["green"])
    yellow = Person.objects.get(id_number=gates["examples"]["yellow"])
    assert not PersonCode.objects.filter(pk=green.pk).exclude(colour="green").exists()
    assert PersonCode.objects.get(pk=yellow.pk).colour == "yellow"
    with time_machine.travel(TODAY, tick=False):
        outcome = do_request_exit_pass(green, TODAY)
    assert outcome.decision.passed, outcome.decision.reasons


def test_seeding_again_adds_no_checkpoints(gates):
    before = Checkpoint.objects.count()
    with time_machine.travel(TODAY, tick=False):
        seed_gates(TODAY)
    assert Checkpoint.objects.count() == before
    # seed_gates' five are in 南关区 (the plant gate and the road checkpoint of 长春新区 are the
    # resumption story's).
    assert Checkpoint.objects.filter(county_code="220102").count() == 5
