"""do_ingest: the one way facts get in — files from the upload page and the CLI, JSON rows from
the API, and the demo city."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
from django.db import connection, transaction
from django.utils import timezone

from fangkong.accounts.scoping import INGEST_ROLES, districts_of, require_role
from fangkong.audit.actions import record
from fangkong.ingest.current import describe_current
from fangkong.ingest.merge import Counts, Merger
from fangkong.ingest.models import Batch, Flag, RowError
from fangkong.ingest.reading import RESTART, Opened, UnreadableFile, open_file, open_rows
from fangkong.ingest.schemas import SCHEMAS, column_map
from fangkong.ingest.validation import check_chunk

REPORTED_ERRORS = 1000
# Who may load each kind. Site lists are loaded by those who manage sites.
UPLOADERS: dict[str, frozenset[str]] = INGEST_ROLES


@dataclass
class Report:
    batch_id: int
    kind: str
    rows: int = 0
    inserted: int = 0
    duplicates: int = 0
    flagged: int = 0
    rejected: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    failure: str = ""
    errors: list[dict] = field(default_factory=list)  # the first REPORTED_ERRORS
    codes_changed: int = 0
    touched: set[int] = field(default_factory=set, repr=False)

    @property
    def ok(self) -> bool:
        return not self.failure

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("touched")
        return data


def do_ingest(
    kind: str,
    *,
    path: Path | str | None = None,
    rows: list[dict] | None = None,
    filename: str = "",
    user=None,
    source: str = "cli",
    now: datetime | None = None,
    encoding: str | None = None,
    assume_offset: str | None = None,
    progress: Callable[[int], None] | None = None,
    enforce_role: bool = True,
) -> Report:
    """Load one file (or list of rows) of `kind`. Every row ends counted once: inserted,
    duplicate, flagged for a person, or rejected with row, field and reason.

    `user` is None only for trusted local callers (CLI, demo); a staff user is checked against
    their role and loads only rows of their districts. `assume_offset` ("+08:00") is the
    uploader's explicit statement of the zone of times written without one (Excel dates).
    """
    if kind not in SCHEMAS:
        raise ValueError(f"unknown kind {kind!r}")
    if user is not None and enforce_role:
        require_role(user, UPLOADERS[kind])
    scope = districts_of(user) if user is not None else None
    now = now or timezone.now()
    path = Path(path) if path is not None else None
    batch = Batch.objects.create(
        kind=kind,
        source=source,
        filename=filename or (path.name if path else ""),
        sha256=_sha256(path) if path else "",
        uploaded_by=user if user is not None else None,
        started_at=now,
    )
    report = Report(batch_id=batch.pk, kind=kind)
    started = time.monotonic()
    opened = None
    try:
        opened = open_file(path, encoding) if path is not None else open_rows(rows or [])
        _run(kind, opened, batch, report, user, scope, now, assume_offset, progress)
    except UnreadableFile as exc:
        report.failure = str(exc)
    batch.file_format = opened.file_format if opened else ""
    batch.encoding = opened.encoding if opened else ""
    for name in ("rows", "inserted", "duplicates", "flagged", "rejected"):
        setattr(batch, name, getattr(report, name))
    batch.failure = report.failure
    batch.ignored_columns = report.ignored_columns
    # `now` may be a replayed time (the demo, tests): keep the batch's own clock consistent.
    batch.finished_at = now + timedelta(seconds=time.monotonic() - started)
    with transaction.atomic():
        batch.save()
        record(
            user,
            "ingest",
            "batch",
            batch.pk,
            {
                "kind": kind,
                "source": source,
                "filename": batch.filename,
                "sha256": batch.sha256,
                **{
                    k: getattr(report, k)
                    for k in ("rows", "inserted", "duplicates", "flagged", "rejected", "failure")
                },
            },
        )
    if report.touched:
        report.codes_changed = _recode(report.touched, now, batch.pk)
    report.errors = list(
        RowError.objects.filter(batch=batch)
        .order_by("row")
        .values("row", "field", "value", "reason")[:REPORTED_ERRORS]
    )
    return report


def _run(kind, opened: Opened, batch, report, user, scope, now, assume_offset, progress):
    mapping, missing, ignored = column_map(kind, opened.header)
    report.ignored_columns = ignored
    if missing:
        raise UnreadableFile("缺少必需的列:" + "、".join(missing) + "(列说明见 docs/ingest.md)")
    # Check everything first: the fast CSV reader may hand over to the line reader midway.
    checked = []
    for chunk in opened.chunks:
        if chunk is RESTART:
            checked.clear()
            continue
        checked.append(check_chunk(kind, chunk, mapping, now=now, assume_offset=assume_offset))
    checked = _coalesce(checked)
    merger = Merger(
        kind, batch_id=batch.pk, user_id=getattr(user, "pk", None), scope=scope, now=now
    )
    total = Counts()
    done = 0
    for item in checked:
        with transaction.atomic():
            counts, flags = merger.merge_chunk(item.good, item.errors)
            _store_flags(kind, batch, flags)
        total.add(counts)
        done += item.good.num_rows + item.errors.num_rows
        if progress:
            progress(done)
    report.rows = done
    report.inserted, report.duplicates = total.inserted, total.duplicates
    report.flagged, report.rejected = total.flagged, total.rejected
    report.touched = total.touched
    if connection.vendor == "postgresql" and total.inserted > 100_000:
        # Keep the planner's picture of the table true after a large load.
        from fangkong.ingest.specs import SPECS

        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {SPECS[kind].table}")
            if kind == "samplings":
                cursor.execute("ANALYZE testing_tube")


# Rows merged at once: each merge pays fixed costs (joins over the people and tube tables), so
# fewer, larger merges are faster; this bounds the memory a merge's staging takes.
MERGE_ROWS = 1_000_000


def _coalesce(checked: list) -> list:
    """Join consecutive checked chunks into merges of up to MERGE_ROWS rows."""
    from fangkong.ingest.validation import Checked

    merged, good, errors, rows = [], [], [], 0
    for item in checked:
        size = item.good.num_rows + item.errors.num_rows
        if good and rows + size > MERGE_ROWS:
            merged.append(Checked(pa.concat_tables(good), pa.concat_tables(errors)))
            good, errors, rows = [], [], 0
        good.append(item.good)
        errors.append(item.errors)
        rows += size
    if good:
        merged.append(Checked(pa.concat_tables(good), pa.concat_tables(errors)))
    return merged


def _store_flags(kind: str, batch: Batch, flags: list[dict]) -> None:
    if not flags:
        return
    current = describe_current(kind, [f["current_id"] for f in flags if f["current_id"]])
    Flag.objects.bulk_create(
        [
            Flag(
                batch=batch,
                kind=kind,
                row=f["row"],
                key=str(f["key"])[:64],
                county_code=f["county_code"] or "",
                existing=(
                    {"同一文件第几行": f["first_row"]}
                    if f["first_row"]
                    else current.get(f["current_id"], {})
                ),
                incoming=f["incoming"],
                incoming_digest=f["incoming_digest"],
                reason=(
                    f"与同一文件第{f['first_row']}行不一致"
                    if f["first_row"]
                    else "与已有记录不一致,未覆盖,待人工核实"
                ),
            )
            for f in flags
        ],
        ignore_conflicts=True,
    )


def _recode(person_ids: set[int], now: datetime, batch_id: int) -> int:
    """New facts re-evaluate only the people they touch (once policies exist)."""
    from fangkong.codes.actions import do_reevaluate
    from fangkong.policies.models import PolicyVersion

    if not PolicyVersion.objects.filter(published_at__lte=now).exists():
        return 0
    return do_reevaluate(person_ids, now, detail=f"导入批次 #{batch_id}").changed


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
