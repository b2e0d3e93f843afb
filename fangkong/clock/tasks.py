"""The clock's task: sweep, then schedule the next sweep (fangkong.clock.scheduling). Other
recurring tasks follow the same pattern (fangkong.clearances.sweep.sweep_evidence)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from fangkong.clock.actions import do_sweep
from fangkong.clock.hooks import run_after_sweep
from fangkong.clock.scheduling import next_sweep_at, schedule


@task()
def sweep() -> dict:
    """Apply what is due now, then enqueue the next sweep for the next instant (or sooner, to
    pick up pending work no instant announces). Returns what was applied (kept by the queue)."""
    now = timezone.now()
    done = do_sweep(now)
    schedule(now if not done.complete else next_sweep_at(now))
    followed = run_after_sweep(now)
    return {
        "swept_to": done.swept_to.isoformat(),
        "applied": [a.as_dict() for a in done.applied],
        "pending": done.pending,
        "followed": followed,
    }
