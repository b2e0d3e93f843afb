"""Set-based merge of checked rows into the fact tables.

Each chunk is staged in a temporary table (PostgreSQL `COPY`; SQLite `executemany`, inside the
chunk's transaction). One query then resolves references (people, sites, tubes, communities) and
the fact currently standing for each row's identity, so every row ends in exactly one state:
new, correction, duplicate, flagged for a person, or rejected with a reason. Facts are never
updated in place; a resident's record and a testing site are (reference data, not facts), and
their old values are kept as a revision. What each kind is: fangkong.ingest.specs.

Concurrent loads: a merge decides on what is committed (a tube's members, a tube's standing
result, the fact a row repeats), so merges of kinds that share such rules take turns
(specs.LOCK_GROUPS; fangkong.codes.locks). The database backs the rules a constraint can say
(one sampling per person and tube, one standing result per tube: fangkong.testing.models).
Each chunk also marks the people it touched as pending re-evaluation (codes.PendingEvaluation).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.db import IntegrityError, connection
from django.utils.module_loading import import_string

from fangkong.codes.locks import INGEST, hold
from fangkong.ingest.reading import ROW
from fangkong.ingest.specs import CORRECTABLE, LOCK_GROUPS, SPECS, TOUCHED
from fangkong.ingest.validation import ERROR_SCHEMA


def _live(alias: str, table: str) -> str:
    """SQL: the fact `alias` has not been corrected. Corrections are few, so this reads them
    once as a small set instead of probing (or hashing) the whole table per row."""
    return f"{alias}.id NOT IN (SELECT supersedes_id FROM {table} WHERE supersedes_id IS NOT NULL)"  # noqa: S608


@dataclass
class Counts:
    inserted: int = 0
    duplicates: int = 0
    flagged: int = 0
    rejected: int = 0

    def add(self, other: Counts) -> None:
        for name in ("inserted", "duplicates", "flagged", "rejected"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Merger:
    """Merges the chunks of one batch. Call `merge_chunk` inside a transaction: it takes the
    lock of its kind's group before it reads what is committed, so concurrent loads merge one
    after the other (SQLite: its write lock, taken at BEGIN)."""

    def __init__(
        self,
        kind: str,
        *,
        batch_id: int,
        user_id: int | None,
        scope: frozenset[str] | None,
        now: datetime,
        own: int | None = None,
    ):
        self.spec = SPECS[kind]
        self.batch_id = batch_id
        self.user_id = user_id
        self.scope = scope
        # An organisation's own account (an enterprise's): the id of what it speaks for (0 for
        # none), checked by the kind's `own_check`.
        self.own = own
        self.now = now
        self.pg = connection.vendor == "postgresql"

    # -- SQL dialect ------------------------------------------------------------------------
    def _type(self, name: str) -> str:
        # SQLite stages times as epoch microseconds: far cheaper to pass than text.
        return {
            "text": "text",
            "int": "bigint",
            "ts": "timestamptz" if self.pg else "bigint",
            "date": "date" if self.pg else "text",  # SQLite: ISO text, as Django stores it
            "bool": "boolean" if self.pg else "integer",
            "num": "numeric",
        }[name]

    def _time(self, column: str) -> str:
        """A staged time as the fact tables hold it (SQLite: Django's naive UTC text)."""
        if self.pg:
            return column
        whole = f"strftime('%Y-%m-%d %H:%M:%S', {column} / 1000000, 'unixepoch')"
        return (
            f"CASE WHEN {column} IS NULL THEN NULL WHEN {column} % 1000000 = 0 THEN {whole} "
            f"ELSE {whole} || '.' || substr('000000' || ({column} % 1000000), -6) END"
        )

    def _same(self, a: str, b: str) -> str:
        return f"{a} IS NOT DISTINCT FROM {b}" if self.pg else f"{a} IS {b}"

    def _db_time(self, value: datetime):
        return value if self.pg else str(value.astimezone(UTC).replace(tzinfo=None))

    # -- the merge --------------------------------------------------------------------------
    def merge_chunk(self, good: pa.Table, errors: pa.Table) -> tuple[Counts, list[dict]]:
        spec = self.spec
        good, more_errors = self._prepass(good)
        if more_errors is not None:
            errors = pa.concat_tables([errors, more_errors])
        with connection.cursor() as cur:
            self._reset(cur)
            cur.execute(
                "CREATE TEMP TABLE stg (rn bigint, pre text, first_rn bigint, file_rows bigint, "
                + ", ".join(f"{c} {self._type(t)}" for c, t in spec.staging)
                + ")"
            )
            cur.execute(
                "CREATE TEMP TABLE stg_err (rn bigint PRIMARY KEY, field text, "
                "value text, reason text)"
            )
            cur.execute("CREATE TEMP TABLE stg_scope (code text PRIMARY KEY)")
            cur.execute("CREATE TEMP TABLE stg_own (id bigint PRIMARY KEY)")
            self._load(
                cur,
                "stg",
                [ROW, "pre", "first_rn", "file_rows", *(c for c, _ in spec.staging)],
                good,
            )
            self._load(cur, "stg_err", ["row", "field", "value", "reason"], errors)
            if self.scope is not None:
                self._load(
                    cur,
                    "stg_scope",
                    ["code"],
                    pa.table({"code": pa.array(sorted(self.scope), pa.string())}),
                )
            if self.own is not None:
                cur.execute("INSERT INTO stg_own (id) VALUES (%s)", [self.own])
            # Statistics matter for big stages (join order); for a few rows from the API they
            # cost more than the whole merge.
            analyse = self.pg and good.num_rows > 10_000
            if analyse:
                cur.execute("ANALYZE stg")
            # Staging is private; from here on the merge reads committed facts and writes.
            hold(INGEST, LOCK_GROUPS[spec.kind])
            cur.execute(f"CREATE TEMP TABLE res AS {self._resolve_sql()}")
            if analyse:
                cur.execute("ANALYZE res")
            self._check(cur)
            if spec.kind == "samplings":
                self._reject_overfull_tubes(cur)
                self._create_tubes(cur)
            if spec.steps:
                self._own_steps(cur)
            self._insert(cur)
            flags = self._flags(cur)
            cur.execute(
                'INSERT INTO ingest_rowerror (batch_id, "row", field, value, reason) '
                "SELECT %s, rn, field, COALESCE(value, ''), reason FROM stg_err WHERE 1 = 1",
                [self.batch_id],
            )
            cur.execute(
                "SELECT COALESCE(SUM(CASE WHEN status IN ('new', 'correct') THEN 1 END), 0), "
                "COALESCE(SUM(CASE WHEN status = 'dup' THEN 1 END), 0), "
                "COALESCE(SUM(CASE WHEN status IN ('flag', 'flag_file') THEN 1 END), 0) FROM res"
            )
            inserted, duplicates, flagged = cur.fetchone()
            cur.execute("SELECT COUNT(*) FROM stg_err")
            rejected = cur.fetchone()[0]
            self._mark_pending(cur)
            self._reset(cur)
        return Counts(inserted, duplicates, flagged, rejected), flags

    def _mark_pending(self, cur) -> None:
        """The people these facts touch await re-evaluation, in the facts' own transaction:
        a crash after the commit cannot leave their codes stale for good."""
        listed = (
            "string_agg(CAST(person_id AS text), ',')" if self.pg else "group_concat(person_id)"
        )
        cur.execute(
            "INSERT INTO codes_pendingevaluation (batch_id, since, people) "  # noqa: S608
            f"SELECT %s, %s, people FROM (SELECT {listed} AS people "
            f"FROM ({TOUCHED[self.spec.kind]}) touched) marked WHERE people IS NOT NULL",
            [self.batch_id, self._db_time(self.now)],
        )

    def _reset(self, cur) -> None:
        for name in ("stg", "stg_err", "stg_scope", "stg_own", "res"):
            cur.execute(f"DROP TABLE IF EXISTS {name}")

    def _prepass(self, good: pa.Table) -> tuple[pa.Table, pa.Table | None]:
        """Within one chunk, in Arrow: repeats of the same identity (a later row that agrees with
        the first is a duplicate, one that disagrees is flagged) and, for samplings, tubes whose
        rows disagree on the pool size."""
        spec = self.spec
        n = good.num_rows
        rows = good[ROW]
        errors = None
        if spec.kind == "samplings" and n:
            per_tube = good.group_by("tube").aggregate(
                [("pool_size", "count_distinct"), (ROW, "count")]
            )
            mixed = per_tube.filter(pc.greater(per_tube["pool_size_count_distinct"], 1))["tube"]
            if len(mixed):
                bad = pc.is_in(good["tube"], value_set=mixed)
                picked = good.filter(bad)
                errors = pa.table(
                    {
                        "row": picked[ROW],
                        "field": pa.array(["pool_size"] * picked.num_rows, pa.string()),
                        "value": pc.cast(picked["pool_size"], pa.string()),
                        "reason": pa.array(
                            ["同一文件中该试管的混采人数不一致"] * picked.num_rows, pa.string()
                        ),
                    },
                    schema=ERROR_SCHEMA,
                )
                good = good.filter(pc.invert(bad))
                n = good.num_rows
                rows = good[ROW]
            counts = dict(
                zip(per_tube["tube"].to_pylist(), per_tube[f"{ROW}_count"].to_pylist(), strict=True)
            )
            file_rows = pa.array([counts[t] for t in good["tube"].to_pylist()], pa.int64())
        else:
            file_rows = pa.array(np.ones(n, dtype=np.int64))
        pre = np.array([""] * n, dtype=object)
        first = rows.to_numpy().copy() if n else np.zeros(0, dtype=np.int64)
        if n:
            keys = list(spec.file_identity)
            grouped = good.group_by(keys).aggregate([(ROW, "min"), (ROW, "count")])
            repeated = grouped.filter(pc.greater(grouped[f"{ROW}_count"], 1))
            if repeated.num_rows:
                pre, first = self._repeats(good, repeated, keys, pre, first)
        good = good.append_column("pre", pa.array(pre, pa.string()))
        good = good.append_column("first_rn", pa.array(first, pa.int64()))
        good = good.append_column("file_rows", file_rows)
        return good, errors

    def _repeats(self, good, repeated, keys, pre, first):
        spec = self.spec
        index = {}
        key_lists = [good[k].to_pylist() for k in keys]
        value_lists = [good[v].to_pylist() for v in spec.file_values]
        firsts = set(zip(*[repeated[k].to_pylist() for k in keys], strict=True))
        rows = good[ROW].to_pylist()
        for i, key in enumerate(zip(*key_lists, strict=True)):
            if key not in firsts:
                continue
            values = tuple(v[i] for v in value_lists)
            if key not in index:
                index[key] = (rows[i], values)
                continue
            first_row, first_values = index[key]
            first[i] = first_row
            pre[i] = "dup" if values == first_values else "flag_file"
        return pre, first

    def _resolve_sql(self) -> str:
        spec = self.spec
        times = {c: self._time(f"s.{c}") for c, t in spec.staging if t == "ts"}
        staged = ", ".join(
            f"{times[c]} AS {c}" if c in times else f"s.{c}" for c, _ in spec.staging
        )
        identity = " AND ".join(f"f.{col} = {expr.format(**times)}" for col, expr in spec.identity)
        live = f" AND {_live('f', spec.table)}" if spec.supersedable else ""
        same = " AND ".join(
            ["1 = 1", *(self._same(f"f.{col}", expr.format(**times)) for col, expr in spec.values)]
        )
        correction = (
            "WHEN s.correction_reason <> '' THEN 'correct' " if CORRECTABLE in spec.staging else ""
        )
        return (
            f"SELECT s.rn, s.first_rn, s.file_rows, {staged}, {spec.resolved}, f.id AS cur_id, "  # noqa: S608
            f"CASE WHEN s.pre <> '' THEN s.pre WHEN f.id IS NULL THEN 'new' "
            f"WHEN {same} THEN 'dup' {correction}ELSE 'flag' END AS status "
            f"FROM stg s {spec.joins} LEFT JOIN {spec.table} f ON {identity}{live}"
        )

    def _check(self, cur) -> None:
        checks = list(self.spec.checks)
        if self.own is not None and self.spec.own_check:
            checks.insert(1, self.spec.own_check)
        elif self.scope is not None and self.spec.scoped_check:
            checks.insert(1, self.spec.scoped_check)
        for fld, reason, condition in checks:
            cur.execute(
                f"INSERT INTO stg_err (rn, field, value, reason) SELECT rn, %s, "  # noqa: S608
                f"CAST({fld} AS text), {reason} FROM res WHERE {condition} ON CONFLICT DO NOTHING",
                [fld],
            )
        self._mark_rejected(cur)

    def _mark_rejected(self, cur) -> None:
        cur.execute("UPDATE res SET status = 'rejected' WHERE rn IN (SELECT rn FROM stg_err)")

    def _reject_overfull_tubes(self, cur) -> None:
        """A tube holds at most its pool size. Only tubes that already held people, or that this
        file fills beyond their size, need counting."""
        cur.execute(
            "INSERT INTO stg_err (rn, field, value, reason) "  # noqa: S608
            "SELECT q.rn, 'tube', q.tube, '试管已满:混采人数上限为' || q.pool_size || '人' FROM ("
            " SELECT r.rn, r.tube, r.pool_size, "
            " ROW_NUMBER() OVER (PARTITION BY r.tube ORDER BY r.rn) + COALESCE(("
            "  SELECT COUNT(*) FROM testing_sampling m WHERE m.tube_id = r.tube_id AND "
            f"  {_live('m', 'testing_sampling')}), 0) AS members "
            " FROM res r WHERE r.status = 'new' AND (r.tube_id IS NOT NULL OR "
            " r.file_rows > r.pool_size)) q "
            "WHERE q.members > q.pool_size ON CONFLICT DO NOTHING"
        )
        self._mark_rejected(cur)

    def _own_steps(self, cur) -> None:
        """The kind's own rules over what is committed, from the app that owns its facts (cases:
        what may follow what in a case, and opening the cases of people who have none)."""
        steps = import_string(self.spec.steps)
        refused = steps(cur, now=self.now, user_id=self.user_id, db_now=self._db_time(self.now))
        if refused:
            cur.executemany(
                "INSERT INTO stg_err (rn, field, value, reason) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                refused,
            )
            self._mark_rejected(cur)

    def _create_tubes(self, cur) -> None:
        cur.execute(
            "INSERT INTO testing_tube (barcode, capacity, batch_id) "
            "SELECT tube, MIN(pool_size), %s FROM res WHERE tube_id IS NULL AND status = 'new' "
            "GROUP BY tube ON CONFLICT DO NOTHING",
            [self.batch_id],
        )

    def _insert(self, cur) -> None:
        spec = self.spec
        recorded_at = self._db_time(self.now)
        if spec.write:  # a kind that writes its own rows (the enterprise registry, its staff)
            import_string(spec.write)(
                cur, batch_id=self.batch_id, user_id=self.user_id, now=self.now, db_now=recorded_at
            )
            return
        if spec.kind == "sites":
            self._write_sites(cur, recorded_at)
            return
        if spec.kind == "residents":
            self._correct_residents(cur, recorded_at)
            columns = ", ".join(spec.insert)
            cur.execute(
                f"INSERT INTO people_person ({columns}, batch_id, recorded_at) "  # noqa: S608
                f"SELECT {columns}, %s, %s FROM res WHERE status = 'new' "
                f"ON CONFLICT DO NOTHING",
                [self.batch_id, recorded_at],
            )
            return
        columns = ", ".join(spec.insert)
        selected = ", ".join(f"r.{c}" for c in spec.insert)
        source = "res r"
        if spec.kind == "samplings":  # tubes new in this chunk got their ids just now
            selected = selected.replace("r.tube_id", "t.id")
            source = "res r JOIN testing_tube t ON t.barcode = r.tube"
        if spec.kind == "cases":  # cases opened in this chunk got their ids just now
            selected = selected.replace("r.case_id", "c.id")
            source = "res r JOIN cases_case c ON c.person_id = r.person_id"
        reason = "r.correction_reason" if CORRECTABLE in spec.staging else "''"
        cur.execute(
            f"INSERT INTO {spec.table} ({columns}, batch_id, recorded_at, recorded_by_id, "  # noqa: S608
            f"supersedes_id, correction_reason) "
            f"SELECT {selected}, %s, %s, %s, CASE WHEN r.status = 'correct' THEN r.cur_id END, "
            f"{reason} FROM {source} WHERE r.status IN ('new', 'correct') "
            f"ON CONFLICT DO NOTHING",
            [self.batch_id, recorded_at, self.user_id],
        )
        written = cur.rowcount
        cur.execute("SELECT COUNT(*) FROM res WHERE status IN ('new', 'correct')")
        if written != cur.fetchone()[0]:
            # A row the merge counted as new collided with a fact it did not see: some writer
            # bypassed the lock. Roll the chunk back rather than report what is not stored.
            raise IntegrityError(f"{spec.table}: 合并期间有其他写入,本块已回滚,请重新导入")

    def _correct_residents(self, cur, recorded_at) -> None:
        """A correction of a resident keeps the old values as a revision, then updates."""
        cur.execute(
            "INSERT INTO people_personrevision (person_id, name, phone, community_code, employer,"
            " valid_until, replaced_by_batch_id, recorded_by_id, reason) "
            "SELECT p.id, p.name, p.phone, p.community_id, p.employer, %s, %s, %s, "
            "r.correction_reason FROM res r JOIN people_person p ON p.id = r.cur_id "
            "WHERE r.status = 'correct'",
            [recorded_at, self.batch_id, self.user_id],
        )
        fields = ("name", "phone", "community_id", "county_code", "employer")
        assignments = ", ".join(
            f"{f} = (SELECT r.{f} FROM res r WHERE r.cur_id = people_person.id "  # noqa: S608
            f"AND r.status = 'correct')"
            for f in fields
        )
        cur.execute(
            f"UPDATE people_person SET {assignments} "  # noqa: S608
            f"WHERE id IN (SELECT cur_id FROM res WHERE status = 'correct')"
        )

    def _write_sites(self, cur, recorded_at) -> None:
        """Sites are edited in place, like residents: a correction keeps the old values as a
        revision. A site listed as closed is closed from now on (samplings after are refused)."""
        cur.execute(
            "INSERT INTO testing_testingsiterevision (site_id, name, community_code, address, "
            "kind, status, valid_until, replaced_by_batch_id, recorded_by_id, reason) "
            "SELECT f.id, f.name, f.community_id, f.address, f.kind, f.status, %s, %s, %s, "
            "r.correction_reason FROM res r JOIN testing_testingsite f ON f.id = r.cur_id "
            "WHERE r.status = 'correct'",
            [recorded_at, self.batch_id, self.user_id],
        )

        def incoming(column: str) -> str:
            return (
                f"(SELECT r.{column} FROM res r WHERE r.cur_id = testing_testingsite.id "  # noqa: S608
                "AND r.status = 'correct')"
            )

        fields = ("name", "community_id", "county_code", "address", "kind")
        # SET reads the row as it was: a site that stays closed keeps the time it closed.
        cur.execute(
            "UPDATE testing_testingsite SET "  # noqa: S608
            + "".join(f"{f} = {incoming(f)}, " for f in fields)
            + f"closed_at = CASE WHEN {incoming('site_status')} = 'open' THEN NULL "  # noqa: S608
            "WHEN status = 'closed' THEN closed_at ELSE %s END, "
            f"status = {incoming('site_status')} "
            "WHERE id IN (SELECT cur_id FROM res WHERE status = 'correct')",
            [recorded_at],
        )
        cur.execute(
            "INSERT INTO testing_testingsite (code, name, community_id, county_code, address, "
            "kind, status, closed_at) SELECT site_code, name, community_id, county_code, address, "
            "kind, site_status, CASE WHEN site_status = 'closed' THEN %s END FROM res "
            "WHERE status = 'new' ON CONFLICT DO NOTHING",
            [recorded_at],
        )

    def _flags(self, cur) -> list[dict]:
        """Rows that disagree with what we hold, for the caller to store as flags."""
        spec = self.spec
        incoming = [c for c, _ in spec.staging if c != "correction_reason"]
        cur.execute(
            f"SELECT rn, status, cur_id, first_rn, {spec.key}, COALESCE({spec.county}, ''), "  # noqa: S608
            f"{', '.join(incoming)} FROM res WHERE status IN ('flag', 'flag_file') ORDER BY rn"
        )
        times = {c for c, t in spec.staging if t == "ts"}
        flags = []
        for rn, status, cur_id, first_rn, key, county, *values in cur.fetchall():
            row = {
                name: _plain(value, name in times)
                for name, value in zip(incoming, values, strict=True)
            }
            flags.append(
                {
                    "row": rn,
                    "key": key,
                    "county_code": county,
                    "current_id": cur_id if status == "flag" else None,
                    "first_row": first_rn if status == "flag_file" else None,
                    "incoming": row,
                    "incoming_digest": hashlib.sha256(
                        json.dumps(row, sort_keys=True, ensure_ascii=False).encode()
                    ).hexdigest(),
                }
            )
        return flags

    def _load(self, cur, table: str, columns: list[str], data: pa.Table) -> None:
        if data.num_rows == 0:
            return
        data = data.select(columns)
        names = ["rn" if c in (ROW, "row") else c for c in columns]
        if self.pg:
            buffer = io.BytesIO()
            pa_csv.write_csv(data, buffer, pa_csv.WriteOptions(include_header=False))
            with cur.cursor.copy(
                f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT csv)"
            ) as copy:
                copy.write(buffer.getbuffer())
            return
        arrays = [_sqlite_values(data[c]) for c in columns]
        placeholders = ", ".join(["%s"] * len(columns))
        cur.cursor.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})",  # noqa: S608
            list(zip(*arrays, strict=True)),
        )


def _plain(value, is_time: bool):
    """A staged value as the text a file would carry, so a flag can be replayed as a row."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if is_time:  # SQLite hands back Django's naive UTC text
        return value.replace(" ", "T") + "+00:00"
    return str(value)


def _sqlite_values(column: pa.ChunkedArray) -> list:
    if pa.types.is_timestamp(column.type):
        return pc.cast(column, pa.int64()).to_pylist()  # epoch microseconds
    if pa.types.is_date(column.type) or pa.types.is_decimal(column.type):
        return pc.cast(column, pa.string()).to_pylist()  # as Django stores them
    if pa.types.is_boolean(column.type):
        return [None if v is None else int(v) for v in column.to_pylist()]
    return column.to_pylist()


__all__ = ["SPECS", "Counts", "Merger"]
