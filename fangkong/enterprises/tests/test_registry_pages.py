"""The registry pages: reviewers list the enterprises of their districts with their status as of
now, filter them, open one (officers, supply links, staff by role with names masked, the filing
history and the last seven reports), register and edit them and take the filing steps; an
enterprise's own account sees only itself, files its plan with the document and reports its day;
a reviewer of another district gets a 404 and a step one may not take a 403; the plan is served
only to those who may read it."""

from datetime import date

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from fangkong.accounts.models import Role
from fangkong.audit.models import AuditEntry
from fangkong.enterprises import actions as act
from fangkong.enterprises.models import DailyReport, Enterprise, ResumptionStep
from fangkong.enterprises.tests.test_filing import (
    PDF,
    a_uscc,
    approved,
    at,
    employer_of,
    register,
)
from fangkong.people.models import Person

pytestmark = pytest.mark.django_db
LIST = reverse("enterprises:list")
NOW = at(20, 16)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def firms(city):
    """In 南关区 a resumed automotive parts maker supplying a vehicle maker that has filed, with
    three staff; in 朝阳区 a pharmaceutical firm."""
    parts = register(
        1,
        "长春一号汽车零件有限公司",
        liaison_name="王联络",
        liaison_phone="13900000001",
        instructor_name="赵指导",
        now=at(10),
    )
    maker = register(2, "长春整车制造有限公司", now=at(10))
    pharma = register(3, "朝阳医药有限公司", county="220104", industry="pharma", now=at(10))
    act.do_link_supplier(None, parts, maker, note="座椅", now=at(10))
    approved(parts, day=11)
    act.do_resume(None, parts, now=at(12))
    act.do_file_plan(None, maker, note="方案", now=at(12), document=("整车方案.pdf", PDF))
    for i, role in enumerate(["resident", "returning", "returning"]):
        person = Person.objects.get(id_number=city.nanguan[i])
        act.do_add_employee(None, parts, person, role=role, now=at(10))
    act.do_submit_report(
        None,
        parts,
        day=date(2022, 4, 19),
        staff_on_duty=90,
        returning_staff=20,
        capacity_percent="61.5",
        closed_loop=True,
        now=at(19, 18),
    )
    return {"parts": parts, "maker": maker, "pharma": pharma}


@pytest.fixture
def reviewer(make_staff):
    return make_staff(Role.DISTRICT_REVIEWER, ["220102"])


def test_a_reviewer_lists_their_districts_enterprises_with_status_as_of_now(firms, reviewer):
    page = signed_in(reviewer).get(LIST).content.decode()
    assert "长春一号汽车零件有限公司" in page and "长春整车制造有限公司" in page
    assert "朝阳医药有限公司" not in page
    assert "已复工" in page and "已报备" in page

    filtered = signed_in(reviewer).get(LIST, {"status": "resumed"}).content.decode()
    assert "长春一号汽车零件有限公司" in filtered and "长春整车制造有限公司" not in filtered
    searched = signed_in(reviewer).get(LIST, {"q": "整车"}).content.decode()
    assert "长春整车制造有限公司" in searched and "长春一号汽车零件有限公司" not in searched


def test_the_command_centre_filters_by_district_and_industry(firms, make_staff):
    centre = signed_in(make_staff(Role.COMMAND_CENTRE))
    page = centre.get(LIST, {"county": "220104"}).content.decode()
    assert "朝阳医药有限公司" in page and "长春整车制造有限公司" not in page
    page = centre.get(LIST, {"industry": "automotive", "status": "not_started"}).content.decode()
    assert "朝阳医药有限公司" not in page and "长春一号汽车零件有限公司" not in page
    assert "没有符合条件的企业" in page


def test_an_enterprise_account_sees_only_itself(firms, make_staff):
    own = signed_in(employer_of(make_staff, firms["parts"]))
    page = own.get(LIST).content.decode()
    parts, maker = firms["parts"], firms["maker"]
    assert f'href="{reverse("enterprises:detail", args=[parts.pk])}"' in page
    assert "长春整车制造有限公司" not in page and "朝阳医药有限公司" not in page
    assert own.get(reverse("enterprises:detail", args=[maker.pk])).status_code == 404
    assert own.get(reverse("enterprises:reminders")).status_code == 200


