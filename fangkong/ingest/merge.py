"""Set-based merge of checked rows into the fact tables.

Each chunk is staged in a temporary table (PostgreSQL `COPY`; SQLite `executemany` inside the
chunk's transaction), references are resolved with joins, and every row ends in exactly one
state: new, correction, duplicate, flagged for a person, or rejected with a reason. Nothing is
updated in place, except a resident's own record, whose old values are kept as a revision.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from django.db import connection

from fangkong.ingest.reading import ROW
from fangkong.ingest.validation import ERROR_SCHEMA


@dataclass(frozen=True)
class Spec:
    kind: str
    staging: tuple[tuple[str, str], ...]  # column, type (text | int | ts)
    resolve: str  # SELECT s.*, <resolved columns> FROM stg s LEFT JOIN ...
    resolved: tuple[tuple[str, str], ...]  # extra columns `resolve` adds, with their types
    checks: tuple[tuple[str, str, str], ...]  # field, reason (SQL expression), failing condition
    scoped_check: tuple[str, str, str] | None  # the same, for district-scoped users
    table: str
    identity: tuple[str, ...]
    values: tuple[str, ...]
    insert: tuple[str, ...]
    key: str  # SQL expression naming the thing a flag is about
    county: str  # SQL expression: the county a flag belongs to (for district reviewers)
    supersedable: bool = True
    incoming: tuple[str, ...] = field(default=())  # the row as submitted, for flags


SPECS: dict[str, Spec] = {}


def _spec(spec: Spec) -> Spec:
    SPECS[spec.kind] = spec
    return spec


UNKNOWN_PERSON = ("id_number", "'未知人员:该身份证号尚未登记为居民'", "person_id IS NULL")
OUT_OF_SCOPE_PERSON = (
    "id_number",
    "'该人员不在您负责的区县'",
    "person_county NOT IN (SELECT code FROM stg_scope)",
)
PERSON_JOIN = "LEFT JOIN people_person p ON p.id_number = s.id_number"

_spec(
    Spec(
        kind="residents",
        staging=(
            ("id_number", "text"),
            ("name", "text"),
            ("phone", "text"),
            ("community_code", "text"),
            ("employer", "text"),
            ("correction_reason", "text"),
        ),
        resolve=(
            "SELECT s.*, d.code AS community_id, substr(s.community_code, 1, 6) AS county_code "
            "FROM stg s LEFT JOIN places_division d ON d.code = s.community_code AND d.level = 5"
        ),
        resolved=(("community_id", "text"), ("county_code", "text")),
        checks=(
            (
                "community_code",
                "'未知社区代码:应为长春市现行社区/村的12位代码'",
                "community_id IS NULL",
            ),
        ),
        scoped_check=(
            "community_code",
            "'该社区不在您负责的区县'",
            "county_code NOT IN (SELECT code FROM stg_scope)",
        ),
        table="people_person",
        identity=("id_number",),
        values=("name", "phone", "community_id", "employer"),
        insert=("id_number", "name", "phone", "community_id", "county_code", "employer"),
        key="id_number",
        county="county_code",
        supersedable=False,
        incoming=("id_number", "name", "phone", "community_code", "employer"),
    )
)

_spec(
    Spec(
        kind="presence",
        staging=(
            ("id_number", "text"),
            ("region_code", "text"),
            ("start_at", "ts"),
            ("end_at", "ts"),
            ("source", "text"),
        ),
        resolve=(
            f"SELECT s.*, p.id AS person_id, p.county_code AS person_county, "
            f"d.county_code AS region_county FROM stg s {PERSON_JOIN} "
            f"LEFT JOIN places_division d ON d.code = s.region_code"
        ),
        resolved=(("person_id", "int"), ("person_county", "text"), ("region_county", "text")),
        checks=(
            UNKNOWN_PERSON,
            ("region_code", "'未知区域代码'", "region_county IS NULL"),
            ("end_at", "'结束时间早于开始时间'", "end_at < start_at"),
        ),
        scoped_check=(
            "region_code",
            "'该区域不在您负责的区县'",
            "region_county NOT IN (SELECT code FROM stg_scope)",
        ),
        table="people_presence",
        identity=("person_id", "region_code", "start_at", "end_at", "source"),
        values=(),
        insert=("person_id", "region_code", "start_at", "end_at", "source"),
        key="id_number",
        county="person_county",
    )
)

_spec(
    Spec(
        kind="designations",
        staging=(
            ("id_number", "text"),
            ("kind", "text"),
            ("start_at", "ts"),
            ("end_at", "ts"),
            ("designated_by", "text"),
            ("correction_reason", "text"),
        ),
        resolve=(
            f"SELECT s.*, p.id AS person_id, p.county_code AS person_county "
            f"FROM stg s {PERSON_JOIN}"
        ),
        resolved=(("person_id", "int"), ("person_county", "text")),
        checks=(
            UNKNOWN_PERSON,
            ("end_at", "'截止时间早于起始时间'", "end_at IS NOT NULL AND end_at < start_at"),
        ),
        scoped_check=OUT_OF_SCOPE_PERSON,
        table="people_designation",
        identity=("person_id", "kind", "start_at", "designated_by"),
        values=("end_at",),
        insert=("person_id", "kind", "start_at", "end_at", "designated_by"),
        key="id_number",
        county="person_county",
        incoming=("id_number", "kind", "start_at", "end_at", "designated_by"),
    )
)

_spec(
    Spec(
        kind="samplings",
        staging=(
            ("id_number", "text"),
            ("tube", "text"),
            ("pool_size", "int"),
            ("site_code", "text"),
            ("sampled_at", "ts"),
            ("correction_reason", "text"),
        ),
        resolve=(
            f"SELECT s.*, p.id AS person_id, p.county_code AS person_county, st.id AS site_id, "
            f"st.county_code AS site_county, t.id AS tube_id, t.capacity AS tube_capacity "
            f"FROM stg s {PERSON_JOIN} "
            f"LEFT JOIN testing_testingsite st ON st.code = s.site_code "
            f"LEFT JOIN testing_tube t ON t.barcode = s.tube"
        ),
        resolved=(
            ("person_id", "int"),
            ("person_county", "text"),
            ("site_id", "int"),
            ("site_county", "text"),
            ("tube_id", "int"),
            ("tube_capacity", "int"),
        ),
        checks=(
            UNKNOWN_PERSON,
            ("site_code", "'未知采样点编码'", "site_id IS NULL"),
            (
                "pool_size",
                "'与该试管已登记的混采人数(' || tube_capacity || ')不一致'",
                "tube_capacity IS NOT NULL AND tube_capacity <> pool_size",
            ),
            (
                "pool_size",
                "'同一文件中该试管的混采人数不一致'",
                "tube IN (SELECT tube FROM res GROUP BY tube HAVING COUNT(DISTINCT pool_size) > 1)",
            ),
        ),
        scoped_check=(
            "site_code",
            "'该采样点不在您负责的区县'",
            "site_county NOT IN (SELECT code FROM stg_scope)",
        ),
        table="testing_sampling",
        identity=("person_id", "tube_id"),
        values=("site_id", "sampled_at"),
        insert=("person_id", "tube_id", "site_id", "sampled_at"),
        key="tube",
        county="site_county",
        incoming=("id_number", "tube", "pool_size", "site_code", "sampled_at"),
    )
)

_spec(
    Spec(
        kind="results",
        staging=(
            ("tube", "text"),
            ("result", "text"),
            ("lab", "text"),
            ("reported_at", "ts"),
            ("correction_reason", "text"),
        ),
        resolve=(
            "SELECT s.*, t.id AS tube_id FROM stg s LEFT JOIN testing_tube t ON t.barcode = s.tube"
        ),
        resolved=(("tube_id", "int"),),
        checks=(("tube", "'未知试管:尚无该条码的采样记录'", "tube_id IS NULL"),),
        scoped_check=None,
        table="testing_labresult",
        identity=("tube_id",),
        values=("result",),
        insert=("tube_id", "result", "lab", "reported_at"),
        key="tube",
        # Only flagged rows need it: the district of the site where the tube was filled.
        county=(
            "(SELECT MIN(st.county_code) FROM testing_sampling x JOIN testing_testingsite st "
            "ON st.id = x.site_id WHERE x.tube_id = cand.tube_id)"
        ),
        incoming=("tube", "result", "lab", "reported_at"),
    )
)


@dataclass
class Counts:
    inserted: int = 0
    duplicates: int = 0
    flagged: int = 0
    rejected: int = 0

    def add(self, other: Counts) -> None:
        self.inserted += other.inserted
        self.duplicates += other.duplicates
        self.flagged += other.flagged
        self.rejected += other.rejected


class Merger:
    """Merges the chunks of one batch. Call `merge_chunk` inside a transaction."""

    def __init__(
        self,
        kind: str,
        *,
        batch_id: int,
        user_id: int | None,
        scope: frozenset[str] | None,
        now: datetime,
    ):
        self.spec = SPECS[kind]
        self.batch_id = batch_id
        self.user_id = user_id
        self.scope = scope
        self.now = now
        self.vendor = connection.vendor

    # -- SQL dialect ------------------------------------------------------------------------
    def _type(self, name: str) -> str:
        pg = self.vendor == "postgresql"
        return {"text": "text", "int": "bigint", "ts": "timestamptz" if pg else "text"}[name]

    def _same(self, a: str, b: str) -> str:
        if self.vendor == "postgresql":
            return f"{a} IS NOT DISTINCT FROM {b}"
        return f"{a} IS {b}"

    def _db_time(self, value: datetime):
        if self.vendor == "postgresql":
            return value
        return str(value.astimezone(UTC).replace(tzinfo=None))

    # -- the merge --------------------------------------------------------------------------
    def merge_chunk(self, good: pa.Table, errors: pa.Table) -> tuple[Counts, list[dict]]:
        spec = self.spec
        with connection.cursor() as cur:
            self._reset(cur)
            cur.execute(
                "CREATE TEMP TABLE stg (rn bigint, "
                + ", ".join(f"{c} {self._type(t)}" for c, t in spec.staging)
                + ")"
            )
            cur.execute(
                "CREATE TEMP TABLE stg_err (rn bigint PRIMARY KEY, field text, "
                "value text, reason text)"
            )
            cur.execute("CREATE TEMP TABLE stg_scope (code text PRIMARY KEY)")
            self._load(cur, "stg", [ROW, *(c for c, _ in spec.staging)], good)
            self._load(cur, "stg_err", ["row", "field", "value", "reason"], errors)
            if self.scope is not None:
                self._load(
                    cur,
                    "stg_scope",
                    ["code"],
                    pa.table({"code": pa.array(sorted(self.scope), pa.string())}),
                )
            if self.vendor == "postgresql":
                cur.execute("ANALYZE stg")
            cur.execute(f"CREATE TEMP TABLE res AS {spec.resolve}")
            checks = list(spec.checks)
            if self.scope is not None and spec.scoped_check:
                checks.insert(1, spec.scoped_check)
            for fld, reason, condition in checks:
                cur.execute(
                    f"INSERT INTO stg_err (rn, field, value, reason) "
                    f"SELECT rn, %s, CAST({fld} AS text), "
                    f"{reason} FROM res WHERE {condition} ON CONFLICT DO NOTHING",
                    [fld],
                )
            cur.execute("DELETE FROM res WHERE rn IN (SELECT rn FROM stg_err)")
            if spec.kind == "samplings":
                self._create_tubes(cur)
            self._classify(cur)
            if spec.kind == "samplings":
                self._reject_overfull_tubes(cur)
            self._insert(cur)
            flags = self._flags(cur)
            cur.execute(
                'INSERT INTO ingest_rowerror (batch_id, "row", field, value, reason) '
                "SELECT %s, rn, field, COALESCE(value, ''), reason FROM stg_err WHERE 1 = 1",
                [self.batch_id],
            )
            cur.execute("SELECT status, COUNT(*) FROM cand GROUP BY status")
            by_status = dict(cur.fetchall())
            cur.execute("SELECT COUNT(*) FROM stg_err")
            rejected = cur.fetchone()[0]
            self._reset(cur)
        counts = Counts(
            inserted=by_status.get("new", 0) + by_status.get("correct", 0),
            duplicates=by_status.get("dup", 0),
            flagged=by_status.get("flag", 0) + by_status.get("flag_file", 0),
            rejected=rejected,
        )
        return counts, flags

    def _reset(self, cur) -> None:
        for name in ("stg", "stg_err", "stg_scope", "res", "cand", "overfull"):
            cur.execute(f"DROP TABLE IF EXISTS {name}")

    def _load(self, cur, table: str, columns: list[str], data: pa.Table) -> None:
        if data.num_rows == 0:
            return
        data = data.select(columns)
        names = ["rn" if c in (ROW, "row") else c for c in columns]
        if self.vendor == "postgresql":
            buffer = io.BytesIO()
            pa_csv.write_csv(data, buffer, pa_csv.WriteOptions(include_header=False))
            with cur.cursor.copy(
                f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT csv)"
            ) as copy:
                copy.write(buffer.getbuffer())
            return
        arrays = [_sqlite_values(data[c]) for c in columns]
        placeholders = ", ".join("?" * len(columns))
        cur.cursor.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})",
            zip(*arrays, strict=True),
        )

    def _create_tubes(self, cur) -> None:
        cur.execute(
            "INSERT INTO testing_tube (barcode, capacity, batch_id) "
            "SELECT tube, MIN(pool_size), %s FROM res WHERE tube_id IS NULL GROUP BY tube "
            "ON CONFLICT DO NOTHING",
            [self.batch_id],
        )
        cur.execute(
            "UPDATE res SET tube_id = (SELECT t.id FROM testing_tube t WHERE t.barcode = res.tube),"
            " tube_capacity = pool_size WHERE tube_id IS NULL"
        )

    def _current(self, alias: str = "cand") -> str:
        """SQL for the id of the fact currently standing for the row's identity."""
        spec = self.spec
        same = " AND ".join(self._same(f"f.{c}", f"{alias}.{c}") for c in spec.identity)
        live = (
            f" AND NOT EXISTS (SELECT 1 FROM {spec.table} x WHERE x.supersedes_id = f.id)"
            if spec.supersedable
            else ""
        )
        return f"(SELECT MAX(f.id) FROM {spec.table} f WHERE {same}{live})"

    def _classify(self, cur) -> None:
        spec = self.spec
        partition = ", ".join(spec.identity)
        firsts = "".join(f", FIRST_VALUE({c}) OVER w AS first_{c}" for c in spec.values)
        cur.execute(
            f"CREATE TEMP TABLE cand AS SELECT res.*, ROW_NUMBER() OVER w AS dup_rank, "
            f"FIRST_VALUE(rn) OVER w AS first_rn{firsts}, "
            f"CAST(NULL AS bigint) AS cur_id, CAST('' AS text) AS status "
            f"FROM res WINDOW w AS (PARTITION BY {partition} ORDER BY rn)"
        )
        same_as_first = " AND ".join(["1 = 1", *(self._same(c, f"first_{c}") for c in spec.values)])
        cur.execute(
            f"UPDATE cand SET status = CASE WHEN {same_as_first} THEN 'dup' ELSE 'flag_file' END "
            f"WHERE dup_rank > 1"
        )
        cur.execute(f"UPDATE cand SET cur_id = {self._current()} WHERE dup_rank = 1")
        matches = " AND ".join(
            ["f.id = cand.cur_id", *(self._same(f"f.{c}", f"cand.{c}") for c in spec.values)]
        )
        correction = (
            "WHEN correction_reason <> '' THEN 'correct' "
            if any(c == "correction_reason" for c, _ in spec.staging)
            else ""
        )
        cur.execute(
            f"UPDATE cand SET status = CASE WHEN cur_id IS NULL THEN 'new' "
            f"WHEN EXISTS (SELECT 1 FROM {spec.table} f WHERE {matches}) THEN 'dup' "
            f"{correction}ELSE 'flag' END WHERE dup_rank = 1"
        )

    def _reject_overfull_tubes(self, cur) -> None:
        cur.execute(
            "CREATE TEMP TABLE overfull AS SELECT q.rn, q.capacity FROM ("
            " SELECT c.rn, c.tube_id, t.capacity, "
            " ROW_NUMBER() OVER (PARTITION BY c.tube_id ORDER BY c.rn) AS k "
            " FROM cand c JOIN testing_tube t ON t.id = c.tube_id WHERE c.status = 'new') q "
            "WHERE q.k + (SELECT COUNT(*) FROM testing_sampling s WHERE s.tube_id = q.tube_id "
            " AND NOT EXISTS (SELECT 1 FROM testing_sampling x WHERE x.supersedes_id = s.id))"
            " > q.capacity"
        )
        cur.execute(
            "INSERT INTO stg_err (rn, field, value, reason) "
            "SELECT o.rn, 'tube', c.tube, '试管已满:混采人数上限为' || o.capacity || '人' "
            "FROM overfull o JOIN cand c ON c.rn = o.rn WHERE 1 = 1 ON CONFLICT DO NOTHING"
        )
        cur.execute("DELETE FROM cand WHERE rn IN (SELECT rn FROM overfull)")

    def _insert(self, cur) -> None:
        spec = self.spec
        recorded_at = self._db_time(self.now)
        columns = ", ".join(spec.insert)
        if spec.kind == "residents":
            self._correct_residents(cur, recorded_at)
            cur.execute(
                f"INSERT INTO people_person ({columns}, batch_id, recorded_at) "
                f"SELECT {columns}, %s, %s FROM cand WHERE status = 'new' "
                f"ON CONFLICT DO NOTHING",
                [self.batch_id, recorded_at],
            )
            return
        has_reason = any(c == "correction_reason" for c, _ in spec.staging)
        reason = "correction_reason" if has_reason else "''"
        cur.execute(
            f"INSERT INTO {spec.table} ({columns}, batch_id, recorded_at, recorded_by_id, "
            f"supersedes_id, correction_reason) "
            f"SELECT {columns}, %s, %s, %s, CASE WHEN status = 'correct' THEN cur_id END, "
            f"{reason} FROM cand WHERE status IN ('new', 'correct') ORDER BY rn "
            f"ON CONFLICT DO NOTHING",
            [self.batch_id, recorded_at, self.user_id],
        )

    def _correct_residents(self, cur, recorded_at) -> None:
        """A correction of a resident keeps the old values as a revision, then updates."""
        cur.execute(
            "INSERT INTO people_personrevision (person_id, name, phone, community_code, employer,"
            " valid_until, replaced_by_batch_id, recorded_by_id, reason) "
            "SELECT p.id, p.name, p.phone, p.community_id, p.employer, %s, %s, %s, "
            "c.correction_reason FROM cand c JOIN people_person p ON p.id = c.cur_id "
            "WHERE c.status = 'correct'",
            [recorded_at, self.batch_id, self.user_id],
        )
        cur.execute(
            "UPDATE people_person SET "
            "name = (SELECT c.name FROM cand c WHERE c.cur_id = people_person.id "
            " AND c.status = 'correct'), "
            "phone = (SELECT c.phone FROM cand c WHERE c.cur_id = people_person.id "
            " AND c.status = 'correct'), "
            "community_id = (SELECT c.community_id FROM cand c "
            " WHERE c.cur_id = people_person.id AND c.status = 'correct'), "
            "county_code = (SELECT c.county_code FROM cand c WHERE c.cur_id = people_person.id "
            " AND c.status = 'correct'), "
            "employer = (SELECT c.employer FROM cand c WHERE c.cur_id = people_person.id "
            " AND c.status = 'correct') "
            "WHERE id IN (SELECT cur_id FROM cand WHERE status = 'correct')"
        )

    def _flags(self, cur) -> list[dict]:
        """Rows that disagree with what we hold: returned for the caller to store as flags."""
        spec = self.spec
        incoming = spec.incoming or spec.insert
        cur.execute(
            f"SELECT rn, status, cur_id, first_rn, {spec.key}, COALESCE({spec.county}, ''), "
            f"{', '.join(incoming)} FROM cand WHERE status IN ('flag', 'flag_file') ORDER BY rn"
        )
        flags = []
        times = {c for c, t in spec.staging if t == "ts"}
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
                    "current_id": cur_id,
                    "first_row": first_rn if status == "flag_file" else None,
                    "incoming": row,
                    "incoming_digest": hashlib.sha256(
                        json.dumps(row, sort_keys=True, ensure_ascii=False).encode()
                    ).hexdigest(),
                }
            )
        return flags


