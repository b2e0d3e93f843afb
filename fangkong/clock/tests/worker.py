"""The worker's own step, for tests that run inside one transaction: each task due now is
claimed and run by django-tasks-db's Worker.run_task, exactly as `fangkong worker` runs it.
(The worker's loop itself closes the database connection between tasks, which a test's
transaction cannot survive; tests on committed data run the whole `db_worker` instead.)"""

from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult


def run_due_tasks(task_path: str | None = None) -> int:
    """Run every task due now (or only those of one task); returns how many ran."""
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    ran = 0
    while True:
        due = DBTaskResult.objects.ready()
        if task_path:
            due = due.filter(task_path=task_path)
        row = due.first()
        if row is None:
            return ran
        row.claim(worker.worker_id)
        worker.run_task(row)
        ran += 1


def sweeps_done() -> None:
    """The sweeps loads asked for have run, as a worker would have run them: none waits. For
    tests that set up a city through ingestion (each load wakes the clock) and then look at
    what a later action schedules."""
    DBTaskResult.objects.filter(task_path="fangkong.clock.tasks.sweep").delete()
