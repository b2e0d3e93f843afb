"""A load killed midway, for real (SIGKILL of the process running it): what it committed is
consistent (facts, counts, audit entry), the codes it did not get to re-evaluate are healed by
the next load of any kind or by a recompute, and its batch is marked failed and completed by
uploading the same file again, without doubling anything."""

from datetime import datetime, timedelta

import pytest

from fangkong.audit.models import AuditEntry
from fangkong.codes.actions import do_evaluate_pending, do_recompute
from fangkong.codes.models import PendingEvaluation
from fangkong.ingest.actions import do_close_abandoned, do_ingest
from fangkong.ingest.models import Batch
from fangkong.ingest.tests.processes import colours, processes_fixture  # noqa: F401
from fangkong.ingest.tests.support import BJ, build_city, policy_source, sample, write_csv
from fangkong.people.models import Person
from fangkong.places.loading import load_divisions
from fangkong.policies.actions import do_publish
from fangkong.testing.models import Sampling

pytestmark = pytest.mark.django_db(transaction=True)
SAMPLED = datetime(2022, 4, 20, 8, tzinfo=BJ)
REPORTED = datetime(2022, 4, 20, 18, 30, tzinfo=BJ)
LAB = "长春金域医学检验所"


@pytest.fixture
def city(transactional_db):
    load_divisions()  # a transactional test starts from an empty database
    city = build_city()
    do_publish(policy_source("std-pooled-positive-yellow"), user=None, now=SAMPLED - timedelta(1))
    return city


def killed_after_commit(processes, kind, path, now, *options):
    """Run the load in a child that SIGKILLs itself once its first chunk has committed."""
    processes.hand_over()
    child = processes.start(
        "ingest", kind, path, "--now", now.isoformat(), "--die-after", 1, *options
    )
    processes.killed(child)
    processes.take_back()


@pytest.fixture
def positive_pool(city, processes, tmp_path):
    """Ten people in a pooled tube; its positive result committed, then the loader killed before
    it re-evaluated anyone."""
    members = city.nanguan[:10]
    sample(members, "P-1", "10", SAMPLED)
    path = write_csv(
        tmp_path / "positive.csv",
        ["tube", "result", "lab", "reported_at"],
        [["P-1", "positive", LAB, REPORTED.isoformat()]],
    )
    killed_after_commit(processes, "results", path, REPORTED + timedelta(minutes=1))
    assert colours(members) == ["green"] * 10  # stale: the crash came before re-evaluation
    pending = [i for row in PendingEvaluation.objects.all() for i in row.person_ids()]
    assert sorted(pending) == sorted(
        Person.objects.filter(id_number__in=members).values_list("pk", flat=True)
    )
    return members


def test_the_next_load_of_any_kind_heals_the_codes_a_crash_left(positive_pool, city):
    later = REPORTED + timedelta(hours=1)
    report = do_ingest(
        "presence",
        rows=[
            {
                "id_number": city.nanguan[20],
                "region_code": "220102",
                "start_at": (later - timedelta(hours=2)).isoformat(),
                "end_at": later.isoformat(),
                "source": "行程卡",
            }
        ],
        now=later,
    )
    assert report.inserted == 1
    assert colours(positive_pool) == ["yellow"] * 10
    assert report.codes_changed == 10
    assert not PendingEvaluation.objects.exists()


def test_a_recompute_heals_the_codes_a_crash_left(positive_pool):
    do_recompute(REPORTED + timedelta(hours=1))
    assert colours(positive_pool) == ["yellow"] * 10
    assert not PendingEvaluation.objects.exists()


def test_evaluating_what_is_pending_heals_the_codes_a_crash_left(positive_pool):
    outcome = do_evaluate_pending(REPORTED + timedelta(hours=1))
    assert (outcome.evaluated, outcome.changed) == (10, 10)
    assert colours(positive_pool) == ["yellow"] * 10
    assert do_evaluate_pending(REPORTED + timedelta(hours=2)).evaluated == 0


def test_a_killed_batch_is_consistent_marked_failed_and_completed_by_the_same_file(
    city, processes, tmp_path
):
    ids = city.nanguan[:9]
    path = write_csv(
        tmp_path / "samplings.csv",
        ["id_number", "tube", "pool_size", "site_code", "sampled_at"],
        [[i, f"S-{n // 3}", "10", "S-NG-1", SAMPLED.isoformat()] for n, i in enumerate(ids)],
    )
    now = SAMPLED + timedelta(minutes=5)
    killed_after_commit(processes, "samplings", path, now, "--merge-rows", 3)

    killed = Batch.objects.get(kind="samplings")
    assert Sampling.objects.count() == 3
    assert (killed.rows, killed.inserted, killed.finished_at) == (3, 3, None)
    entry = AuditEntry.objects.get(action="ingest", target_id=str(killed.pk))
    assert (entry.detail["chunk"], entry.detail["rows"], entry.detail["inserted"]) == (1, 3, 3)

    retry = do_ingest("samplings", path=path, now=now + timedelta(minutes=10))
    killed.refresh_from_db()
    assert killed.finished_at is not None and "中断" in killed.failure
    closing = AuditEntry.objects.filter(action="ingest", target_id=str(killed.pk)).last()
    assert closing.detail["failure"] == killed.failure
    assert (retry.inserted, retry.duplicates, retry.rejected) == (6, 3, 0)
    assert Batch.objects.get(pk=retry.batch_id).retry_of_id == killed.pk
    assert Sampling.objects.count() == 9


def test_a_batch_still_being_loaded_is_not_taken_for_abandoned(city, tmp_path, settings):
    settings.INGEST_MERGE_ROWS = 2
    ids = city.nanguan[:6]
    path = write_csv(
        tmp_path / "samplings.csv",
        ["id_number", "tube", "pool_size", "site_code", "sampled_at"],
        [[i, "L-1", "10", "S-NG-1", SAMPLED.isoformat()] for i in ids],
    )
    seen = []

    def between_chunks(rows: int) -> None:
        seen.append((rows, do_close_abandoned(SAMPLED + timedelta(hours=1))))

    report = do_ingest("samplings", path=path, now=SAMPLED, progress=between_chunks)
    assert seen == [(2, []), (4, []), (6, [])]
    batch = Batch.objects.get(pk=report.batch_id)
    assert (batch.failure, batch.inserted) == ("", 6)
