"""Computing codes and writing back only what changed, with an event for every change."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from django.db import connection, transaction

from fangkong.audit.actions import record
from fangkong.audit.sealing import ACTION, seal
from fangkong.codes.loading import Population, as_datetime, fetch_ints, load_population
from fangkong.codes.locks import CODES, hold
from fangkong.codes.models import CodeChange, EvaluationClock
from fangkong.codes.next_change import next_changes, write_next_changes
from fangkong.engine.batch import BatchResult, evaluate_batch, micros
from fangkong.engine.policies import COLOURS, SEVERITY, Policy
from fangkong.policies.models import PolicyVersion
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
    """Evaluate everyone as of `now` with the published policies; write back changed codes.
    Exactly as of `now`, even before a later evaluation (`codes recompute --as-of`); everything
    pending up to `now` is done with it."""
    return _evaluate_and_write(None, now, cause, detail, policies, as_of=True)


def do_reevaluate(
    person_ids, now: datetime, *, cause: str = CodeChange.Cause.FACTS, detail: str = ""
) -> Outcome:
    """The incremental path: new facts touched these people; evaluate only them."""
    ids = np.unique(np.asarray(list(person_ids), dtype=np.int64))
    if not len(ids):
        return Outcome(0, 0)
    return _evaluate_and_write(ids, now, cause, detail, None)


def do_reevaluate_everyone(now: datetime, *, cause: str, detail: str = "") -> Outcome:
    """Everyone, as of `now` or the evaluation clock, whichever is later (unlike do_recompute,
    which is exactly as of `now`): what the clock does when a policy's window opens or closes,
    so a stored code never goes back to an older picture of the facts."""
    return _evaluate_and_write(None, now, cause, detail, None)


def do_evaluate_pending(now: datetime, *, detail: str = "") -> Outcome:
    """Re-evaluate everyone whose facts changed since their code was written: the people every
    load marks in the transaction of its facts (PendingEvaluation), including those of a load
    that died before re-evaluating them. Every load calls it once its facts are in;
    `codes recompute` does it too, and a clock may call it at any time."""
    return _evaluate_and_write(PENDING, now, CodeChange.Cause.FACTS, detail, None)


PENDING = object()  # `ids` of _evaluate_and_write: whoever is pending


def _evaluate_and_write(ids, now, cause, detail, policies, *, as_of=False) -> Outcome:
    """Load, evaluate and write as one unit: the codes lock is taken before the facts are read
    and held until the codes are written, so no writer can slip a newer code in between and
    see it overwritten by an older picture (fangkong.codes.locks)."""
    timings = {}
    with transaction.atomic():
        started = time.perf_counter()
        hold(CODES)
        if not as_of:
            now = max(now, _clock())
        if ids is PENDING:
            # Without any policy yet everyone is green: nothing to evaluate, only to clear.
            published = PolicyVersion.objects.filter(published_at__lte=now).exists()
            ids = _claim_pending(now, returning=published)
            if not len(ids):
                return Outcome(0, 0)
        if ids is not None and len(ids) > SUBSET_LIMIT:
            ids = None  # re-evaluating everyone in bulk is cheaper
        if ids is None:
            _claim_pending(now, returning=False)
        policies = published_policies(now) if policies is None else policies
        population = load_population(ids)
        timings["load"] = time.perf_counter() - started
        started = time.perf_counter()
        result = evaluate_batch(policies, population.columns, now)
        timings["evaluate"] = time.perf_counter() - started
        started = time.perf_counter()
        _advance_clock(now)
        instants = next_changes(policies, population.columns, result, micros(now))
        write_next_changes(population, instants, everyone=ids is None)
        outcome = _write_changes(population, result, policies, now, cause, detail)
        timings["write"] = time.perf_counter() - started
    outcome.seconds = timings
    return outcome


def _clock() -> datetime:
    at = EvaluationClock.objects.filter(pk=1).values_list("at", flat=True).first()
    return at or datetime.min.replace(tzinfo=UTC)


def _advance_clock(now: datetime) -> None:
    if not EvaluationClock.objects.filter(pk=1, at__lt=now).update(at=now):
        EvaluationClock.objects.get_or_create(pk=1, defaults={"at": now})


def _claim_pending(now: datetime, *, returning: bool = True) -> np.ndarray:
    """Delete the marks of facts known by `now` and return their people. Claimed before the
    facts are read, in the same transaction: facts committed after the claim are read too (at
    worst evaluated twice), and a mark made after it stays for the next evaluation."""
    sql = "DELETE FROM codes_pendingevaluation WHERE since <= %s"
    with connection.cursor() as cursor:
        cursor.execute(
            sql + (" RETURNING people" if returning else ""),
            [connection.ops.adapt_datetimefield_value(now)],
        )
        lists = [row[0] for row in cursor.fetchall()] if returning else []
    people = [np.fromstring(text, dtype=np.int64, sep=",") for text in lists if text]
    return np.unique(np.concatenate(people)) if people else np.zeros(0, dtype=np.int64)


def signature_of(policy: Policy) -> int:
    digest = hashlib.sha256(f"{policy.id}@{policy.version}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 62) - 1)


def _stored(population: Population) -> tuple[np.ndarray, np.ndarray]:
    """Stored colour and signature per dense person number (green and 0 without a row)."""
    n = len(population.person_ids)
    colour = np.zeros(n, dtype=np.int8)
    signature = np.zeros(n, dtype=np.int64)
    restrict = ""
    if n < SUBSET_LIMIT:
        restrict = (
            " WHERE person_id IN (" + (",".join(map(str, population.person_ids)) or "NULL") + ")"
        )
    rows = fetch_ints(
        f"SELECT person_id AS c0, {COLOUR_SQL} AS c1, signature AS c2 FROM codes_personcode"  # noqa: S608
        + restrict,
        3,
    )
    rows = rows[np.isin(rows[:, 0], population.person_ids)]
    at = population.index_of(rows[:, 0])
    colour[at] = rows[:, 1]
    signature[at] = rows[:, 2]
    return colour, signature


def _write_changes(
    population: Population,
    result: BatchResult,
    policies: list[Policy],
    now: datetime,
    cause: str,
    detail: str,
) -> Outcome:
    old, old_signature = _stored(population)
    new = result.severity
    by_policy = {p.id: p for p in policies}
    signature = np.zeros(len(new), dtype=np.int64)
    for pid, active in result.active.items():
        signature ^= np.where(active, signature_of(by_policy[pid]), 0)
    changed = np.flatnonzero((old != new) | (signature != old_signature))
    order = sorted(result.active, key=lambda p: (-SEVERITY[by_policy[p].colour], p))
    counties = population.county_at(now)
    transitions: dict[str, int] = {}
    code_rows, change_rows = [], []
    for i in changed.tolist():
        reasons = [
            {
                "policy": pid,
                "version": by_policy[pid].version,
                "colour": by_policy[pid].colour,
                "title": by_policy[pid].title,
                "message": by_policy[pid].message,
                "since": as_datetime(int(result.since[pid][i])).isoformat(),
            }
            for pid in order
            if result.active[pid][i]
        ]
        old_colour, new_colour = COLOURS[int(old[i])], COLOURS[int(new[i])]
        person_id = int(population.person_ids[i])
        county = f"{int(counties[i]):06d}"
        text = json.dumps(reasons, ensure_ascii=False)
        code_rows.append((person_id, new_colour, county, text, int(signature[i])))
        if old_colour != new_colour:
            key = f"{old_colour}->{new_colour}"
            transitions[key] = transitions.get(key, 0) + 1
        change_rows.append(
            CodeChange(
                person_id=person_id,
                at=now,
                old_colour=old_colour,
                new_colour=new_colour,
                reasons=reasons,
                cause=cause,
                cause_detail=detail[:200],
                county_code=county,
            )
        )
    _upsert_codes(code_rows, now)
    _insert_changes(change_rows)
    if change_rows:  # last: the audit chain's lock is held until commit
        _seal(change_rows, now, cause, detail[:200], transitions)
    return Outcome(evaluated=len(new), changed=len(changed), by_transition=transitions)


def _seal(changes: list[CodeChange], now, cause: str, detail: str, transitions: dict) -> None:
    """One chain entry for the whole write: its count and seal (fangkong.audit.sealing)."""
    count, digest = seal(
        (c.person_id, c.old_colour, c.new_colour, c.county_code, c.reasons) for c in changes
    )
    record(
        None,
        ACTION,
        "code_changes",
        "",
        {
            "at": now.isoformat(),
            "cause": cause,
            "detail": detail,
            "count": count,
            "seal": digest,
            "transitions": transitions,
        },
        at=now,
    )


def _insert_changes(changes: list[CodeChange]) -> None:
    if connection.vendor != "postgresql" or len(changes) <= 1000:
        CodeChange.objects.bulk_create(changes, batch_size=5000)
        return
    # Django's bulk insert sends JSON through per-value escaping; COPY is several times faster.
    columns = (
        "person_id",
        "at",
        "old_colour",
        "new_colour",
        "reasons",
        "cause",
        "cause_detail",
        "county_code",
    )
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY codes_codechange ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for c in changes:
            copy.write_row(
                (
                    c.person_id,
                    c.at,
                    c.old_colour,
                    c.new_colour,
                    json.dumps(c.reasons, ensure_ascii=False),
                    c.cause,
                    c.cause_detail,
                    c.county_code,
                )
            )


def _upsert_codes(rows: list[tuple], now: datetime) -> None:
    if not rows:
        return
    pg = connection.vendor == "postgresql"
    at = now if pg else str(now.astimezone(UTC).replace(tzinfo=None))
    reasons = "CAST(%s AS jsonb)" if pg else "%s"
    sql = (
        "INSERT INTO codes_personcode (person_id, colour, county_code, reasons, signature, "  # noqa: S608
        f"since, evaluated_at) VALUES (%s, %s, %s, {reasons}, %s, %s, %s) "
        "ON CONFLICT (person_id) DO UPDATE SET colour = excluded.colour, "
        "reasons = excluded.reasons, signature = excluded.signature, since = excluded.since, "
        "evaluated_at = excluded.evaluated_at, county_code = excluded.county_code"
    )
    with connection.cursor() as cursor:
        if pg and len(rows) > 1000:
            # COPY into a staging table, then one upsert: row-by-row statements cost 100 µs each
            # (a temporary table costs a few ms, so small writes go row by row).
            cursor.execute("DROP TABLE IF EXISTS stg_codes")
            cursor.execute(
                "CREATE TEMP TABLE stg_codes (person_id bigint, colour text, county_code text, "
                "reasons jsonb, signature bigint)"
            )
            with cursor.cursor.copy(
                "COPY stg_codes (person_id, colour, county_code, reasons, signature) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                "INSERT INTO codes_personcode (person_id, colour, county_code, reasons, signature,"
                " since, evaluated_at) SELECT person_id, colour, county_code, reasons, signature,"
                " %s, %s FROM stg_codes ON CONFLICT (person_id) DO UPDATE SET "
                "colour = excluded.colour, reasons = excluded.reasons, "
                "signature = excluded.signature, since = excluded.since, "
                "evaluated_at = excluded.evaluated_at, county_code = excluded.county_code",
                [at, at],
            )
            cursor.execute("DROP TABLE stg_codes")
            return
        for start in range(0, len(rows), 10_000):
            cursor.executemany(sql, [(*row, at, at) for row in rows[start : start + 10_000]])
