"""The batch evaluator gives every person exactly the code the per-person evaluator gives.

Times come from a few shared anchor instants (and a microsecond either side), so facts land
exactly on each other's boundaries — a sampling at a window's end, a result reported at the
moment of evaluation — where an off-by-one would hide among random quarter-hours. Explicit
examples cover every trigger with every kind of clear.
"""

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fangkong.engine.batch import NEVER, columns_from_people, evaluate_batch, micros
from fangkong.engine.evaluate import (
    DesignationFact,
    Exemption,
    FormerResidence,
    PersonFacts,
    PresenceFact,
    ZoneFact,
    evaluate,
)
from fangkong.engine.policies import SEVERITY, ZONE_LEVELS, parse_policy
from fangkong.engine.testing_state import ResultFact, SamplingFact

BEIJING = timezone(timedelta(hours=8))
T0 = datetime(2022, 4, 18, tzinfo=BEIJING)
COMMUNITIES = ["220102001001", "220104002003", "220184100200", "220171001001"]
TUBES = {"A": 10, "B": 10, "C": 1, "D": 1, "E": 20, "F": 1}
POLICY_IDS = ["p-a", "p-b", "p-c"]

US = timedelta(microseconds=1)
# Every 12 hours over 12 days: few enough that facts often share an instant.
ANCHORS = [T0 + timedelta(hours=12 * k) for k in range(25)]


def anchored(lo: int, hi: int):
    """An anchor between ANCHORS[lo] and ANCHORS[hi], exactly or a microsecond either side."""
    return st.tuples(
        st.integers(lo, hi), st.sampled_from([-US, timedelta(0), timedelta(0), US])
    ).map(lambda a: ANCHORS[a[0]] + a[1])


times = anchored(0, 24)
delays = st.sampled_from([0, 0, 1, 2, 4]).map(lambda k: timedelta(hours=12 * k))
# Policies mostly start early and the evaluation time is mostly late, so codes do fire.
early = anchored(0, 6)
late = anchored(6, 24)
long_delays = st.sampled_from([0, 2, 6, 12, 20]).map(lambda k: timedelta(hours=12 * k))


@st.composite
def results_strategy(draw):
    results = []
    next_id = 1
    for tube in draw(st.lists(st.sampled_from(sorted(TUBES)), unique=True, max_size=6)):
        reported = draw(times)
        outcome = st.sampled_from(["negative", "negative", "positive", "positive", "invalid"])
        first = ResultFact(next_id, tube, draw(outcome), "lab", reported, reported + draw(delays))
        results.append(first)
        next_id += 1
        if draw(st.booleans()):
            reported2 = draw(times)
            results.append(
                ResultFact(
                    next_id,
                    tube,
                    draw(st.sampled_from(["negative", "positive", "invalid"])),
                    "lab",
                    reported2,
                    reported2 + draw(delays),
                    first.id if draw(st.booleans()) else None,
                )
            )
            next_id += 1
    return results


@st.composite
def person_strategy(draw, index, results, zones):
    community = draw(st.sampled_from(COMMUNITIES))
    samplings = []
    for j, tube in enumerate(
        draw(st.lists(st.sampled_from(sorted(TUBES)), unique=True, max_size=4))
    ):
        sampled = draw(times)
        superseded = draw(st.one_of(st.none(), times))
        samplings.append(
            SamplingFact(
                index * 100 + j,
                tube,
                TUBES[tube],
                sampled,
                sampled + draw(delays),
                None,
                superseded,
            )
        )
    presences = []
    for _ in range(draw(st.integers(0, 1))):
        start = draw(times)
        presences.append(
            PresenceFact(
                draw(st.sampled_from(["220102", "220184", "220104002", "220171", "220100"])),
                start,
                start + draw(delays),
                start + draw(delays),
            )
        )
    designations = []
    for j in range(draw(st.integers(0, 2))):
        start = draw(times)
        end = draw(st.one_of(st.none(), st.just(start + draw(long_delays) + timedelta(hours=1))))
        designations.append(
            DesignationFact(
                j,
                draw(st.sampled_from(["close_contact", "secondary_contact"])),
                start,
                end,
                "cdc",
                start + draw(delays),
                draw(st.one_of(st.none(), times)),
            )
        )
    exemptions = []
    if draw(st.booleans()):
        approved = draw(times)
        exemptions.append(
            Exemption(
                draw(st.sampled_from(POLICY_IDS)),
                approved,
                draw(st.one_of(st.none(), times)),
                draw(st.sampled_from([None, 1, 2, 3])),  # the policies here are version 1–3
            )
        )
    former = tuple(
        FormerResidence(code, until, tuple(zones.get(code, ())))
        for code, until in draw(
            st.lists(st.tuples(st.sampled_from(COMMUNITIES), times), max_size=2)
        )
    )
    return PersonFacts(
        index,
        community,
        draw(times) - timedelta(days=3),
        tuple(samplings),
        tuple(results),
        tuple(presences),
        tuple(designations),
        tuple(zones.get(community, ())),
        tuple(exemptions),
        former,
    )