def _plain(value, is_time: bool):
    """A staged value as the text a file would carry, so a flag can be replayed as a row."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if is_time:  # SQLite hands back Django's naive UTC text
        return value.replace(" ", "T") + "+00:00"
    return str(value)


def _sqlite_values(column: pa.ChunkedArray) -> list:
    """Arrow values as SQLite stores them through Django: aware times as naive UTC text."""
    if pa.types.is_timestamp(column.type):
        seconds = pc.strftime(
            pc.cast(column, pa.timestamp("s", tz="UTC"), safe=False), format="%Y-%m-%d %H:%M:%S"
        )
        micros = pc.cast(column, pa.int64())
        whole = pc.multiply(
            pc.cast(pc.cast(column, pa.timestamp("s", tz="UTC"), safe=False), pa.int64()), 1_000_000
        )
        rest = pc.subtract(micros, whole)
        fraction = pc.utf8_lpad(pc.cast(rest, pa.string()), 6, "0")
        has_fraction = pc.not_equal(rest, 0)
        text = pc.if_else(
            has_fraction, pc.binary_join_element_wise(seconds, fraction, "."), seconds
        )
        return text.to_pylist()
    return column.to_pylist()


__all__ = ["SPECS", "Counts", "Merger", "ERROR_SCHEMA"]
