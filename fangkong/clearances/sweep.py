"""Removing evidence files nobody references. A file is written inside the transaction that
records its Evidence row (fangkong.clearances.evidence.store); when that transaction rolls back
(a refused request, a crash) the file stays on disk, never served and never deleted. The sweep
removes such files once they are older than a grace period — long enough that no transaction
still writing them can be open — and writes what it removed to the audit log.

Only our own file names (32 hex digits and an accepted extension) are considered: anything else
in the folder is not the sweep's to remove.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from fangkong.audit.actions import record
from fangkong.clearances.evidence import SIGNATURES
from fangkong.clearances.models import Evidence

EXTENSIONS = (*(extension for _, _, extension in SIGNATURES), "webp")
STORED_NAME = re.compile(rf"[0-9a-f]{{32}}\.(?:{'|'.join(EXTENSIONS)})")
LOOKUP_BATCH = 1000
NAMES_RECORDED = 200  # the audit entry names this many removed files at most


def grace_period() -> timedelta:
    return timedelta(hours=getattr(settings, "EVIDENCE_ORPHAN_GRACE_HOURS", 24))


@dataclass(frozen=True)
class Swept:
    removed: int
    bytes: int
    waiting: int  # unreferenced, but younger than the grace period
    kept: int  # referenced by an Evidence row


def _ours(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if STORED_NAME.fullmatch(path.name) and path.is_file() and not path.is_symlink()
    )


def _referenced(names: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(names), LOOKUP_BATCH):
        batch = names[start : start + LOOKUP_BATCH]
        found.update(
            Evidence.objects.filter(stored_name__in=batch).values_list("stored_name", flat=True)
        )
    return found


def do_sweep_orphan_evidence(now: datetime, grace: timedelta | None = None) -> Swept:
    """Remove the files in settings.EVIDENCE_DIR that no Evidence row references and that were
    last written before `now - grace`; audited when anything was removed."""
    grace = grace_period() if grace is None else grace
    cutoff = (now - grace).timestamp()
    files = _ours(Path(settings.EVIDENCE_DIR))
    referenced = _referenced([path.name for path in files])
    removed, size, waiting = [], 0, 0
    for path in files:
        if path.name in referenced:
            continue
        try:
            stat = path.stat()
            if stat.st_mtime > cutoff:
                waiting += 1
                continue
            path.unlink()
        except FileNotFoundError:  # another sweep got there first
            continue
        removed.append(path.name)
        size += stat.st_size
    swept = Swept(len(removed), size, waiting, len(referenced))
    if removed:
        with transaction.atomic():
            record(
                None,
                "evidence.sweep",
                "evidence",
                "",
                {
                    "removed": swept.removed,
                    "bytes": swept.bytes,
                    "grace_hours": grace.total_seconds() / 3600,
                    "stored_names": removed[:NAMES_RECORDED],
                },
                at=now,
            )
    return swept


EVERY = timedelta(days=1)


@task()
def sweep_evidence() -> dict:
    """`fangkong evidence sweep`, daily on the worker, rescheduling itself (fangkong.clock)."""
    from fangkong.clock.scheduling import schedule

    now = timezone.now()
    swept = do_sweep_orphan_evidence(now, grace_period())
    schedule(now + EVERY, sweep_evidence)
    return asdict(swept)