def iso(value: datetime) -> str:
    return value.isoformat()


@st.composite
def clear_strategy(draw):
    kind = draw(st.sampled_from(["negative_after", "negatives_on_distinct_days", "expiry"]))
    if kind == "expiry":
        if draw(st.booleans()):
            return {"type": kind, "hours": draw(st.integers(1, 200))}
        return {"type": kind, "at": iso(draw(times))}
    after = "trigger" if draw(st.booleans()) else iso(draw(times))
    clear = {"type": kind, "after": after}
    if kind == "negatives_on_distinct_days":
        clear["days"] = draw(st.integers(1, 3))
    return clear


@st.composite
def policy_strategy(draw, policy_id):
    trigger_type = draw(
        st.sampled_from(
            ["no_sampling", "positive_result", "pooled_positive", "designation", "zone_level"]
        )
    )
    trigger: dict = {"type": trigger_type}
    if trigger_type == "no_sampling":
        start = draw(times)
        trigger.update(
            {"from": iso(start), "until": iso(start + draw(delays) + timedelta(hours=1))}
        )
    elif trigger_type == "designation":
        trigger["kind"] = draw(st.sampled_from(["close_contact", "secondary_contact"]))
    elif trigger_type == "zone_level":
        trigger["levels"] = draw(
            st.lists(st.sampled_from(ZONE_LEVELS), min_size=1, max_size=3, unique=True)
        )
    effective_from = draw(early)
    until = draw(
        st.one_of(st.none(), st.just(effective_from + draw(long_delays) + timedelta(hours=1)))
    )
    data = {
        "id": policy_id,
        "title": "t",
        "message": "m",
        "colour": draw(st.sampled_from(["yellow", "red"])),
        "effective_from": iso(effective_from),
        "effective_until": iso(until) if until else None,
        "scope": draw(
            st.sampled_from(
                [
                    {"include": ["220100"]},
                    {"include": ["220100"], "exclude": ["220184", "220182", "220122", "220183"]},
                    {"include": ["220102", "220171"]},
                    {"include": ["220104002"]},
                ]
            )
        ),
        "trigger": trigger,
        "clear": draw(st.lists(clear_strategy(), max_size=2)),
    }
    published = draw(st.one_of(st.none(), early, times))
    version = draw(st.sampled_from([1, 1, 2, 3]))
    continues = {}
    if version > 1 and draw(st.booleans()):
        # This version continues a decision first published earlier (docs/policies.md).
        continues = {"continues_from": draw(st.integers(1, version - 1))}
        continues["continues_since"] = draw(st.one_of(st.none(), early))
    return parse_policy(data, version=version, published_at=published, **continues)


@st.composite
def world(draw):
    results = draw(results_strategy())
    zones = {}
    for community in COMMUNITIES:
        facts = []
        for _ in range(draw(st.integers(0, 4))):
            start = draw(times)
            # Both naming schemes, and levels with an end (often exactly on another's start).
            end = draw(st.one_of(st.none(), times, st.just(start + draw(long_delays) + US)))
            facts.append(
                ZoneFact(
                    draw(st.sampled_from(ZONE_LEVELS)),
                    start,
                    start + draw(delays),
                    end,
                )
            )
        zones[community] = facts
    people = [draw(person_strategy(i, results, zones)) for i in range(draw(st.integers(1, 8)))]
    policies = [draw(policy_strategy(pid)) for pid in POLICY_IDS[: draw(st.integers(1, 3))]]
    return people, policies, draw(st.one_of(late, times))


# -- every trigger with every kind of clear, on exact boundaries -------------------------------

WINDOW_END = ANCHORS[6]  # no_sampling windows end here; other triggers begin at ANCHORS[2]
NOW = ANCHORS[14]
TRIGGERS = {
    "no_sampling": {"from": iso(ANCHORS[0]), "until": iso(WINDOW_END)},
    "positive_result": {},
    "pooled_positive": {},
    "designation": {"kind": "close_contact"},
    "zone_level": {"levels": ["lockdown"]},
}
CLEARS = {
    "negative_after trigger": {"type": "negative_after"},
    "negative_after a time": {"type": "negative_after", "after": iso(ANCHORS[10])},
    "negatives on 2 days": {"type": "negatives_on_distinct_days", "days": 2},
    "expiry hours": {"type": "expiry", "hours": 96},
    "expiry at": {"type": "expiry", "at": iso(NOW)},
}


