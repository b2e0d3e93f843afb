"""Slow work a page hands to the worker instead of doing it inside the request.

The page calls `start(...)` with the task that does the work: a BackgroundTask row records who
asked and what for, and the task is enqueued in the same transaction. The page then shows
正在处理… and polls `progress(...)`; the task calls `run(...)`, which claims the row (once,
however often the queue delivers it), does the work, stores the outcome or the reason it
failed in Chinese, and audits it (`clock.task`). A task whose worker died stays running: the
page calls it interrupted after TASK_STALE_MINUTES and the user starts it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fangkong.audit.actions import record
from fangkong.clock.models import BackgroundTask

Status = BackgroundTask.Status
log = logging.getLogger("fangkong.clock")
INTERRUPTED = "interrupted"  # shown, never stored: running, and its worker gone
UNEXPECTED = "处理时出现意外错误,已记录;请稍后重新提交,或联系管理员"


class Refused(Exception):
    """The work cannot be done, for a reason the user can act on (said in Chinese)."""


def start(kind: str, task, *, user, now: datetime, params=None, payload=None) -> BackgroundTask:
    """Record the request and enqueue `task(request id)`."""
    with transaction.atomic():
        job = BackgroundTask.objects.create(
            kind=kind,
            requested_by=user if getattr(user, "pk", None) else None,
            requested_at=now,
            params=params or {},
            payload=payload,
        )
        task.enqueue(job.pk)
    return job


def run(job_id: int, work: Callable[[BackgroundTask], dict]) -> dict | None:
    """Do the work of one request, once. Returns its outcome (None: already done elsewhere)."""
    claimed = BackgroundTask.objects.filter(pk=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    job = BackgroundTask.objects.get(pk=job_id)
    began = time.monotonic()
    try:
        job.result, job.status = work(job), Status.DONE
    except Refused as refusal:
        job.error, job.status = str(refusal), Status.FAILED
    except Exception:
        log.exception("background task %s (%s) failed", job.pk, job.kind)
        job.error, job.status = UNEXPECTED, Status.FAILED
    job.payload, job.finished_at = None, timezone.now()
    job.save(update_fields=["result", "status", "error", "payload", "finished_at"])
    record(
        job.requested_by,
        "clock.task",
        "background_task",
        job.pk,
        {
            "kind": job.kind,
            "status": job.status,
            "error": job.error,
            "seconds": round(time.monotonic() - began, 3),
        },
    )
    return job.result


def requested(kind: str, user, pk: int) -> BackgroundTask | None:
    """The user's own request of this kind (nobody sees another's)."""
    return BackgroundTask.objects.filter(pk=pk, kind=kind, requested_by=user).first()


def progress(job: BackgroundTask, now: datetime) -> str:
    """queued, running, done, failed — or interrupted: not finished long after it started."""
    if job.status in (Status.DONE, Status.FAILED):
        return job.status
    stale = timedelta(minutes=settings.TASK_STALE_MINUTES)
    return INTERRUPTED if now - (job.started_at or job.requested_at) > stale else job.status
