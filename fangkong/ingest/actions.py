"""do_ingest: the one way facts get in — files from the upload page and the CLI, JSON rows from
the API, and the demo city."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import INGEST_ROLES, districts_of, require_role, role_of
from fangkong.audit.actions import record
from fangkong.ingest import batches
from fangkong.ingest.current import describe_current
from fangkong.ingest.merge import Merger
from fangkong.ingest.models import Batch, Flag, RowError
from fangkong.ingest.reading import RESTART, Opened, UnreadableFile, open_file, open_rows
from fangkong.ingest.schemas import SCHEMAS, column_map
from fangkong.ingest.seals import chunk_seals, high_water
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

    @property
    def ok(self) -> bool:
        return not self.failure

    def to_dict(self) -> dict:
        return asdict(self)


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
    nested: bool = False,
) -> Report:
    """Load one file (or list of rows) of `kind`. Every row ends counted once: inserted,
    duplicate, flagged for a person, or rejected with row, field and reason.

    `user` is None only for trusted local callers (CLI, demo); a staff user is checked against
    their role and loads only rows of their districts (an enterprise's own account: rows of its
    enterprise). `assume_offset` ("+08:00") is the uploader's explicit statement of the zone of
    times written without one (Excel dates).

    First, batches whose loading process died are marked failed. Each chunk then commits its
    facts, the batch's counts, its audit entry and the people it touched (marked pending)
    together; then every pending person is re-evaluated, this load's and any a crashed load
    left. `nested`: the caller's transaction has already written an audit entry, so only the
    load itself is done, and the caller calls `codes.actions.do_evaluate_pending` after its
    commit (fangkong.codes.locks: the audit chain's lock comes last).
    """
    if kind not in SCHEMAS:
        raise ValueError(f"unknown kind {kind!r}")
    if user is not None and enforce_role:
        require_role(user, UPLOADERS[kind])
    scope = districts_of(user) if user is not None else None
    own = own_organisation(user)
    now = now or timezone.now()
    path = Path(path) if path is not None else None
    if not nested:
        do_close_abandoned(now)
    batch = _start(kind, source, filename or (path.name if path else ""), path, user, now)
    report = Report(batch_id=batch.pk, kind=kind)
    started = time.monotonic()
    opened, audited = None, False
    try:
        try:
            opened = open_file(path, encoding) if path is not None else open_rows(rows or [])
            audited = _run(
                kind, opened, batch, report, user, (scope, own), now, assume_offset, progress
            )
        except UnreadableFile as exc:
            report.failure = str(exc)
        except Exception as exc:
            # A fault of ours or of the database: the batch must not stay unfinished.
            report.failure = f"{INTERRUPTED}:处理出错({type(exc).__name__}),已写入的部分保留"
            with suppress(DatabaseError):
                _finish(batch, report, opened, user, now, started, audited=False)
            raise
        _finish(batch, report, opened, user, now, started, audited=audited)
    finally:
        batches.release(batch.pk)
    if not nested:
        report.codes_changed = _recode(now, batch.pk)
    report.errors = list(
        RowError.objects.filter(batch=batch)
        .order_by("row")
        .values("row", "field", "value", "reason")[:REPORTED_ERRORS]
    )
    return report


# How a batch whose loading stopped midway is marked failed: uploading the same file again
# completes it (what was written counts as duplicates), and the new batch names it.
INTERRUPTED = "导入中断"


def do_close_abandoned(now: datetime | None = None) -> list[int]:
    """Mark failed every unfinished batch whose loading process died (fangkong.ingest.batches
    tells): it keeps the counts of the chunks it committed; uploading the same file again
    completes it. Every load calls this first; the batches page may too. Returns their ids."""
    now = now or timezone.now()
    closed = []
    for batch in batches.without_loader(Batch.objects.filter(finished_at__isnull=True)):
        failure = (
            f"{INTERRUPTED}:导入进程在完成前退出,已写入{batch.rows}行(新增{batch.inserted}),"
            "其余未导入。重新上传同一文件即可补全,已写入的行计为重复,不会重复导入。"
        )
        with transaction.atomic():
            found = Batch.objects.filter(pk=batch.pk, finished_at__isnull=True).update(
                finished_at=max(now, batch.started_at), failure=failure
            )
            if found:
                record(None, "ingest", "batch", batch.pk, {"kind": batch.kind, "failure": failure})
                closed.append(batch.pk)
    return closed


def _start(kind, source, filename, path, user, now) -> Batch:
    sha256 = _sha256(path) if path else ""
    retry_of = None
    if sha256:
        retry_of = (
            Batch.objects.filter(
                kind=kind, sha256=sha256, failure__startswith=INTERRUPTED, retries__isnull=True
            )
            .order_by("-pk")
            .first()
        )
    with transaction.atomic():
        batch = Batch.objects.create(
            kind=kind,
            source=source,
            filename=filename,
            sha256=sha256,
            uploaded_by=user if user is not None else None,
            started_at=now,
            worker=batches.worker(),
            retry_of=retry_of,
        )
        batches.hold(batch.pk)
    return batch


def _finish(batch: Batch, report: Report, opened, user, now, started, *, audited) -> None:
    """The batch's closing details; its closing audit entry unless its last chunk wrote it."""
    batch.file_format = opened.file_format if opened else ""
    batch.encoding = opened.encoding if opened else ""
    batch.failure = report.failure
    batch.ignored_columns = report.ignored_columns
    # `now` may be a replayed time (the demo, tests): keep the batch's own clock consistent.
    batch.finished_at = now + timedelta(seconds=time.monotonic() - started)
    with transaction.atomic():
        batch.save(
            update_fields=["file_format", "encoding", "failure", "ignored_columns", "finished_at"]
        )
        if not audited:
            counts = {name: getattr(report, name) for name in COUNTS}
            record(user, "ingest", "batch", batch.pk, _closing(batch, counts, report.failure))


COUNTS = ("rows", "inserted", "duplicates", "flagged", "rejected")


def _closing(batch: Batch, counts: dict, failure: str) -> dict:
    """The detail of a batch's closing audit entry."""
    where = {"kind": batch.kind, "source": batch.source, "filename": batch.filename}
    return {**where, "sha256": batch.sha256, **counts, "failure": failure}


def own_organisation(user) -> int | None:
    """The enterprise an enterprise's own account (企业联络员) speaks for: it loads rows about
    that enterprise only (0: an account not yet linked to one loads none). None for every other
    user: they are scoped by district."""
    if user is None or role_of(user) != Role.EMPLOYER:
        return None
    return user.staff.enterprise_id or 0


def _run(kind, opened: Opened, batch, report, user, scopes, now, assume_offset, progress) -> bool:
    """Check and merge; True once the last chunk has written the batch's closing audit entry.
    `scopes`: the user's districts and own organisation (`own_organisation`)."""
    scope, own = scopes
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
        kind, batch_id=batch.pk, user_id=getattr(user, "pk", None), scope=scope, now=now, own=own
    )
    for number, item in enumerate(checked, 1):
        rows = item.good.num_rows + item.errors.num_rows
        with transaction.atomic():
            marks = high_water(kind)
            counts, flags = merger.merge_chunk(item.good, item.errors)
            _store_flags(kind, batch, flags)
            chunk = {"rows": rows, **{name: getattr(counts, name) for name in COUNTS[1:]}}
            totals = {name: getattr(report, name) + chunk[name] for name in COUNTS}
            seals = chunk_seals(kind, batch.pk, marks)
            last = number == len(checked)
            _count_chunk(batch, user, number, chunk, totals if last else None, seals)
        for name, value in totals.items():
            setattr(report, name, value)
        if progress:
            progress(report.rows)
    if connection.vendor == "postgresql" and report.inserted > 100_000:
        # Keep the planner's picture of the table true after a large load.
        from fangkong.ingest.specs import SPECS

        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {SPECS[kind].table}")
            if kind == "samplings":
                cursor.execute("ANALYZE testing_tube")
    return bool(checked)


