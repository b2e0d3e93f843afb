"""Evidence files written for a transaction that rolled back are removed by the sweep once
they are older than the grace period; referenced files, young files and files that are not ours
stay (issue 11, item 10)."""

import json
import os
import time
from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from fangkong.audit.models import AuditEntry
from fangkong.clearances.actions import do_appeal
from fangkong.clearances.models import Evidence
from fangkong.clearances.sweep import do_sweep_orphan_evidence
from fangkong.cli import main
from fangkong.ingest.tests.support import BJ, policy_source
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db
MORNING = datetime(2022, 4, 24, 10, tzinfo=BJ)
POLICY = "cc-2022-0420-untested"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
DAY = 24 * 3600


class Crash(Exception):
    pass


@pytest.fixture
def folder(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    return settings.EVIDENCE_DIR


@pytest.fixture
def files(city, folder):
    """One appeal that was kept, one whose transaction rolled back after its file was written,
    and a file of somebody else's in the folder."""
    do_publish(policy_source(POLICY), user=None, now=MORNING - timedelta(days=1))
    kept, lost = (Person.objects.get(id_number=n) for n in city.nanguan[:2])
    description = "4月21日在小区采样点采样,没有扫码"
    do_appeal(kept, POLICY, description, [SimpleUploadedFile("a.png", PNG)], MORNING)
    with pytest.raises(Crash), transaction.atomic():
        do_appeal(lost, POLICY, description, [SimpleUploadedFile("b.png", PNG * 2)], MORNING)
        raise Crash
    folder.joinpath("README.txt").write_text("not evidence")
    referenced = folder / Evidence.objects.get().stored_name
    orphan = next(p for p in folder.glob("*.png") if p != referenced)
    return referenced, orphan


def age(*paths, seconds: float) -> None:
    for path in paths:
        past = time.time() - seconds
        os.utime(path, (past, past))


def now() -> datetime:
    return datetime.now(BJ)


def test_a_file_left_by_a_rolled_back_appeal_goes_once_the_grace_period_is_over(files, folder):
    referenced, orphan = files
    young = do_sweep_orphan_evidence(now())
    assert (young.removed, young.waiting, young.kept) == (0, 1, 1)
    assert orphan.exists() and not AuditEntry.objects.filter(action="evidence.sweep").exists()

    age(referenced, orphan, seconds=DAY + 60)
    swept = do_sweep_orphan_evidence(now())
    assert (swept.removed, swept.bytes, swept.waiting, swept.kept) == (1, 2 * len(PNG), 0, 1)
    assert not orphan.exists()
    assert referenced.exists() and (folder / "README.txt").exists()
    entry = AuditEntry.objects.get(action="evidence.sweep")
    assert entry.actor_name == "system"
    assert entry.detail == {
        "removed": 1,
        "bytes": 2 * len(PNG),
        "grace_hours": 24.0,
        "stored_names": [orphan.name],
    }


def test_a_shorter_grace_period_can_be_asked_for(files, settings):
    _, orphan = files
    age(orphan, seconds=2 * 3600)
    assert do_sweep_orphan_evidence(now()).removed == 0
    settings.EVIDENCE_ORPHAN_GRACE_HOURS = 1
    assert do_sweep_orphan_evidence(now()).removed == 1


def test_the_command_line_sweeps_and_says_what_it_did(files, capsys):
    _, orphan = files
    age(orphan, seconds=DAY + 60)
    assert main(["evidence", "sweep", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer == {"removed": 1, "bytes": 2 * len(PNG), "waiting": 0, "kept": 1} | {
        "grace_hours": 24.0
    }
    assert main(["evidence", "sweep"]) == 0
    assert "已删除 0 个无人引用的证明材料文件" in capsys.readouterr().out


def test_the_command_line_refuses_a_grace_period_under_an_hour(db, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["evidence", "sweep", "--grace-hours", "0.1"])
    assert exit_.value.code == 2 and "至少 1 小时" in capsys.readouterr().err


def test_a_missing_folder_is_nothing_to_sweep(db, folder):
    assert do_sweep_orphan_evidence(now()).removed == 0
