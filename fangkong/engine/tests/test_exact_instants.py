"""Facts exactly on an edge, read alike by both evaluators: a fact counts from the instant it is
recorded; a designation holds from its start until (not at) its end or its replacement; a
presence counts for a no-sampling rule's scope when it starts before the window closes and ends
at or after the window opens; a no-sampling rule fires at the very instant its window closes."""

from datetime import datetime, timedelta, timezone

import numpy as np

from fangkong.engine.batch import columns_from_people, evaluate_batch
from fangkong.engine.evaluate import DesignationFact, PersonFacts, PresenceFact, evaluate
from fangkong.engine.policies import parse_policy

BEIJING = timezone(timedelta(hours=8))
US = timedelta(microseconds=1)
DAY = timedelta(days=1)
T0 = datetime(2022, 4, 10, tzinfo=BEIJING)
BEGIN, END = datetime(2022, 4, 20, tzinfo=BEIJING), datetime(2022, 4, 23, tzinfo=BEIJING)
NOW = datetime(2022, 4, 25, 12, tzinfo=BEIJING)
HOME = "220102001001"  # 南关区: outside the rule's scope
IN_SCOPE = "220104002003"  # 朝阳区


def policy(trigger: dict, scope: dict | None = None):
    data = {
        "id": "edge",
        "title": "t",
        "message": "m",
        "colour": "red",
        "effective_from": T0.isoformat(),
        "trigger": trigger,
        "clear": [{"type": "negative_after"}],
    }
    if scope:
        data["scope"] = scope
    return parse_policy(data, version=1, published_at=T0)


def held(policies, people, now) -> set[int]:
    """Who is held, by both evaluators (which must agree)."""
    one_by_one = {p.person for p in people if evaluate(policies, p, now).colour != "green"}
    batch = evaluate_batch(policies, columns_from_people(people), now)
    in_bulk = {people[i].person for i in np.flatnonzero(batch.severity).tolist()}
    assert one_by_one == in_bulk
    return one_by_one


def designated(person: int, *, start=T0, end=None, recorded=T0, superseded=None) -> PersonFacts:
    fact = DesignationFact(person, "close_contact", start, end, "cdc", recorded, superseded)
    return PersonFacts(person, HOME, T0 - DAY, designations=(fact,))


def test_a_designation_holds_from_its_recording_and_start_until_its_end_or_replacement():
    people = [
        designated(0, recorded=NOW),  # recorded at the very instant: known
        designated(1, recorded=NOW + US),  # not yet known
        designated(2, superseded=NOW),  # replaced at the instant: no longer
        designated(3, superseded=NOW + US),  # replaced a moment later: still
        designated(4, start=NOW),  # starts at the instant
        designated(5, start=NOW + US),  # starts a moment later
        designated(6, end=NOW),  # ends at the instant
        designated(7, end=NOW + US),  # ends a moment later
    ]
    rule = [policy({"type": "designation", "kind": "close_contact"})]
    assert held(rule, people, NOW) == {0, 3, 4, 7}


def present(person: int, start, end, recorded=T0) -> PersonFacts:
    return PersonFacts(
        person, HOME, T0 - DAY, presences=(PresenceFact(IN_SCOPE, start, end, recorded),)
    )


NO_SAMPLING = {"type": "no_sampling", "from": BEGIN.isoformat(), "until": END.isoformat()}


def test_a_presence_in_scope_counts_when_it_overlaps_the_window_edge_inclusive_at_its_opening():
    people = [
        present(0, BEGIN - DAY, BEGIN),  # left exactly as the window opened
        present(1, BEGIN - DAY, BEGIN - US),  # left just before
        present(2, END, END + DAY),  # came exactly as it closed
        present(3, END - US, END + DAY),  # came just before it closed
        present(4, BEGIN, END, recorded=NOW),  # recorded at the instant of evaluation
        present(5, BEGIN, END, recorded=NOW + US),  # recorded a moment later
        PersonFacts(6, IN_SCOPE, T0 - DAY),  # lives in scope
        PersonFacts(7, HOME, T0 - DAY),  # lives outside, never there
    ]
    rule = [policy(NO_SAMPLING, {"include": ["220104"]})]
    assert held(rule, people, NOW) == {0, 3, 4, 6}


def test_a_no_sampling_rule_fires_at_the_instant_its_window_closes():
    people = [PersonFacts(0, IN_SCOPE, T0 - DAY)]
    rule = [policy(NO_SAMPLING, {"include": ["220104"]})]
    assert held(rule, people, END - US) == set()
    assert held(rule, people, END) == {0}