def _count_chunk(
    batch: Batch, user, number: int, chunk: dict, totals: dict | None, seals: dict
) -> None:
    """In the chunk's transaction, so that a load killed later leaves counts, an audit trail and
    the seals of what it wrote (fangkong.ingest.seals) that match its facts. The last chunk
    writes the batch's closing entry (`totals`)."""
    Batch.objects.filter(pk=batch.pk).update(**{name: F(name) + n for name, n in chunk.items()})
    # Last: the audit chain's lock is held until commit.
    if totals is None:
        detail = {"kind": batch.kind, "chunk": number, **chunk}
    else:
        detail = _closing(batch, totals, "")
    if seals:
        detail["seals"] = seals
    record(user, "ingest", "batch", batch.pk, detail)


# Rows merged at once: each merge pays fixed costs (joins over the people and tube tables), so
# fewer, larger merges are faster; this bounds the memory a merge's staging takes, and what a
# killed load leaves half done.
MERGE_ROWS = 1_000_000


def _coalesce(checked: list) -> list:
    """Join consecutive checked chunks into merges of up to MERGE_ROWS rows (the setting
    INGEST_MERGE_ROWS), and split larger ones."""
    from fangkong.ingest.validation import Checked

    limit = getattr(settings, "INGEST_MERGE_ROWS", MERGE_ROWS)
    merged, good, errors, rows = [], [], [], 0
    for item in _split(checked, limit):
        size = item.good.num_rows + item.errors.num_rows
        if good and rows + size > limit:
            merged.append(Checked(pa.concat_tables(good), pa.concat_tables(errors)))
            good, errors, rows = [], [], 0
        good.append(item.good)
        errors.append(item.errors)
        rows += size
    if good:
        merged.append(Checked(pa.concat_tables(good), pa.concat_tables(errors)))
    return merged


def _split(checked: list, limit: int):
    """Checked chunks of at most `limit` good rows; a chunk's rejected rows go with its first
    piece."""
    for item in checked:
        if item.good.num_rows <= limit:
            yield item
            continue
        for offset in range(0, item.good.num_rows, limit):
            errors = item.errors if offset == 0 else item.errors.slice(0, 0)
            yield type(item)(item.good.slice(offset, limit), errors)


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


def _recode(now: datetime, batch_id: int) -> int:
    """New facts re-evaluate only the people they touched, and any a crashed load left."""
    from fangkong.clock.actions import wake
    from fangkong.codes.actions import do_evaluate_pending

    changed = do_evaluate_pending(now, detail=f"导入批次 #{batch_id}").changed
    # What follows new facts beyond codes (a positive proposing 封控) runs on the next sweep.
    wake(now)
    return changed


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
