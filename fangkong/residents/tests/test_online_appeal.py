"""A resident appeals a yellow code online with evidence; files are checked by what they are,
kept out of reach, and shown only to the appellant and the reviewers of their district."""

from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from fangkong.accounts.models import Role
from fangkong.audit.models import AuditEntry
from fangkong.clearances.models import Clearance, Evidence
from fangkong.codes.models import PersonCode
from fangkong.ingest.tests.support import BJ, policy_source
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish
from fangkong.residents.tests.test_resident_pages import sign_in

pytestmark = pytest.mark.django_db
MORNING = datetime(2022, 4, 24, 10, tzinfo=BJ)
POLICY = "cc-2022-0420-untested"
URL = f"/r/clear/{POLICY}/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def png(name="凭证.png", data=PNG):
    return SimpleUploadedFile(name, data, content_type="image/png")


@pytest.fixture
def resident(client, city):
    do_publish(policy_source(POLICY), user=None, now=MORNING - timedelta(days=1))
    with time_machine.travel(MORNING, tick=False):
        sign_in(client, city.nanguan[0])
    return Person.objects.get(id_number=city.nanguan[0])


def appeal(client, *files, description="4月21日在小区采样点采样,没有扫码"):
    with time_machine.travel(MORNING + timedelta(minutes=5), tick=False):
        return client.post(URL, {"description": description, "files": list(files)}, follow=True)


def test_an_appeal_with_evidence_is_approved_and_the_code_turns_green_at_once(
    client, resident, make_staff
):
    page = appeal(client, png()).content.decode()
    assert "申诉已提交" in page and "已提交" in page and "凭证.png" in page
    clearance = Clearance.objects.get(person=resident)
    assert clearance.channel == "appeal" and clearance.evidence.count() == 1

    reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220102"])
    staff = type(client)()
    staff.force_login(reviewer)
    evidence = clearance.evidence.get()
    opened = staff.get(f"/clearances/evidence/{evidence.pk}/")
    assert opened.status_code == 200 and opened["Content-Type"] == "image/png"
    assert b"".join(opened.streaming_content) == PNG
    assert "sandbox" in opened["Content-Security-Policy"]
    with time_machine.travel(MORNING + timedelta(hours=1), tick=False):
        staff.post(f"/clearances/{clearance.pk}/", {"action": "start_review"})
        staff.post(
            f"/clearances/{clearance.pk}/", {"action": "approve", "reason": "采样点登记表有记录"}
        )
        assert PersonCode.objects.get(person=resident).colour == "green"
        page = client.get(URL).content.decode()
    assert "已通过:采样点登记表有记录" in page
    assert AuditEntry.objects.filter(action="evidence.view", actor=reviewer).exists()


def test_a_file_that_is_not_an_image_or_pdf_is_refused_whatever_its_name(client, resident):
    page = appeal(client, png("截图.png", b"MZ\x90\x00 this is an executable")).content.decode()
    assert "不是JPG、PNG、WebP 图片或 PDF" in page and "截图.png" in page
    assert not Clearance.objects.exists() and not Evidence.objects.exists()


def test_an_oversize_file_is_refused_and_nothing_is_kept(client, resident, settings):
    settings.EVIDENCE_MAX_BYTES = 1000
    page = appeal(client, png("大图.png", PNG + b"\x00" * 2000)).content.decode()
    assert "超过" in page
    assert not Clearance.objects.exists()


def test_a_path_in_the_file_name_stays_a_name(client, resident):
    appeal(client, png("../../../etc/cron.d/evil.pdf", PDF))
    evidence = Evidence.objects.get()
    assert evidence.original_name == "evil.pdf" and evidence.content_type == "application/pdf"
    stored = Path(settings.EVIDENCE_DIR) / evidence.stored_name
    assert stored.read_bytes() == PDF and stored.parent == Path(settings.EVIDENCE_DIR)
    assert not evidence.stored_name.startswith("evil")


def test_evidence_is_shown_only_to_the_appellant_and_the_district_reviewers(
    client, resident, city, make_staff
):
    appeal(client, png())
    evidence = Evidence.objects.get()
    other = type(client)()
    with time_machine.travel(MORNING + timedelta(minutes=30), tick=False):
        assert client.get(f"/r/evidence/{evidence.pk}/").status_code == 200
        sign_in(other, city.nanguan[1])
        assert other.get(f"/r/evidence/{evidence.pk}/").status_code == 404
    for role, districts in (
        (Role.DISTRICT_REVIEWER, ["220104"]),
        (Role.HOTLINE, []),
        (Role.AUDITOR, []),
    ):
        staff = type(client)()
        staff.force_login(make_staff(role, districts))
        assert staff.get(f"/clearances/evidence/{evidence.pk}/").status_code == 404


def test_one_open_appeal_per_reason_and_a_daily_limit(client, resident, settings):
    settings.APPEALS_PER_DAY = 2
    appeal(client, png())
    again = appeal(client, png()).content.decode()
    assert "此原因已有进行中的申请" in again
    clearance = Clearance.objects.get()
    with time_machine.travel(MORNING + timedelta(minutes=10), tick=False):
        client.post(f"{URL}{clearance.pk}/", {"action": "withdraw"})
    assert Clearance.objects.get().status == "withdrawn"
    appeal(client, png())
    with time_machine.travel(MORNING + timedelta(minutes=20), tick=False):
        client.post(f"{URL}{Clearance.objects.latest('pk').pk}/", {"action": "withdraw"})
    third = appeal(client, png()).content.decode()
    assert "24小时内最多提交 2 次申诉" in third
    assert Clearance.objects.count() == 2


def test_asked_for_more_evidence_the_resident_adds_a_file_and_resubmits(
    client, resident, make_staff
):
    appeal(client, png())
    clearance = Clearance.objects.get()
    staff = type(client)()
    staff.force_login(make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    with time_machine.travel(MORNING + timedelta(hours=1), tick=False):
        staff.post(f"/clearances/{clearance.pk}/", {"action": "start_review"})
        staff.post(
            f"/clearances/{clearance.pk}/",
            {"action": "request_evidence", "reason": "请上传采样点的登记截图"},
        )
        page = client.get(URL).content.decode()
        assert "请上传采样点的登记截图" in page and "需补充材料" in page
        client.post(
            f"{URL}{clearance.pk}/",
            {"action": "resubmit", "note": "已补充登记截图", "files": [png("登记.png")]},
        )
    clearance.refresh_from_db()
    assert clearance.status == "submitted" and clearance.evidence.count() == 2


def test_a_withdrawal_carries_no_files(client, resident):
    appeal(client, png())
    clearance = Clearance.objects.get()
    with time_machine.travel(MORNING + timedelta(minutes=10), tick=False):
        client.post(
            f"{URL}{clearance.pk}/",
            {"action": "withdraw", "files": [png("a.png"), png("b.png", b"MZ not an image")]},
        )
    clearance.refresh_from_db()
    assert clearance.status == "withdrawn" and clearance.evidence.count() == 1


def test_a_description_longer_than_2000_characters_is_refused(client, resident):
    page = appeal(client, png(), description="采" * 2001).content.decode()
    assert "情况说明最多 2000 字" in page and not Clearance.objects.exists()
