"""The demo's workers sampled without scanning are cleared by their employers' batches; the demo
employer's own list waits on the review desk."""

from datetime import datetime

import pytest

from fangkong.clearances.models import Clearance, EmployerBatch
from fangkong.codes.queries import explain
from fangkong.demo.clearances import seed_clearances
from fangkong.demo.story import SEED_RULE
from fangkong.engine.gate_rules import LOCAL
from fangkong.people.models import Person

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 29, 10, tzinfo=LOCAL)


@pytest.fixture
def cleared(story_city):
    unscanned = story_city["unscanned_ids"]
    return unscanned, seed_clearances(unscanned, NOW)


def seed_reason(person, now=NOW) -> bool:
    return any(r.policy == SEED_RULE for r in explain(person, now).reasons)


def test_the_unscanned_workers_are_cleared_by_their_employers(cleared):
    unscanned, figures = cleared
    assert figures["batches"] > 1 and figures["approved"] > 0
    approved = Clearance.objects.filter(channel="employer", status="approved")
    assert approved.count() == figures["approved"]
    still = [p for p in Person.objects.filter(id_number__in=unscanned) if seed_reason(p)]
    # Only the demo employer's pending list is left (and nobody the list could not place).
    pending = set(
        Clearance.objects.filter(channel="employer", status="submitted").values_list(
            "person_id", flat=True
        )
    )
    assert {p.pk for p in still} == pending
    assert len(pending) == figures["pending"] > 0


def test_nobody_who_skipped_testing_is_on_any_list(cleared):
    unscanned, _ = cleared
    listed = Clearance.objects.filter(channel="employer").values_list(
        "person__id_number", flat=True
    )
    assert set(listed) <= set(unscanned)


def test_seeding_again_adds_no_batches_or_requests(cleared):
    unscanned, _ = cleared
    before = (EmployerBatch.objects.count(), Clearance.objects.count())
    seed_clearances(unscanned, NOW)
    assert (EmployerBatch.objects.count(), Clearance.objects.count()) == before
