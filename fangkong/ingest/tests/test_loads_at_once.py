"""Two uploads at once, in two real processes with connections of their own, end exactly as if
one had been loaded after the other: a tube never holds more people than its pool size, nor one
person twice; a tube never has two results standing; the same file twice is loaded once.

Each child dwells a second inside the merge after reading what is committed, so that without
serialisation both would decide on the same stale picture."""

from datetime import datetime, timedelta

import pytest

from fangkong.ingest.actions import do_ingest
from fangkong.ingest.models import Batch, Flag, RowError
from fangkong.ingest.tests.processes import processes_fixture, wait_for  # noqa: F401
from fangkong.ingest.tests.support import BJ, build_city, resident_rows, write_csv
from fangkong.places.loading import load_divisions
from fangkong.testing.models import LabResult, Sampling

pytestmark = pytest.mark.django_db(transaction=True)
SAMPLINGS = ["id_number", "tube", "pool_size", "site_code", "sampled_at"]
RESULTS = ["tube", "result", "lab", "reported_at"]
MORNING = datetime(2022, 4, 20, 8, tzinfo=BJ)


@pytest.fixture
def people(transactional_db):
    load_divisions()  # a transactional test starts from an empty database
    city = build_city()
    more = resident_rows("220102", "220102", 20, 300)
    assert do_ingest("residents", rows=more, now=MORNING - timedelta(days=10)).inserted == 20
    return city.nanguan + city.chaoyang + [r["id_number"] for r in more]


def samplings_file(path, ids, tube, at, pool="10"):
    rows = [[i, tube, pool, "S-NG-1", at.isoformat()] for i in ids]
    return write_csv(path, SAMPLINGS, rows)


def result_file(path, tube, outcome):
    at = (MORNING + timedelta(hours=10)).isoformat()
    return write_csv(path, RESULTS, [[tube, outcome, "长春金域医学检验所", at]])


def at_once(processes, kind, paths, now):
    """Load the files in as many processes, released together."""
    processes.hand_over()
    go = processes.mark("go")
    children, readies = [], []
    for path in paths:
        ready = processes.mark("ready")
        readies.append(ready)
        timing = ["--ready", ready, "--go", go, "--dwell", 1]
        children.append(processes.start("ingest", kind, path, "--now", now.isoformat(), *timing))
    for ready in readies:
        wait_for(ready)
    go.write_text("go")
    reports = [processes.report(child) for child in children]
    processes.take_back()
    return reports


def one_after_the_other(kind, paths, now):
    return [do_ingest(kind, path=path, now=now).to_dict() for path in paths]


def outcome(reports, tube):
    """What a user would compare: each batch's counts (as reported and as stored), in either
    order, and what the tube holds."""
    ids = [r["batch_id"] for r in reports]
    stored = Batch.objects.filter(pk__in=ids)
    samplings = Sampling.objects.filter(tube__barcode=tube)
    return {
        "batches": sorted(
            (r["rows"], r["inserted"], r["duplicates"], r["flagged"], r["rejected"])
            for r in reports
        ),
        "stored": sorted(
            stored.values_list("rows", "inserted", "duplicates", "flagged", "rejected")
        ),
        "members": samplings.count(),
        "people": samplings.values("person").distinct().count(),
        "results": sorted(
            LabResult.objects.filter(tube__barcode=tube).values_list("result", flat=True)
        ),
        "flags": Flag.objects.filter(key=tube).count(),
        "errors": sorted(
            RowError.objects.filter(batch_id__in=ids).values_list("reason", flat=True)
        ),
    }


def two_samplings_files(tmp_path, ids, tube):
    """Six people each and one person in both, at different times, into one 10-in-1 tube."""
    shared, first, second = ids[0], ids[1:7], ids[7:13]
    return [
        samplings_file(tmp_path / f"{tube}-a.csv", [*first, shared], tube, MORNING),
        samplings_file(
            tmp_path / f"{tube}-b.csv", [*second, shared], tube, MORNING + timedelta(minutes=30)
        ),
    ]


def test_two_samplings_files_at_once_fill_a_tube_to_its_pool_size_and_no_further(
    people, processes, tmp_path
):
    now = MORNING + timedelta(hours=1)
    serial = outcome(
        one_after_the_other("samplings", two_samplings_files(tmp_path, people[:13], "T-S"), now),
        "T-S",
    )
    concurrent = outcome(
        at_once(processes, "samplings", two_samplings_files(tmp_path, people[13:26], "T-C"), now),
        "T-C",
    )
    assert serial["members"] == serial["people"] == 10
    assert serial["batches"] == [(7, 3, 0, 1, 3), (7, 7, 0, 0, 0)]
    assert concurrent == serial


def test_two_results_for_one_tube_at_once_leave_one_standing_and_flag_the_other(
    people, processes, tmp_path
):
    sampled = MORNING.isoformat()
    for tube, ids in (("R-S", people[:3]), ("R-C", people[3:6])):
        rows = [dict(zip(SAMPLINGS, [i, tube, "10", "S-NG-1", sampled], strict=True)) for i in ids]
        assert do_ingest("samplings", rows=rows, now=MORNING).inserted == 3
    now = MORNING + timedelta(hours=11)

    def files(tube):
        return [
            result_file(tmp_path / f"{tube}-neg.csv", tube, "negative"),
            result_file(tmp_path / f"{tube}-pos.csv", tube, "positive"),
        ]

    serial = outcome(one_after_the_other("results", files("R-S"), now), "R-S")
    concurrent = outcome(at_once(processes, "results", files("R-C"), now), "R-C")
    assert len(serial["results"]) == 1 and serial["flags"] == 1
    assert concurrent["results"] in (["negative"], ["positive"])
    assert {**concurrent, "results": None} == {**serial, "results": None}


def test_the_same_file_twice_at_once_is_loaded_once(people, processes, tmp_path):
    now = MORNING + timedelta(hours=1)
    serial_file = samplings_file(tmp_path / "s.csv", people[:5], "D-S", MORNING)
    concurrent_file = samplings_file(tmp_path / "c.csv", people[5:10], "D-C", MORNING)
    serial = outcome(one_after_the_other("samplings", [serial_file] * 2, now), "D-S")
    concurrent = outcome(at_once(processes, "samplings", [concurrent_file] * 2, now), "D-C")
    assert serial["batches"] == [(5, 0, 5, 0, 0), (5, 5, 0, 0, 0)]
    assert concurrent == serial
