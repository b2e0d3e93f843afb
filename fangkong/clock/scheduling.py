"""Exactly one sweep waiting in the queue, at the earliest instant anyone asked for.

The queue is django-tasks-db's table; a waiting sweep is its row in status READY. Scheduling
takes the clock's lock (PostgreSQL: an advisory lock; SQLite: its transactions already take
turns), then moves the waiting sweep earlier if asked to, or enqueues one if none waits. A
sweep a worker has already claimed is not waiting: a new one is enqueued beside it, and the
running one, when it reschedules itself, finds that one and keeps the earlier time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from fangkong.clock.instants import upcoming
from fangkong.codes.locks import hold

CLOCK = 7347005  # advisory lock namespace (fangkong.codes.locks lists the others)
SWEEP_TASK = "fangkong.clock.tasks.sweep"


def waiting(task_path: str = SWEEP_TASK, *, lock: bool = False) -> DBTaskResult | None:
    """The task waiting in the queue, if one is (locked: no worker claims it meanwhile)."""
    rows = DBTaskResult.objects.filter(task_path=task_path, status=TaskResultStatus.READY)
    if lock:
        rows = rows.select_for_update()
    return rows.order_by("run_after").first()


def schedule(at: datetime, task=None) -> DBTaskResult:
    """A sweep (or another recurring task of the clock) runs at `at` or earlier; enqueueing
    when one already waits for an earlier time changes nothing."""
    from fangkong.clock.tasks import sweep

    task = task or sweep
    with transaction.atomic():
        hold(CLOCK)
        current = waiting(task.module_path, lock=True)
        if current is not None:
            if at < current.run_after:
                DBTaskResult.objects.filter(pk=current.pk).update(run_after=at)
                current.run_after = at
            return current
        return task.using(run_after=at).enqueue().db_result


def next_sweep_at(now: datetime) -> datetime:
    """The next instant anything is due, but no later than CLOCK_SWEEP_MINUTES from now."""
    latest = now + timedelta(minutes=settings.CLOCK_SWEEP_MINUTES)
    at = upcoming(now)
    return latest if at is None else max(now, min(at, latest))
