"""The gate log's write path: each online scan is one line appended to this process's spool file,
and a flusher thread commits what is new every few milliseconds, many rows in one transaction.

Why: one INSERT and commit per scan was most of a verify's cost. A line written with one
`os.write` on an O_APPEND descriptor is in the kernel's page cache when the answer goes out, so
it survives the process being killed (SIGKILL included); only the machine losing power within
the flush interval loses scans, as asynchronous commit did before. Rows go in with
`ON CONFLICT (scan_id) DO NOTHING`, so replaying a file already partly committed is harmless:
at least once into the spool, exactly once in the table.

A live process holds an exclusive flock on its spool files. A file nobody holds belongs to a
process that died; any other process's flusher (about once a second), `fangkong worker` as it
starts and `fangkong gatelog drain` claim it, replay it whole and delete it. The spool directory
must be on a local disk (flock over NFS is not to be trusted). docs/verify-hot-path.md.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils.dateparse import parse_datetime

from fangkong.checkpoints.models import GateScan

log = logging.getLogger("fangkong.gatelog")
FLUSH_DELAY = 0.003  # collect a batch this long after the first scan of it arrives
CLAIM_EVERY = 1.0
ROTATE_BYTES = 8 * 1024 * 1024
ROTATE_SECONDS = 600
BATCH_ROWS = 500
RETRY_AFTER_ERROR = 0.5

_lock = threading.Lock()
_spool: Spool | None = None


def spool_dir() -> Path:
    return Path(getattr(settings, "GATE_LOG_SPOOL_DIR", settings.DATA_DIR / "gatelog"))


def write(scan: GateScan, *, batched: bool) -> None:
    """Into the gate log: through this process's spool (the hot path), or inserted now, in the
    caller's transaction (staff on the Ninja route, who read their gate's log right after)."""
    if batched:
        _current().append(scan)
    else:
        _insert([scan])


def pending(scan_id: uuid.UUID) -> GateScan | None:
    """A scan of this process not yet committed: a retry must get its first answer."""
    spool = _spool
    if spool is None or spool.pid != os.getpid():
        return None
    return spool.by_id.get(scan_id)


def flush() -> None:
    """Commit everything this process has spooled, here and now (tests; shutdown)."""
    spool = _spool
    if spool is not None and spool.pid == os.getpid():
        spool.flush()


def close() -> None:
    """Flush, then let go of this process's spool (its files are deleted once committed)."""
    global _spool
    flush()
    spool, _spool = _spool, None
    if spool is not None and spool.pid == os.getpid():
        for spool_file in [*spool.retired, spool.file]:
            spool_file.path.unlink(missing_ok=True)
            os.close(spool_file.fd)


def _current() -> Spool:
    # gunicorn forks its workers after importing the app: each worker starts its own spool on
    # its first scan, and never writes into its parent's file.
    global _spool
    spool = _spool
    if spool is None or spool.pid != os.getpid():
        with _lock:
            if _spool is None or _spool.pid != os.getpid():
                started = Spool(spool_dir())
                # Off only in tests that read the spool themselves (flush()): a thread of its own
                # could not see the rows of a test's open transaction.
                started.start(getattr(settings, "GATE_LOG_FLUSHER", True))
                # Published only once it has its file: another thread reads `_spool` unlocked.
                _spool = started
                # A worker that exits in good order leaves no file behind for others to replay.
                atexit.register(close)
            spool = _spool
    return spool


@dataclass(eq=False)
class SpoolFile:
    path: Path
    fd: int
    opened: float
    size: int = 0
    outstanding: int = 0  # lines written, not yet committed