def test_the_enterprise_page_shows_officers_links_staff_history_and_reports(firms, reviewer):
    parts = firms["parts"]
    page = signed_in(reviewer).get(reverse("enterprises:detail", args=[parts.pk])).content.decode()
    assert "王联络" in page and "赵指导" in page and "13900000001" in page
    assert "长春整车制造有限公司" in page and "座椅" in page
    assert "<strong>1</strong> 驻厂员工" in page and "<strong>2</strong> 返岗员工" in page
    assert "居民1" not in page and "**1" in page  # staff names masked
    assert "提交复工方案及承诺书" in page and "区县批准" in page
    assert "61.5%" in page and "2022-04-14" in page and "2022-04-13" not in page
    # A reviewer of the district may suspend a resumed plant; it is the enterprise's to report.
    assert reverse("enterprises:suspend", args=[parts.pk]) in page
    assert reverse("enterprises:file", args=[parts.pk]) not in page
    # The plant's gate pages and the district's dashboard are a click away.
    assert reverse("enterprises:buffer", args=[parts.pk]) in page
    assert reverse("enterprises:loop", args=[parts.pk]) in page
    assert f"{reverse('enterprises:dashboard')}?county=220102" in page


def test_a_reviewer_of_another_district_gets_404_and_an_auditor_a_403_for_a_step(firms, make_staff):
    maker = firms["maker"]
    other = signed_in(make_staff(Role.DISTRICT_REVIEWER, ["220104"]))
    for name in ("detail", "edit", "file", "check", "decide", "report"):
        assert other.get(reverse(f"enterprises:{name}", args=[maker.pk])).status_code == 404
    auditor = signed_in(make_staff(Role.AUDITOR))
    assert auditor.get(reverse("enterprises:detail", args=[maker.pk])).status_code == 200
    assert auditor.get(reverse("enterprises:check", args=[maker.pk])).status_code == 403
    reply = auditor.post(reverse("enterprises:decide", args=[maker.pk]), {"decision": "approve"})
    assert reply.status_code == 403
    assert signed_in(make_staff(Role.HOTLINE)).get(LIST).status_code == 403
    assert Client().get(LIST).status_code == 302  # to sign in


def test_a_reviewer_checks_and_decides_on_the_pages(firms, reviewer):
    maker, client = firms["maker"], signed_in(reviewer)
    decide = reverse("enterprises:decide", args=[maker.pk])
    refused = client.post(decide, {"decision": "approve", "note": ""})
    assert refused.status_code == 400
    assert "提交方案后尚未登记现场检查" in refused.content.decode()

    reply = client.post(
        reverse("enterprises:check", args=[maker.pk]),
        {"check_team": "南关区检查组", "findings": "合格", "disinfected": "on"},
    )
    assert reply.status_code == 302
    reply = client.post(decide, {"decision": "approve", "note": "同意复工"})
    assert reply.status_code == 302
    assert ResumptionStep.objects.filter(enterprise=maker).latest("pk").status == "approved"
    reply = client.post(
        reverse("enterprises:suspend", args=[maker.pk]), {"reason": "", "at": ""}, follow=True
    )
    assert "停工原因" in reply.content.decode()


def test_a_step_dated_in_the_future_is_refused_with_the_field(firms, reviewer):
    reply = signed_in(reviewer).post(
        reverse("enterprises:decide", args=[firms["maker"].pk]),
        {"decision": "reject", "note": "缺材料", "at": "2022-04-21T09:00"},
    )
    assert reply.status_code == 400 and "不能晚于现在" in reply.content.decode()
    reply = signed_in(reviewer).post(
        reverse("enterprises:decide", args=[firms["maker"].pk]),
        {"decision": "reject", "note": "缺材料", "at": "昨天"},
    )
    assert reply.status_code == 400 and "不是有效的时间" in reply.content.decode()


def test_the_enterprise_files_its_plan_with_a_document_and_the_district_reads_it(
    firms, make_staff, reviewer
):
    maker = firms["maker"]
    own = signed_in(employer_of(make_staff, maker))
    from django.core.files.uploadedfile import SimpleUploadedFile

    reply = own.post(
        reverse("enterprises:file", args=[maker.pk]),
        {"note": "修订方案", "document": SimpleUploadedFile("修订方案.pdf", PDF)},
    )
    assert reply.status_code == 302
    step = ResumptionStep.objects.filter(enterprise=maker).latest("pk")
    assert step.document_name == "修订方案.pdf"

    url = reverse("enterprises:document", args=[maker.pk, step.pk])
    served = signed_in(reviewer).get(url)
    assert served.status_code == 200 and b"".join(served.streaming_content) == PDF
    assert served["Content-Type"] == "application/pdf"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert AuditEntry.objects.filter(action="enterprise.document_view").count() == 1
    assert own.get(url).status_code == 200

    # Not to another district, another enterprise or the checkpoint staff at its gate.
    other = make_staff(Role.DISTRICT_REVIEWER, ["220104"])
    stranger = employer_of(make_staff, firms["pharma"])
    gate = make_staff(Role.CHECKPOINT, ["220102"])
    for user in (other, stranger, gate):
        assert signed_in(user).get(url).status_code == 404
    # A step of another enterprise under this one's address is not found either.
    parts_url = reverse("enterprises:document", args=[firms["parts"].pk, step.pk])
    assert signed_in(reviewer).get(parts_url).status_code == 404


