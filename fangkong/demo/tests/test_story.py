"""`fangkong demo` tells the story of April 2022 through the codes."""

from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Q

from fangkong.codes.models import CodeChange, PersonCode
from fangkong.demo.story import SEED_RULE, SEED_RULE_AT, run_story
from fangkong.engine.gate_rules import LOCAL
from fangkong.ingest.models import Batch
from fangkong.people.models import Designation, Person, Presence
from fangkong.policies.models import PolicyVersion
from fangkong.testing.models import LabResult, Sampling

pytestmark = pytest.mark.django_db
EXCLUDED = ("220184", "220182", "220122", "220183")
ROUND_START = datetime(2022, 4, 20, tzinfo=LOCAL)
ROUND_END = datetime(2022, 4, 23, tzinfo=LOCAL)


@pytest.fixture
def story(story_city):
    return story_city


def seed_yellow(county_codes=None):
    codes = PersonCode.objects.filter(colour="yellow")
    if county_codes:
        codes = codes.filter(county_code__in=county_codes)
    return [c for c in codes if any(r["policy"] == SEED_RULE for r in c.reasons)]


def totals_on_the_codes_page(client, at: str) -> dict:
    """The city's totals as the command centre reads them on /codes/?at=…"""
    client.force_login(get_user_model().objects.get(username="command"))
    response = client.get("/codes/", {"at": at})
    assert response.status_code == 200
    return response.context["totals"]


def known(model, at: datetime):
    """The facts known at `at`: recorded by then, and not corrected by then."""
    recorded = model.objects.filter(recorded_at__lte=at)
    return recorded.exclude(pk__in=recorded.filter(supersedes__isnull=False).values("supersedes"))


def unsampled_in_the_rules_scope(at: datetime) -> set[int]:
    """Who the rule of 21 April names, counted from the facts known at `at`: living, or seen,
    outside the four excluded counties, and not sampled from 20 to 22 April."""
    sampled = known(Sampling, at).filter(sampled_at__gte=ROUND_START, sampled_at__lt=ROUND_END)
    seen = known(Presence, at).filter(start_at__lt=ROUND_END, end_at__gte=ROUND_START)
    seen_inside = {
        person
        for person, region in seen.values_list("person_id", "region_code")
        if region[:6] not in EXCLUDED
    }
    living_inside = set(
        Person.objects.exclude(county_code__in=EXCLUDED).values_list("pk", flat=True)
    )
    return (living_inside | seen_inside) - set(sampled.values_list("person_id", flat=True))


def designated(kind: str, at: datetime) -> set[int]:
    active = known(Designation, at).filter(kind=kind, start_at__lte=at)
    active = active.filter(Q(end_at__isnull=True) | Q(end_at__gt=at))
    return set(active.values_list("person_id", flat=True))


def positive_in_a_single_tube(at: datetime) -> set[int]:
    tubes = known(LabResult, at).filter(result="positive", tube__capacity=1, reported_at__lte=at)
    return set(
        Sampling.objects.filter(tube__in=tubes.values("tube")).values_list("person_id", flat=True)
    )


def test_the_seed_rule_turns_the_unsampled_yellow_and_the_24_april_round_greens_some(story):
    figures = story["seed_rule"]
    assert figures["yellow_at_publish"] > 0
    assert 0 < figures["yellow_now"] < figures["yellow_at_publish"]
    greened = CodeChange.objects.filter(old_colour="yellow", new_colour="green", cause="facts")
    # Most of those leaving the rule turn green; a few stay yellow or red under another rule.
    assert 0 < greened.count() <= figures["yellow_at_publish"] - figures["yellow_now"]


def test_the_four_excluded_counties_get_no_code_from_the_seed_rule(story):
    assert seed_yellow() and not seed_yellow(EXCLUDED)


def test_the_seed_rule_was_published_at_midnight_on_23_april(story):
    version = PolicyVersion.objects.get(policy_id=SEED_RULE)
    assert version.published_at == SEED_RULE_AT


def test_residents_are_registered_before_the_first_sampling_of_the_round(story):
    first_sampling = Sampling.objects.order_by("sampled_at").first().sampled_at
    assert not Person.objects.filter(recorded_at__gte=first_sampling).exists()
    registers = Batch.objects.filter(kind="residents", inserted__gt=0)
    assert registers.exists()
    assert not registers.filter(started_at__gte=first_sampling).exists()


def test_the_round_can_be_viewed_as_it_was_on_22_april(story, client):
    totals = totals_on_the_codes_page(client, "2022-04-22T12:00")
    # No rule was published yet: everybody registered is counted, green.
    assert totals["total"] == totals["green"] == 2000


def test_the_morning_after_the_rule_the_unsampled_are_yellow(story, client):
    at = datetime(2022, 4, 23, 8, tzinfo=LOCAL)
    totals = totals_on_the_codes_page(client, "2022-04-23T08:00")
    unsampled = unsampled_in_the_rules_scope(at)
    red = designated("close_contact", at) | positive_in_a_single_tube(at)
    # Besides the rule's yellow, the standard rule's: secondary contacts; red outranks yellow.
    yellow = (unsampled | designated("secondary_contact", at)) - red
    assert len(unsampled) > 50
    assert (totals["yellow"], totals["red"]) == (len(yellow), len(red))
    assert totals["total"] == 2000


def test_the_two_command_centre_accounts_complete_a_two_person_override(story):
    from fangkong.clearances.actions import do_propose_override, do_review, may_decide

    users = get_user_model().objects
    proposer, approver = users.get(username="command"), users.get(username="command2")
    code = next(c for c in seed_yellow() if [r["policy"] for r in c.reasons] == [SEED_RULE])
    now = datetime(2022, 4, 26, 9, tzinfo=LOCAL)
    reason = "居民提供社区采样点登记本照片,4月21日确已采样,系统漏录"
    override = do_propose_override(code.person, SEED_RULE, proposer, now, reason)
    assert not may_decide(proposer, override)
    do_review(override.pk, "start_review", approver, now)
    do_review(override.pk, "approve", approver, now, "核实采样点登记,同意解除")
    assert PersonCode.objects.get(pk=code.pk).colour == "green"


def test_running_the_demo_again_publishes_no_new_versions(story):
    before = PolicyVersion.objects.count()
    run_story(residents=2000, seed=7, zones=False)
    assert PolicyVersion.objects.count() == before
