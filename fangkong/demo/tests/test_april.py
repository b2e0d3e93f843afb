"""The April replay: the zone figures the city announced come out of the rules, not typed.

A city of 2 000 residents (built once for this module: conftest.april_city) gets the figures
scaled (fangkong.demo.april.figures); test_april_default_city builds the default `make demo`
city and reads the announced figures themselves.
"""

from datetime import datetime

import pytest

from fangkong.audit.models import AuditEntry
from fangkong.demo.april import figures
from fangkong.demo.story import run_story
from fangkong.demo.tests.conftest import SMALL, stats
from fangkong.engine.gate_rules import LOCAL
from fangkong.zones.eligibility import check_batch
from fangkong.zones.models import (
    DecisionSource,
    DecisionStatus,
    EpidemicFreeBatch,
    EpidemicFreeLabel,
    ZoneDecision,
)

pytestmark = pytest.mark.django_db
END_OF_19 = datetime(2022, 4, 20, 0, 0, tzinfo=LOCAL)


@pytest.fixture
def story(april_city):
    return april_city


def test_as_of_19_april_the_scaled_figures_stand(story, capsys):
    expected = figures(SMALL)
    seen = stats(capsys, "2022-04-20T00:00")
    assert seen["risk_areas"]["medium"] == expected.medium_by_19
    assert seen["epidemic_free"]["communities"] == expected.communities_by_19
    assert seen["epidemic_free"]["towns"] == expected.towns


def test_batch_11_of_20_april_holds_what_the_rules_found(story):
    batch = EpidemicFreeBatch.objects.get(kind="community", number=11)
    assert batch.published_at.astimezone(LOCAL).date().day == 20
    assert EpidemicFreeLabel.objects.filter(batch=batch).count() == figures(SMALL).batches[10]


def test_every_community_in_a_batch_was_eligible_when_it_was_published(story):
    for batch in EpidemicFreeBatch.objects.order_by("kind", "number"):
        divisions = [label.division for label in batch.labels.select_related("division")]
        assert check_batch(batch.kind, divisions, batch.published_at) == {}, batch


def test_positives_made_communities_lockdown_through_approved_automatic_proposals(story):
    automatic = ZoneDecision.objects.filter(source=DecisionSource.AUTO)
    placed = automatic.filter(status=DecisionStatus.PUBLISHED, published_at__lt=END_OF_19)
    assert placed.count() == sum(figures(SMALL).positives.values())
    for decision in placed:
        assert decision.approved_by.username == "command2"
        assert decision.evidence["reasons"]  # the positive that called for it


def test_four_areas_step_down_to_low_at_18_00_applied_by_a_sweep(story, capsys):
    before = stats(capsys, "2022-04-20T17:59")
    after = stats(capsys, "2022-04-20T18:00")
    four = figures(SMALL).low_on_20
    assert after["risk_areas"]["low"] - before["risk_areas"]["low"] == four
    assert before["risk_areas"]["medium"] - after["risk_areas"]["medium"] == four
    notice = ZoneDecision.objects.get(
        scheme="risk_areas", effective_from=datetime(2022, 4, 20, 18, tzinfo=LOCAL)
    )
    assert notice.published_at < notice.effective_from
    # Nobody ran a command at 18:00: the clock's sweep applied the instant.
    instants = AuditEntry.objects.filter(action="clock.sweep").exclude(target_id="pending")
    applied = {datetime.fromisoformat(i) for i in instants.values_list("target_id", flat=True)}
    assert notice.effective_from in applied


def test_replaying_again_publishes_nothing_new(story):
    before = (ZoneDecision.objects.count(), EpidemicFreeBatch.objects.count())
    run_story(residents=SMALL, seed=7)
    assert (ZoneDecision.objects.count(), EpidemicFreeBatch.objects.count()) == before