def _holder(index: int, trigger: str, negatives: tuple[datetime, ...]) -> PersonFacts:
    """Someone the trigger holds for from ANCHORS[2] (or WINDOW_END), with single-tube negatives
    sampled at `negatives`, each reported 12 hours later."""
    samplings, results = [], []
    if trigger in ("positive_result", "pooled_positive"):
        tube = "C" if trigger == "positive_result" else "A"
        samplings.append(SamplingFact(index * 100, tube, TUBES[tube], ANCHORS[1], ANCHORS[1]))
        results.append(ResultFact(index * 100, tube, "positive", "lab", ANCHORS[2], ANCHORS[2]))
    for j, sampled in enumerate(negatives, start=1):
        # A pooled positive's member stays awaiting until a *single* retest: pool the negatives.
        tube = f"N{index}-{j}"
        pool = 10 if trigger == "pooled_positive" else 1
        samplings.append(SamplingFact(index * 100 + j, tube, pool, sampled, sampled))
        reported = sampled + timedelta(hours=12)
        results.append(ResultFact(index * 100 + j, tube, "negative", "lab", reported, reported))
    designations = ()
    if trigger == "designation":
        designations = (DesignationFact(1, "close_contact", ANCHORS[2], None, "cdc", ANCHORS[2]),)
    zones = (ZoneFact("lockdown", ANCHORS[2], ANCHORS[2]),) if trigger == "zone_level" else ()
    return PersonFacts(
        index,
        COMMUNITIES[0],
        T0 - timedelta(days=3),
        tuple(samplings),
        tuple(results),
        (),
        designations,
        zones,
    )


def _boundary_case(trigger: str, clear: str):
    since = WINDOW_END if trigger == "no_sampling" else ANCHORS[2]
    people = [
        _holder(0, trigger, ()),  # never cleared
        _holder(1, trigger, (since,)),  # sampled exactly at the trigger's since
        _holder(2, trigger, (since - US,)),  # a microsecond too early
        _holder(3, trigger, (ANCHORS[10], ANCHORS[11])),  # two samplings on one day
        _holder(4, trigger, (ANCHORS[10], ANCHORS[12])),  # on two days
        _holder(5, trigger, (NOW - timedelta(hours=12),)),  # reported exactly now
    ]
    policy = parse_policy(
        {
            "id": POLICY_IDS[0],
            "title": "t",
            "message": "m",
            "colour": "yellow",
            "effective_from": iso(T0),
            "trigger": {"type": trigger, **TRIGGERS[trigger]},
            "clear": [CLEARS[clear]],
        },
        version=1,
        published_at=T0,
    )
    return people, [policy], NOW


BOUNDARY_CASES = [_boundary_case(t, c) for t in TRIGGERS for c in CLEARS]


def _with_examples(test):
    for case in BOUNDARY_CASES:
        test = example(case)(test)
    return test


# Three times the profile's default: 300 examples, 90 under `make mutate` (conftest.py).
@settings(
    max_examples=3 * settings.default.max_examples,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@_with_examples
@given(world())
def test_batch_and_per_person_evaluators_agree(case):
    people, policies, now = case
    batch = evaluate_batch(policies, columns_from_people(people), now)
    for i, person in enumerate(people):
        code = evaluate(policies, person, now)
        assert batch.severity[i] == SEVERITY[code.colour], (i, code)
        active = {pid for pid, mask in batch.active.items() if mask[i]}
        assert active == {r.policy for r in code.reasons}, (i, code)
        for reason in code.reasons:
            assert batch.since[reason.policy][i] == micros(reason.since)
        for pid in set(batch.since) - active:
            assert batch.since[pid][i] == NEVER


# Who still holds each reason at NOW in the boundary cases (people 0–5 of `_boundary_case`).
STILL_HELD = {
    "negative_after trigger": {0, 2},
    "negative_after a time": {0, 1, 2},
    "negatives on 2 days": {0, 1, 2, 3, 5},
    "expiry hours": set(),
    "expiry at": set(),
}


@pytest.mark.parametrize("trigger", list(TRIGGERS))
@pytest.mark.parametrize("clear", list(CLEARS))
def test_each_clear_takes_effect_exactly_at_its_boundary(trigger, clear):
    people, policies, now = _boundary_case(trigger, clear)
    expected = set(STILL_HELD[clear])
    if trigger == "no_sampling":
        # Sampled a microsecond before the window ended: sampled in the window, never held.
        expected.discard(2)
    held = {i for i, p in enumerate(people) if evaluate(policies, p, now).colour == "yellow"}
    assert held == expected
    batch = evaluate_batch(policies, columns_from_people(people), now)
    assert set(np.flatnonzero(batch.severity).tolist()) == expected
