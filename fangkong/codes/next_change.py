"""When each person's code could next change with no new fact, from the same columns the batch
evaluator read, and stored for the clock (codes.models.NextChange).

The engine's per-person evaluator knows this instant (Code.next_change_at); the batch evaluator,
which writes stored codes, does not, so this module finds the instants that belong to one
person: a designation of a kind some policy triggers on starting or ending, a reason's expiry,
a registration yet to come. A policy's window and a zone's start concern many people at once:
the clock finds those itself (fangkong.clock.instants). An instant found here that changes
nothing costs one re-evaluation of that person; one missed would leave a stale code, so the
rules err on the side of finding too many.
"""

from __future__ import annotations

import numpy as np

from fangkong.codes.loading import Population, as_datetime, fetch_ints, micros_sql, select_sql
from fangkong.codes.models import NextChange
from fangkong.engine.batch import KIND_CODES, NEVER, BatchResult, Columns, micros
from fangkong.engine.policies import Policy

_WRITE_ROWS = 5000


def next_changes(policies: list[Policy], c: Columns, result: BatchResult, now: int) -> np.ndarray:
    """Per dense person number, the earliest instant after `now` (microseconds) at which their
    code could change by itself, or NEVER."""
    out = np.full(c.n, NEVER, dtype=np.int64)

    def take(people: np.ndarray, times: np.ndarray) -> None:
        keep = (times > now) & (times < NEVER)
        np.minimum.at(out, people[keep], times[keep])

    take(np.arange(c.n), c.registered_at)
    kinds = [KIND_CODES[p.trigger.kind] for p in policies if p.trigger.type == "designation"]
    if kinds and len(c.d_person):
        known = (c.d_recorded_at <= now) & (c.d_superseded_at > now) & np.isin(c.d_kind, kinds)
        take(c.d_person[known], c.d_start[known])
        started = known & (c.d_start <= now)
        take(c.d_person[started], c.d_end[started])
    by_id = {p.id: p for p in policies}
    for pid, active in result.active.items():
        people = np.flatnonzero(active)
        for clear in by_id[pid].clears:
            if clear.type != "expiry" or not len(people):
                continue
            if clear.at is not None:
                take(people, np.full(len(people), micros(clear.at), dtype=np.int64))
            else:
                since = result.since[pid][people]
                take(people, since + int(clear.hours * 3600 * 1_000_000))
    return out


def write_next_changes(population: Population, instants: np.ndarray, *, everyone: bool) -> None:
    """Store the instants of the people evaluated: new and moved ones written, those with none
    left deleted. Only differences are written, so a recompute of a city costs little here."""
    ids = population.person_ids
    # Only column names and integer ids go into this SQL.
    select = "SELECT " + select_sql("person_id", micros_sql("at")) + " FROM codes_nextchange"  # noqa: S608
    if not everyone:
        select += " WHERE person_id IN (" + (",".join(map(str, ids.tolist())) or "NULL") + ")"
    stored = fetch_ints(select, 2)
    stored = stored[np.isin(stored[:, 0], ids)]
    before = np.full(len(ids), NEVER, dtype=np.int64)
    before[population.index_of(stored[:, 0])] = stored[:, 1]
    gone = ids[(instants == NEVER) & (before != NEVER)]
    moved = np.flatnonzero((instants != NEVER) & (instants != before))
    for start in range(0, len(gone), _WRITE_ROWS):
        NextChange.objects.filter(person_id__in=gone[start : start + _WRITE_ROWS].tolist()).delete()
    if not len(moved):
        return
    rows = [NextChange(person_id=int(ids[i]), at=as_datetime(int(instants[i]))) for i in moved]
    NextChange.objects.bulk_create(
        rows,
        batch_size=_WRITE_ROWS,
        update_conflicts=True,
        unique_fields=["person"],
        update_fields=["at"],
    )