@dataclass(eq=False)
class Spool:
    directory: Path
    pid: int = field(default_factory=os.getpid)
    lock: threading.Lock = field(default_factory=threading.Lock)
    wake: threading.Event = field(default_factory=threading.Event)
    queue: list = field(default_factory=list)  # (file, scan) not yet committed
    by_id: dict = field(default_factory=dict)
    retired: list = field(default_factory=list)
    file: SpoolFile | None = None
    sequence: int = 0

    def start(self, flusher: bool) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.file = self._open()
        if flusher:
            threading.Thread(target=self._run, name="gatelog-flusher", daemon=True).start()

    def _open(self) -> SpoolFile:
        # Created under a name no claimer looks at, locked, then renamed: nobody can take a new
        # file for an orphan between its creation and its lock.
        self.sequence += 1
        name = f"{socket.gethostname()}-{self.pid}-{self.sequence}"
        temporary = self.directory / f"{name}.new"
        fd = os.open(temporary, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        path = self.directory / f"{name}.log"
        os.rename(temporary, path)
        return SpoolFile(path, fd, time.monotonic())

    def append(self, scan: GateScan) -> None:
        line = json.dumps(_row_of(scan), ensure_ascii=False, separators=(",", ":")) + "\n"
        data = line.encode()
        with self.lock:
            current = self.file
            if current.size > ROTATE_BYTES or time.monotonic() - current.opened > ROTATE_SECONDS:
                self.retired.append(current)
                current = self.file = self._open()
            os.write(current.fd, data)
            current.size += len(data)
            current.outstanding += 1
            self.queue.append((current, scan))
            self.by_id[scan.scan_id] = scan
        self.wake.set()

    def flush(self) -> None:
        while True:
            with self.lock:
                batch, self.queue = self.queue[:BATCH_ROWS], self.queue[BATCH_ROWS:]
            if not batch:
                return
            try:
                _insert([scan for _, scan in batch])
            except Exception:
                with self.lock:
                    self.queue[:0] = batch
                raise
            with self.lock:
                for spool_file, scan in batch:
                    spool_file.outstanding -= 1
                    self.by_id.pop(scan.scan_id, None)
                done = [f for f in self.retired if f.outstanding == 0]
                self.retired = [f for f in self.retired if f.outstanding]
            for spool_file in done:
                # Unlinked before the lock goes with the close: no claimer replays it.
                spool_file.path.unlink(missing_ok=True)
                os.close(spool_file.fd)

    def _run(self) -> None:
        last_claim = 0.0
        while True:
            if self.wake.wait(CLAIM_EVERY):
                time.sleep(FLUSH_DELAY)
                self.wake.clear()
            try:
                self.flush()
                if time.monotonic() - last_claim >= CLAIM_EVERY:
                    last_claim = time.monotonic()
                    recover(self.directory)
            except Exception:
                log.exception("gate log flush failed; the spool keeps the scans, retrying")
                time.sleep(RETRY_AFTER_ERROR)
            finally:
                close_old_connections()


def recover(directory: Path | None = None) -> int:
    """Replay and delete every spool file no live process holds; the number of lines read."""
    directory = directory or spool_dir()
    if not directory.is_dir():
        return 0
    lines = 0
    # A ".new" file is renamed within microseconds of its creation, before anything is written
    # to it; one left for a minute belongs to a process that died in between.
    stale = time.time() - 60
    for path in directory.glob("*.new"):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < stale:
                path.unlink()
    for path in sorted(directory.glob("*.log")):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue  # its owner deleted it, fully committed
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # alive
            with os.fdopen(os.dup(fd), "rb") as spool_file:
                lines += _replay(spool_file.read().splitlines(), path)
            path.unlink(missing_ok=True)
        except Exception:
            # Kept for the next try (the database may be down); the other files go on.
            log.exception("gate log spool %s could not be replayed", path)
        finally:
            os.close(fd)
    return lines


def _replay(lines: list[bytes], path: Path) -> int:
    scans = []
    for number, line in enumerate(lines, 1):
        try:
            scans.append(_scan_of(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            # Only a line cut short by the disk filling up can be malformed.
            log.error("gate log spool %s line %d unreadable, skipped", path, number)
    for start in range(0, len(scans), BATCH_ROWS):
        _insert(scans[start : start + BATCH_ROWS])
    if scans:
        log.warning("gate log: replayed %d scans from %s", len(scans), path.name)
    return len(scans)


def _insert(scans: list[GateScan]) -> None:
    with transaction.atomic():
        GateScan.objects.bulk_create(scans, ignore_conflicts=True)


def _row_of(scan: GateScan) -> dict:
    return {
        "scan_id": str(scan.scan_id),
        "checkpoint": scan.checkpoint_id,
        "kind": scan.kind,
        "person": scan.person_id,
        "colour": scan.colour,
        "scanned_at": scan.scanned_at.isoformat(),
        "received_at": scan.received_at.isoformat(),
        "outcome": scan.outcome,
        "reasons": scan.reasons,
        "mode": scan.mode,
        "direction": scan.direction,
        "recorded_by": scan.recorded_by_id,
    }


def _scan_of(row: dict) -> GateScan:
    return GateScan(
        scan_id=uuid.UUID(row["scan_id"]),
        checkpoint_id=row["checkpoint"],
        kind=row["kind"],
        person_id=row["person"],
        colour=row["colour"],
        scanned_at=parse_datetime(row["scanned_at"]),
        received_at=parse_datetime(row["received_at"]),
        outcome=row["outcome"],
        reasons=row["reasons"],
        mode=row["mode"],
        direction=row["direction"],
        recorded_by_id=row["recorded_by"],
    )
