"""Two writers of codes at once, in real processes: a slow recompute that read the facts before a
positive result came in must not leave its older code over the one the load wrote, and the code
changes kept (and their audit seals) are the ones actually written."""

from contextlib import suppress
from datetime import datetime, timedelta
from subprocess import TimeoutExpired

import pytest

from fangkong.codes.models import CodeChange
from fangkong.codes.seals import verify_code_changes
from fangkong.ingest.tests.processes import colours, processes_fixture, wait_for  # noqa: F401
from fangkong.ingest.tests.support import (
    BJ,
    build_city,
    policy_source,
    report_result,
    sample,
    write_csv,
)
from fangkong.places.loading import load_divisions
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db(transaction=True)
SAMPLED = datetime(2022, 4, 20, 8, tzinfo=BJ)
REPORTED = datetime(2022, 4, 20, 18, 30, tzinfo=BJ)


@pytest.fixture
def pooled(transactional_db):
    """Three people of 南关区 in one 10-in-1 tube, under the pooled-positive rule."""
    load_divisions()  # a transactional test starts from an empty database
    city = build_city()
    do_publish(policy_source("std-pooled-positive-yellow"), user=None, now=SAMPLED - timedelta(1))
    members = city.nanguan[:3]
    sample(members, "P-1", "10", SAMPLED)
    return members


def latest_changes(members):
    return [
        CodeChange.objects.filter(person__id_number=m).order_by("-at", "-id").first().new_colour
        for m in members
    ]


def test_a_slow_recompute_does_not_undo_the_code_a_load_wrote_meanwhile(
    pooled, processes, tmp_path
):
    positive = write_csv(
        tmp_path / "positive.csv",
        ["tube", "result", "lab", "reported_at"],
        [["P-1", "positive", "长春金域医学检验所", REPORTED.isoformat()]],
    )
    processes.hand_over()
    paused, resume, ready = processes.mark("paused"), processes.mark("resume"), processes.mark("r")
    recompute = processes.start(
        "recompute", "--now", REPORTED.isoformat(), "--paused", paused, "--resume", resume
    )
    wait_for(paused)  # the recompute has read the facts: no result yet
    later = (REPORTED + timedelta(minutes=1)).isoformat()
    load = processes.start("ingest", "results", positive, "--now", later, "--ready", ready)
    wait_for(ready)
    with suppress(TimeoutExpired):  # let the load finish if it can, before the recompute writes
        load.wait(timeout=3)
    resume.write_text("go")
    processes.report(recompute)
    report = processes.report(load)
    processes.take_back()

    assert report["inserted"] == 1
    assert colours(pooled) == ["yellow"] * 3
    assert latest_changes(pooled) == ["yellow"] * 3
    assert verify_code_changes() == []


def test_a_load_that_began_before_a_newer_code_was_written_does_not_write_an_older_one(pooled):
    report_result("P-1", "positive", REPORTED)
    assert colours(pooled) == ["yellow"] * 3
    # A single-tube retest sampled at 17:00, in a load that began at 17:05 and only now ends:
    # as of 17:05 the pool was not yet known positive, but its code must not go back to then.
    sample([pooled[0]], "P-2", "1", REPORTED - timedelta(hours=1, minutes=30))
    assert colours(pooled) == ["yellow"] * 3
    assert latest_changes(pooled) == ["yellow"] * 3
