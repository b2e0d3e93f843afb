"""The batch evaluator gives every person exactly the code the per-person evaluator gives."""

from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.engine.batch import NEVER, columns_from_people, evaluate_batch, micros
from fangkong.engine.evaluate import (
    DesignationFact,
    Exemption,
    PersonFacts,
    PresenceFact,
    ZoneFact,
    evaluate,
)
from fangkong.engine.policies import SEVERITY, parse_policy
from fangkong.engine.testing_state import ResultFact, SamplingFact

BEIJING = timezone(timedelta(hours=8))
T0 = datetime(2022, 4, 18, tzinfo=BEIJING)
COMMUNITIES = ["220102001001", "220104002003", "220184100200", "220171001001"]
TUBES = {"A": 10, "B": 10, "C": 1, "D": 1, "E": 20, "F": 1}
POLICY_IDS = ["p-a", "p-b", "p-c"]

times = st.integers(min_value=0, max_value=12 * 24 * 4).map(
    lambda q: T0 + timedelta(minutes=15 * q)
)
delays = st.integers(min_value=0, max_value=48 * 4).map(lambda q: timedelta(minutes=15 * q))
# Policies mostly start early and the evaluation time is mostly late, so codes do fire.
early = st.integers(min_value=0, max_value=3 * 24 * 4).map(lambda q: T0 + timedelta(minutes=15 * q))
late = st.integers(min_value=3 * 24 * 4, max_value=12 * 24 * 4).map(
    lambda q: T0 + timedelta(minutes=15 * q)
)
long_delays = st.integers(min_value=0, max_value=10 * 24 * 4).map(
    lambda q: timedelta(minutes=15 * q)
)


@st.composite
def results_strategy(draw):
    results = []
    next_id = 1
    for tube in draw(st.lists(st.sampled_from(sorted(TUBES)), unique=True, max_size=6)):
        reported = draw(times)
        outcome = st.sampled_from(["negative", "positive", "positive", "invalid"])
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
                draw(st.sampled_from([None, 1, 2])),  # the policies here are version 1
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
            st.lists(
                st.sampled_from(["prevention", "control", "lockdown"]),
                min_size=1,
                max_size=2,
                unique=True,
            )
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
    return parse_policy(data, version=1, published_at=published)


@st.composite
def world(draw):
    results = draw(results_strategy())
    zones = {}
    for community in COMMUNITIES:
        facts = []
        for _ in range(draw(st.integers(0, 3))):
            start = draw(times)
            facts.append(
                ZoneFact(
                    draw(st.sampled_from(["prevention", "control", "lockdown"])),
                    start,
                    start + draw(delays),
                )
            )
        zones[community] = facts
    people = [draw(person_strategy(i, results, zones)) for i in range(draw(st.integers(1, 8)))]
    policies = [draw(policy_strategy(pid)) for pid in POLICY_IDS[: draw(st.integers(1, 3))]]
    return people, policies, draw(st.one_of(late, times))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