def test_a_document_that_is_not_a_plan_is_refused_on_the_page(firms, make_staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    own = signed_in(employer_of(make_staff, firms["maker"]))
    reply = own.post(
        reverse("enterprises:file", args=[firms["maker"].pk]),
        {"note": "方案", "document": SimpleUploadedFile("方案.pdf", b"MZ\x90\x00")},
    )
    assert reply.status_code == 400 and "方案文件" in reply.content.decode()


def test_a_reviewer_registers_and_edits_an_enterprise(reviewer):
    client = signed_in(reviewer)
    form = {
        "uscc": a_uscc(9),
        "name": "南关新登记企业",
        "county_code": "220102",
        "industry": "food",
        "normal_staff": "50",
        "pcr_every_days": "3",
        "antigen_every_days": "1",
    }
    bad = client.post(reverse("enterprises:new"), {**form, "uscc": "91220101MA0000000X"})
    assert bad.status_code == 400 and "统一社会信用代码" in bad.content.decode()
    elsewhere = client.post(reverse("enterprises:new"), {**form, "county_code": "220104"})
    assert elsewhere.status_code == 400  # not a choice for this reviewer
    assert client.post(reverse("enterprises:new"), form).status_code == 302
    made = Enterprise.objects.get(name="南关新登记企业")

    edit = reverse("enterprises:edit", args=[made.pk])
    assert client.post(edit, {**form, "normal_staff": "80"}).status_code == 400  # no reason
    reply = client.post(edit, {**form, "normal_staff": "80", "reason": "核定用工"})
    assert reply.status_code == 302
    made.refresh_from_db()
    assert made.normal_staff == 80
    entry = AuditEntry.objects.get(action="enterprise.update")
    assert entry.detail["changed"] == {"normal_staff": [50, 80]}


def test_the_report_form_is_prefilled_from_yesterday_and_a_second_is_a_correction(
    firms, make_staff
):
    parts = firms["parts"]
    own = signed_in(employer_of(make_staff, parts))
    url = reverse("enterprises:report", args=[parts.pk])
    page = own.get(url).content.decode()
    assert 'value="90"' in page and 'value="61.5"' in page and "已按 2022-04-19" in page
    assert 'type="date" name="day" value="2022-04-20"' in page  # what a date input can show

    fields = {
        "day": "2022-04-20",
        "staff_on_duty": "95",
        "returning_staff": "22",
        "capacity_percent": "64",
        "closed_loop": "on",
    }
    assert own.post(url, fields).status_code == 302
    again = own.post(url, {**fields, "staff_on_duty": "96"})
    assert again.status_code == 400 and "更正原因" in again.content.decode()
    assert "该日已于" in own.get(url).content.decode()
    fixed = own.post(url, {**fields, "staff_on_duty": "96", "correction_reason": "补报夜班"})
    assert fixed.status_code == 302
    standing = DailyReport.objects.get(
        enterprise=parts, day=date(2022, 4, 20), supersedes__isnull=False
    )
    assert standing.staff_on_duty == 96
    tomorrow = own.post(url, {**fields, "day": "2022-04-21"})
    assert tomorrow.status_code == 400 and "还没到" in tomorrow.content.decode()


def test_the_reminder_list_shows_who_has_not_reported_and_links_the_import(firms, reviewer):
    client = signed_in(reviewer)
    page = client.get(reverse("enterprises:reminders")).content.decode()
    assert "长春一号汽车零件有限公司" in page and "13900000001" in page
    assert "长春整车制造有限公司" not in page  # filed, not yet approved
    assert reverse("ingest:upload", args=["daily_reports"]) in page
    yesterday = client.get(reverse("enterprises:reminders"), {"day": "2022-04-19"})
    assert "应报送的企业均已报送" in yesterday.content.decode()
    garbled = client.get(reverse("enterprises:reminders"), {"day": "四月"})
    assert "不是有效的日期" in garbled.content.decode()
