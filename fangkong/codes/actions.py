"""Computing codes and writing back only what changed, with an event for every change."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db import connection, transaction

from fangkong.codes.loading import Population, as_datetime, fetch_ints, load_population
from fangkong.codes.models import CodeChange
from fangkong.engine.batch import BatchResult, evaluate_batch
from fangkong.engine.policies import COLOURS, Policy
from fangkong.policies.queries import published_policies

COLOUR_SQL = "CASE colour WHEN 'green' THEN 0 WHEN 'yellow' THEN 1 ELSE 2 END"
# Above this many touched people, re-evaluating everyone in bulk is cheaper than a subset.
SUBSET_LIMIT = 50_000


@dataclass
class Outcome:
    evaluated: int
    changed: int
    seconds: dict[str, float] = field(default_factory=dict)
    by_transition: dict[str, int] = field(default_factory=dict)


def do_recompute(
    now: datetime,
    *,
    cause: str = CodeChange.Cause.RECOMPUTE,
    detail: str = "",
    policies: list[Policy] | None = None,
) -> Outcome:
    """Evaluate everyone as of `now` with the published policies; write back changed codes."""
    return _evaluate_and_write(None, now, cause, detail, policies)


def do_reevaluate(
    person_ids, now: datetime, *, cause: str = CodeChange.Cause.FACTS, detail: str = ""
) -> Outcome:
    """The incremental path: new facts touched these people; evaluate only them."""
    ids = np.unique(np.asarray(list(person_ids), dtype=np.int64))
    if not len(ids):
        return Outcome(0, 0)
    if len(ids) > SUBSET_LIMIT:
        return do_recompute(now, cause=cause, detail=detail)
    return _evaluate_and_write(ids, now, cause, detail, None)


def _evaluate_and_write(ids, now, cause, detail, policies) -> Outcome:
    timings = {}
    started = time.perf_counter()
    policies = published_policies(now) if policies is None else policies
    population = load_population(ids)
    timings["load"] = time.perf_counter() - started
    started = time.perf_counter()
    result = evaluate_batch(policies, population.columns, now)
    timings["evaluate"] = time.perf_counter() - started
    started = time.perf_counter()
    outcome = _write_changes(population, result, policies, now, cause, detail)
    timings["write"] = time.perf_counter() - started
    outcome.seconds = timings
    return outcome


def _stored(population: Population) -> tuple[np.ndarray, dict[int, str]]:
    """Stored colours per dense person number, and the policy ids behind non-green ones."""
    n = len(population.person_ids)
    old = np.zeros(n, dtype=np.int8)
    restrict = ""
    if n and n < SUBSET_LIMIT:
        restrict = " WHERE person_id IN (" + ",".join(map(str, population.person_ids)) + ")"
    rows = fetch_ints(
        f"SELECT person_id AS c0, {COLOUR_SQL} AS c1 FROM codes_personcode" + restrict, 2
    )
    known = np.isin(rows[:, 0], population.person_ids)
    rows = rows[known]
    old[population.index_of(rows[:, 0])] = rows[:, 1]
    return old, {}


def _signatures(population: Population, result: BatchResult, people: np.ndarray) -> list[str]:
    active = sorted(result.active)
    return [",".join(pid for pid in active if result.active[pid][i]) for i in people]


def _write_changes(
    population: Population,
    result: BatchResult,
    policies: list[Policy],
    now: datetime,
    cause: str,
    detail: str,
) -> Outcome:
    old, _ = _stored(population)
    new = result.severity
    n = len(new)
    # Who may have changed: a colour differs, or a non-green code may rest on other policies.
    candidates = np.flatnonzero((old != new) | (new > 0))
    stored_policies = _stored_policy_sets(population.person_ids[candidates])
    new_sets = _signatures(population, result, candidates)
    changed = [
        i
        for k, i in enumerate(candidates)
        if old[i] != new[i] or stored_policies.get(int(population.person_ids[i]), "") != new_sets[k]
    ]
    by_policy = {p.id: p for p in policies}
    transitions: dict[str, int] = {}
    code_rows, change_rows = [], []
    for i in changed:
        person_id = int(population.person_ids[i])
        reasons = [
            {
                "policy": pid,
                "version": by_policy[pid].version,
                "colour": by_policy[pid].colour,
                "title": by_policy[pid].title,
                "message": by_policy[pid].message,
                "since": as_datetime(int(result.since[pid][i])).isoformat(),
            }
            for pid in sorted(result.active, key=lambda p: (-_severity(by_policy[p].colour), p))
            if result.active[pid][i]
        ]
        old_colour, new_colour = COLOURS[int(old[i])], COLOURS[int(new[i])]
        county = f"{int(population.county[i]):06d}"
        text = json.dumps(reasons, ensure_ascii=False)
        code_rows.append(
            (
                person_id,
                new_colour,
                county,
                text,
                ",".join(r["policy"] for r in sorted(reasons, key=lambda r: r["policy"])),
            )
        )
        if old_colour != new_colour:
            key = f"{old_colour}->{new_colour}"
            transitions[key] = transitions.get(key, 0) + 1
        change_rows.append((person_id, old_colour, new_colour, text, county))
    with transaction.atomic():
        _upsert_codes(code_rows, now)
        CodeChange.objects.bulk_create(
            [
                CodeChange(
                    person_id=pid,
                    at=now,
                    old_colour=o,
                    new_colour=c,
                    reasons=json.loads(t),
                    cause=cause,
                    cause_detail=detail[:200],
                    county_code=county,
                )
                for pid, o, c, t, county in change_rows
            ],
            batch_size=5000,
        )
    return Outcome(evaluated=n, changed=len(changed), by_transition=transitions)


def _severity(colour: str) -> int:
    return {"green": 0, "yellow": 1, "red": 2}[colour]


def _stored_policy_sets(person_ids: np.ndarray) -> dict[int, str]:
    from fangkong.codes.models import PersonCode

    out: dict[int, str] = {}
    ids = [int(i) for i in person_ids]
    for start in range(0, len(ids), 20_000):
        for person_id, reasons in PersonCode.objects.filter(
            person_id__in=ids[start : start + 20_000]
        ).values_list("person_id", "reasons"):
            out[person_id] = ",".join(sorted(r["policy"] for r in reasons))
    return out


def _upsert_codes(rows: list[tuple], now: datetime) -> None:
    if not rows:
        return
    pg = connection.vendor == "postgresql"
    at = now if pg else str(now.astimezone(__import__("datetime").UTC).replace(tzinfo=None))
    reasons = "CAST(%s AS jsonb)" if pg else "%s"
    sql = (
        "INSERT INTO codes_personcode (person_id, colour, county_code, reasons, since, "
        f"evaluated_at) VALUES (%s, %s, %s, {reasons}, %s, %s) "
        "ON CONFLICT (person_id) DO UPDATE SET colour = excluded.colour, "
        "reasons = excluded.reasons, since = excluded.since, evaluated_at = excluded.evaluated_at,"
        " county_code = excluded.county_code"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 10_000):
            cursor.executemany(
                sql,
                [(p, c, county, t, at, at) for p, c, county, t, _ in rows[start : start + 10_000]],
            )
