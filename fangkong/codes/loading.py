"""Read every fact the engine needs into numpy columns, in bulk.

PostgreSQL streams each query with `COPY … TO STDOUT` and Arrow parses it; SQLite folds each
query into one comma-separated text with `group_concat` and numpy parses that — both far faster
than building a Python tuple per row. Times become int64 microseconds (UTC), computed by the
database itself; "never" is engine.batch.NEVER.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from django.db import connection

from fangkong.engine.batch import LEVEL_CODES, NEVER, Columns, homes_at, micros

_PG = "postgresql"


def micros_sql(column: str) -> str:
    """SQL: a stored time as integer microseconds since the epoch (NULL stays NULL)."""
    if connection.vendor == _PG:
        return f"(EXTRACT(EPOCH FROM {column}) * 1000000)::bigint"
    # Django keeps SQLite times as 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC.
    return (
        f"(unixepoch({column}) * 1000000 + CASE WHEN length({column}) > 19 "
        f"THEN CAST(substr({column} || '000000', 21, 6) AS INTEGER) ELSE 0 END)"
    )


def never_sql(expression: str) -> str:
    return f"COALESCE({expression}, {NEVER})"


def fetch_ints(select: str, width: int, params: tuple = ()) -> np.ndarray:
    """Run a query of `width` integer columns; return an (n, width) int64 array."""
    with connection.cursor() as cursor:
        if connection.vendor == _PG:
            buffer = io.BytesIO()
            sql = cursor.mogrify(select, params) if params else select
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
                for block in copy:
                    buffer.write(block)
            if not buffer.tell():
                return np.zeros((0, width), dtype=np.int64)
            buffer.seek(0)
            table = pa_csv.read_csv(
                buffer,
                read_options=pa_csv.ReadOptions(column_names=[f"c{i}" for i in range(width)]),
                convert_options=pa_csv.ConvertOptions(
                    column_types={f"c{i}": pa.int64() for i in range(width)}
                ),
            )
            return (
                np.column_stack([table[f"c{i}"].to_numpy() for i in range(width)])
                if width > 1
                else table["c0"].to_numpy().reshape(-1, 1)
            )
        columns = " || ',' || ".join(f"q.c{i}" for i in range(width))
        cursor.execute(f"SELECT group_concat({columns}, ',') FROM ({select}) q", params)  # noqa: S608
        text = cursor.fetchone()[0] or ""
    values = np.fromstring(text, dtype=np.int64, sep=",") if text else np.zeros(0, np.int64)
    return values.reshape(-1, width)


def select_sql(*expressions: str) -> str:
    return ", ".join(f"{e} AS c{i}" for i, e in enumerate(expressions))


@dataclass
class Population:
    """The columns plus what maps them back: person ids and counties by dense number."""

    columns: Columns
    person_ids: np.ndarray
    county: np.ndarray  # int64 county code per person, as the record says now

    def index_of(self, person_ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.person_ids, person_ids)

    def county_at(self, when: datetime) -> np.ndarray:
        """County per person as known at `when`: a residence corrected later still counts in
        its old county then."""
        if not len(self.columns.v_person):
            return self.county
        return homes_at(self.columns, micros(when)).county


def load_population(person_ids: np.ndarray | None = None) -> Population:
    """All people (or only `person_ids`) and all their facts."""
    where, join_where = "", ""
    if person_ids is not None:
        ids = ",".join(str(int(i)) for i in person_ids) or "NULL"
        where = f" WHERE p.id IN ({ids})"
        join_where = f" AND f.person_id IN ({ids})"
    people = fetch_ints(
        "SELECT "  # noqa: S608
        + select_sql(
            "p.id",
            "CAST(p.community_id AS bigint)",
            micros_sql("p.recorded_at"),
            "CAST(p.county_code AS bigint)",
        )
        + f" FROM people_person p{where} ORDER BY p.id",
        4,
    )
    person_ids_sorted = people[:, 0]

    def index(column: np.ndarray) -> np.ndarray:
        return np.searchsorted(person_ids_sorted, column)

    samplings = fetch_ints(
        "SELECT "  # noqa: S608
        + select_sql(
            "f.id",
            "f.person_id",
            "f.tube_id",
            "t.capacity",
            micros_sql("f.sampled_at"),
            micros_sql("f.recorded_at"),
            never_sql(micros_sql("c.recorded_at")),
        )
        + " FROM testing_sampling f JOIN testing_tube t ON t.id = f.tube_id "
        "LEFT JOIN testing_sampling c ON c.supersedes_id = f.id WHERE 1 = 1" + join_where,
        7,
    )
    tubes = np.unique(samplings[:, 2]) if person_ids is not None else None
    result_where = ""
    if tubes is not None:
        result_where = " WHERE r.tube_id IN (" + (",".join(map(str, tubes)) or "NULL") + ")"
    outcome = "CASE r.result WHEN 'negative' THEN 0 WHEN 'positive' THEN 1 ELSE 2 END"
    results = fetch_ints(
        "SELECT "  # noqa: S608
        + select_sql(
            "r.id",
            "r.tube_id",
            outcome,
            micros_sql("r.reported_at"),
            micros_sql("r.recorded_at"),
            "COALESCE(r.supersedes_id, -1)",
        )
        + " FROM testing_labresult r"
        + result_where,
        6,
    )
    presences = fetch_ints(
        "SELECT "  # noqa: S608
        + select_sql(
            "f.person_id",
            "CAST(f.region_code AS bigint)",
            "length(f.region_code)",
            micros_sql("f.start_at"),
            micros_sql("f.end_at"),
            micros_sql("f.recorded_at"),
        )
        + " FROM people_presence f WHERE NOT EXISTS"
        " (SELECT 1 FROM people_presence c WHERE c.supersedes_id = f.id)" + join_where,
        6,
    )
    kind = "CASE f.kind WHEN 'close_contact' THEN 0 WHEN 'secondary_contact' THEN 1 ELSE 2 END"
    designations = fetch_ints(
        "SELECT "  # noqa: S608
        + select_sql(
            "f.person_id",
            kind,
            micros_sql("f.start_at"),
            never_sql(micros_sql("f.end_at")),
            micros_sql("f.recorded_at"),
            never_sql(micros_sql("c.recorded_at")),
        )
        + " FROM people_designation f LEFT JOIN people_designation c ON c.supersedes_id = f.id"
        " WHERE 1 = 1" + join_where,
        6,
    )
    level = (
        "CASE z.level "
        + " ".join(f"WHEN '{name}' THEN {code}" for name, code in LEVEL_CODES.items())
        + " END"
    )
    zones = fetch_ints(
        "SELECT "  # noqa: S608
        + select_sql(
            "CAST(z.community_id AS bigint)",
            level,
            micros_sql("z.start_at"),
            micros_sql("z.recorded_at"),
            never_sql(micros_sql("z.end_at")),
        )
        + " FROM places_communityzone z",
        5,
    )
    exemptions_rows = _exemptions(person_ids)
    revisions = fetch_ints(
        "SELECT "  # noqa: S608
        + select_sql("f.person_id", "CAST(f.community_code AS bigint)", micros_sql("f.valid_until"))
        + " FROM people_personrevision f WHERE 1 = 1"
        + join_where,
        3,
    )
    # Tubes get dense numbers: the kernel sizes its per-tube arrays by the largest number, and
    # database ids grow with every tube ever made.
    tube_ids = np.unique(np.concatenate([samplings[:, 2], results[:, 1]]))
    samplings[:, 2] = np.searchsorted(tube_ids, samplings[:, 2])
    results[:, 1] = np.searchsorted(tube_ids, results[:, 1])
    columns = Columns(
        community=people[:, 1].copy(),
        registered_at=people[:, 2].copy(),
        s_id=samplings[:, 0].copy(),
        s_person=index(samplings[:, 1]),
        s_tube=samplings[:, 2].copy(),
        s_pool=samplings[:, 3].copy(),
        s_sampled_at=samplings[:, 4].copy(),
        s_recorded_at=samplings[:, 5].copy(),
        s_superseded_at=samplings[:, 6].copy(),
        r_id=results[:, 0].copy(),
        r_tube=results[:, 1].copy(),
        r_result=results[:, 2].copy(),
        r_reported_at=results[:, 3].copy(),
        r_recorded_at=results[:, 4].copy(),
        r_supersedes=results[:, 5].copy(),
        p_person=index(presences[:, 0]),
        p_region=presences[:, 1].copy(),
        p_region_digits=presences[:, 2].copy(),
        p_start=presences[:, 3].copy(),
        p_end=presences[:, 4].copy(),
        p_recorded_at=presences[:, 5].copy(),
        d_person=index(designations[:, 0]),
        d_kind=designations[:, 1].copy(),
        d_start=designations[:, 2].copy(),
        d_end=designations[:, 3].copy(),
        d_recorded_at=designations[:, 4].copy(),
        d_superseded_at=designations[:, 5].copy(),
        z_community=zones[:, 0].copy(),
        z_level=zones[:, 1].copy(),
        z_start=zones[:, 2].copy(),
        z_recorded_at=zones[:, 3].copy(),
        z_end=zones[:, 4].copy(),
        e_person=index(exemptions_rows[0]),
        e_policy=exemptions_rows[1],
        e_approved_at=exemptions_rows[2],
        e_revoked_at=exemptions_rows[3],
        e_version=exemptions_rows[4],
        v_person=index(revisions[:, 0]),
        v_community=revisions[:, 1].copy(),
        v_until=revisions[:, 2].copy(),
    )
    columns.community_codes, columns.community_index = np.unique(
        columns.community, return_inverse=True
    )
    return Population(columns, person_ids_sorted, people[:, 3].copy())


def _exemptions(person_ids) -> tuple[np.ndarray, ...]:
    from fangkong.codes.models import Exemption
    from fangkong.engine.batch import micros

    rows = Exemption.objects.all()
    if person_ids is not None:
        rows = rows.filter(person_id__in=[int(i) for i in person_ids])
    rows = list(
        rows.values_list("person_id", "policy_id", "approved_at", "revoked_at", "policy_version")
    )
    return (
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=object),
        np.array([micros(r[2]) for r in rows], dtype=np.int64),
        np.array([micros(r[3]) for r in rows], dtype=np.int64),
        np.array([r[4] or 0 for r in rows], dtype=np.int64),
    )


def as_datetime(value: int) -> datetime | None:
    from datetime import UTC, timedelta

    if value >= NEVER:
        return None
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(value))
