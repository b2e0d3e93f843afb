"""Sealing the facts a code is computed from (采样、检测结果、判定、在场、居民住址):
each chunk an ingestion commits carries, in its audit entry, the seal of what it wrote to each
table — the sum, modulo 2^256, of the SHA-256 of each row's deciding columns as integers (added
for rows written, subtracted for values a correction replaced). The seals of all entries add up
to the seal of each table as it stands, so `fangkong audit verify` names a table where a fact
was edited, deleted or slipped in by SQL. Facts are written only by ingestion
(fangkong.ingest.merge), one chunk at a time under its kind's lock.

Only the columns that can change a colour are sealed (a lab's name or a resident's phone cannot).
Zone levels (places.CommunityZone) are not sealed here: each is set by an audited zone action,
and their seal belongs with the zone decisions to come.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from django.db import connection

from fangkong.audit.sealing import MODULUS
from fangkong.codes.loading import fetch_ints, micros_sql, never_sql, select_sql

OUTCOME = "CASE {t}.result WHEN 'negative' THEN 0 WHEN 'positive' THEN 1 ELSE 2 END"
KIND = (
    "CASE {t}.kind WHEN 'close_contact' THEN 0 WHEN 'secondary_contact' THEN 1 "
    "WHEN 'spacetime_companion' THEN 2 ELSE 3 END"
)


@dataclass(frozen=True)
class Sealed:
    table: str
    label: str
    # SQL over alias `t`, each an integer; "us:COLUMN" is a time in microseconds, "us?:" one
    # that may be empty (read as never).
    columns: tuple[str, ...]

    def select(self) -> str:
        return select_sql(*(_expression(c) for c in self.columns))


def _expression(column: str) -> str:
    """A column as SQL for the database in use (times are converted by the database)."""
    if column.startswith("us:"):
        return micros_sql(column[3:])
    if column.startswith("us?:"):
        return never_sql(micros_sql(column[4:]))
    return column


def _cols(*expressions: str) -> tuple[str, ...]:
    return tuple(e.format(t="t") for e in expressions)


SEALED = {
    s.table: s
    for s in (
        Sealed(
            "people_person",
            "居民住址",
            _cols("t.id", "CAST(t.community_id AS bigint)", "us:t.recorded_at"),
        ),
        Sealed(
            "people_personrevision",
            "居民住址更正记录",
            _cols(
                "t.id",
                "t.person_id",
                "CAST(t.community_code AS bigint)",
                "us:t.valid_until",
            ),
        ),
        Sealed(
            "people_presence",
            "在场记录",
            _cols(
                "t.id",
                "t.person_id",
                "CAST(t.region_code AS bigint)",
                "length(t.region_code)",
                "us:t.start_at",
                "us:t.end_at",
                "us:t.recorded_at",
                "COALESCE(t.supersedes_id, -1)",
            ),
        ),
        Sealed(
            "people_designation",
            "密接判定",
            _cols(
                "t.id",
                "t.person_id",
                KIND,
                "us:t.start_at",
                "us?:t.end_at",
                "us:t.recorded_at",
                "COALESCE(t.supersedes_id, -1)",
            ),
        ),
        Sealed("testing_tube", "试管", _cols("t.id", "t.capacity")),
        Sealed(
            "testing_sampling",
            "采样记录",
            _cols(
                "t.id",
                "t.person_id",
                "t.tube_id",
                "us:t.sampled_at",
                "us:t.recorded_at",
                "COALESCE(t.supersedes_id, -1)",
            ),
        ),
        Sealed(
            "testing_labresult",
            "检测结果",
            _cols(
                "t.id",
                "t.tube_id",
                OUTCOME,
                "us:t.reported_at",
                "us:t.recorded_at",
                "COALESCE(t.supersedes_id, -1)",
            ),
        ),
    )
}
# What each kind of file writes.
WRITES = {
    "residents": ("people_person", "people_personrevision"),
    "presence": ("people_presence",),
    "designations": ("people_designation",),
    "samplings": ("testing_tube", "testing_sampling"),
    "results": ("testing_labresult",),
    "sites": (),
    "cases": (),  # a case's events change no code; staff and imports both audit them
    # The enterprise registry, its staff and its reports change no code.
    "enterprises": (),
    "employees": (),
    "daily_reports": (),
}


def _sum(rows: np.ndarray) -> int:
    """Σ SHA-256(row as little-endian int64s) mod 2^256, for an (n, width) int64 array. The sum is
    taken in numpy over 32-bit pieces of the digests (exact for fewer than 2^32 rows)."""
    if not len(rows):
        return 0
    data = np.ascontiguousarray(rows, dtype="<i8").tobytes()
    width, view, sha256 = rows.shape[1] * 8, memoryview(data), hashlib.sha256
    digests = b"".join([sha256(view[i : i + width]).digest() for i in range(0, len(data), width)])
    pieces = np.frombuffer(digests, dtype=">u4").reshape(-1, 8).astype(np.uint64).sum(axis=0)
    total = sum(int(v) << (32 * (7 - k)) for k, v in enumerate(pieces.tolist()))
    return total % MODULUS


def _seal_of(table: str, where: str = "1 = 1", params: tuple = ()) -> int:
    sealed = SEALED[table]
    rows = fetch_ints(
        f"SELECT {sealed.select()} FROM {table} t WHERE {where}",  # noqa: S608
        len(sealed.columns),
        params,
    )
    return _sum(rows)


def high_water(kind: str) -> dict[str, int]:
    """The largest id in each table the kind writes: what a chunk adds lies above it."""
    marks = {}
    with connection.cursor() as cursor:
        for table in WRITES[kind]:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            marks[table] = cursor.fetchone()[0]
    return marks


def chunk_seals(kind: str, batch_id: int, marks: dict[str, int]) -> dict[str, str]:
    """What one chunk of a batch wrote, table by table, as seals (hex) to add up: rows of the
    batch above the marks taken before it; for residents, minus the addresses it corrected."""
    seals = {}
    for table in WRITES[kind]:
        if table == "people_person":
            continue  # below: new rows and corrected ones together
        batch = "replaced_by_batch_id" if table == "people_personrevision" else "batch_id"
        where = f"t.id > %s AND t.{batch} = %s"
        seals[table] = _seal_of(table, where, (marks[table], batch_id))
    if kind == "residents":
        seals["people_person"] = _resident_delta(batch_id, marks)
    return {table: f"{value:064x}" for table, value in seals.items()}


def _resident_delta(batch_id: int, marks: dict[str, int]) -> int:
    """New residents, plus each corrected one's new address, minus the address it replaced (its
    revision holds it)."""
    added = _seal_of(
        "people_person", "t.id > %s AND t.batch_id = %s", (marks["people_person"], batch_id)
    )
    revisions = (
        "SELECT person_id FROM people_personrevision WHERE id > %s AND replaced_by_batch_id = %s"
    )
    corrected_now = _seal_of(
        "people_person", f"t.id IN ({revisions})", (marks["people_personrevision"], batch_id)
    )
    old = select_sql("r.person_id", "CAST(r.community_code AS bigint)", micros_sql("p.recorded_at"))
    replaced = fetch_ints(
        f"SELECT {old} FROM people_personrevision r JOIN people_person p "  # noqa: S608
        "ON p.id = r.person_id WHERE r.id > %s AND r.replaced_by_batch_id = %s",
        3,
        (marks["people_personrevision"], batch_id),
    )
    return (added + corrected_now - _sum(replaced)) % MODULUS


def verify_facts() -> list[str]:
    """Each sealed table as it stands against the seals its loads left in the audit chain."""
    from fangkong.audit.models import AuditEntry

    expected = dict.fromkeys(SEALED, 0)
    for detail in AuditEntry.objects.filter(action__in=SEALING_ACTIONS).values_list(
        "detail", flat=True
    ):
        for table, seal in (detail.get("seals") or {}).items():
            if table in expected:
                expected[table] = (expected[table] + int(seal, 16)) % MODULUS
    problems = []
    for table, sealed in SEALED.items():
        if _seal_of(table) != expected[table]:
            problems.append(
                f"{sealed.label}({table})与导入存证不符:有记录在导入之外被修改、删除或写入"
            )
    return problems


# The entries carrying facts' seals: each chunk of an ingestion, and the one-off seal of facts
# loaded before sealing existed (migration ingest 0005).
SEALING_ACTIONS = ("ingest", "facts.seal")
