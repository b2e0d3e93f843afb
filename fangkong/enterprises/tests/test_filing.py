"""The resumption filing (一企一策): an enterprise files its plan, the district checks the site and
approves or sends it back, the enterprise resumes, the district may suspend it. Each step is
allowed only from the statuses that lead to it and says why not otherwise; the history keeps
every step and the status is read as of any time. Registering an enterprise checks its code,
its name and its district."""

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from stdnum.cn import uscc

from fangkong.accounts.models import Role, StaffProfile
from fangkong.audit.models import AuditEntry
from fangkong.clearances.batches import do_submit_batch
from fangkong.clearances.models import EmployerBatch
from fangkong.clearances.tests.test_employer_batches import (
    EMPLOYER,
    POLICY,
    UPLOADED,
    csv_file,
    good_rows,
    pdf,
)
from fangkong.clearances.tests.test_employer_batches import (  # noqa: F401 - the fixture `works`
    works as the_factory_and_its_liaison,
)
from fangkong.enterprises import actions as act
from fangkong.enterprises.models import Enterprise, ResumptionStatus, ResumptionStep
from fangkong.enterprises.queries import history, status_at
from fangkong.people.models import Person

pytestmark = pytest.mark.django_db
BEIJING = timezone(timedelta(hours=8))
S = ResumptionStatus
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2022, 4, day, hour, minute, tzinfo=BEIJING)


def a_uscc(n: int) -> str:
    body = f"91220101MA{n:07d}"
    return body + uscc.calc_check_digit(body)


def register(n: int, name: str, county: str = "220102", **kw) -> Enterprise:
    return act.do_register_enterprise(
        None,
        uscc=a_uscc(n),
        name=name,
        county_code=county,
        industry=kw.pop("industry", "automotive"),
        above_scale=kw.pop("above_scale", True),
        normal_staff=kw.pop("normal_staff", 100),
        now=kw.pop("now", at(10, 8)),
        **kw,
    )


def status(enterprise, when) -> str:
    return status_at([enterprise.pk], when).get(enterprise.pk, S.NOT_STARTED)


def employer_of(make_staff, enterprise, username=None):
    user = make_staff(Role.EMPLOYER, username=username)
    StaffProfile.objects.filter(user=user).update(enterprise=enterprise)
    user.refresh_from_db()
    return user


def approved(enterprise, day: int = 11):
    """Filed, checked with the site disinfected and approved on `day`, by the system."""
    act.do_file_plan(None, enterprise, note="一企一策", now=at(day, 9))
    act.do_record_check(
        None, enterprise, check_team="检查组", findings="合格", disinfected=True, now=at(day, 10)
    )
    act.do_approve(None, enterprise, now=at(day, 11))
    return enterprise


@pytest.fixture
def firm(db):
    return register(
        1, "长春一号汽车零件有限公司", liaison_name="王联络", liaison_phone="13900000001"
    )


@pytest.fixture
def reviewer(make_staff):
    return make_staff(Role.DISTRICT_REVIEWER, ["220102"])


@pytest.fixture
def liaison(make_staff, firm):
    return employer_of(make_staff, firm)


# --- registering -------------------------------------------------------------------------------


def test_a_registered_enterprise_links_the_residents_and_accounts_that_name_it(city, make_staff):
    Person.objects.filter(id_number__in=city.nanguan[:2]).update(employer="长春二号汽车有限公司")
    account = make_staff(Role.EMPLOYER)
    StaffProfile.objects.filter(user=account).update(organisation="长春二号汽车有限公司")

    firm = register(2, "长春二号汽车有限公司")

    assert set(firm.employees.values_list("person__id_number", flat=True)) == set(city.nanguan[:2])
    assert StaffProfile.objects.get(user=account).enterprise_id == firm.pk
    entry = AuditEntry.objects.get(action="enterprise.register", target_id=str(firm.pk))
    assert entry.detail["linked"]["employees"] == 2


def test_a_code_whose_check_character_is_wrong_is_refused_naming_the_field(db):
    good = a_uscc(3)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(act.FilingError, match="统一社会信用代码"):
        act.do_register_enterprise(
            None,
            uscc=bad,
            name="错码企业",
            county_code="220102",
            industry="automotive",
            above_scale=True,
            normal_staff=1,
            now=at(10),
        )
    assert not Enterprise.objects.filter(name="错码企业").exists()


def test_a_name_is_registered_once_and_the_district_must_be_a_county(firm):
    with pytest.raises(act.FilingError, match="企业名称.*已登记"):
        register(4, firm.name)
    with pytest.raises(act.FilingError, match="所属区县"):
        register(5, "街道级企业", county="220102001")
    with pytest.raises(act.FilingError, match="所属区县"):
        register(6, "外市企业", county="220200")
    assert Enterprise.objects.count() == 1


def test_a_reviewer_registers_only_in_their_own_district(reviewer):
    with pytest.raises(PermissionDenied):
        act.do_register_enterprise(
            reviewer,
            uscc=a_uscc(7),
            name="朝阳区企业",
            county_code="220104",
            industry="pharma",
            above_scale=False,
            normal_staff=10,
            now=at(10),
        )
    own = act.do_register_enterprise(
        reviewer,
        uscc=a_uscc(8),
        name="南关区企业",
        county_code="220102",
        industry="pharma",
        above_scale=False,
        normal_staff=10,
        now=at(10),
    )
    assert own.county_code == "220102"


def test_an_update_needs_a_reason_and_audits_the_old_and_new_values(firm, reviewer):
    with pytest.raises(act.FilingError, match="修改原因"):
        act.do_update_enterprise(reviewer, firm, now=at(12), reason=" ", normal_staff=300)

    act.do_update_enterprise(
        reviewer, firm, now=at(12), reason="人社局核定", normal_staff=300, liaison_name="李联络"
    )

    firm.refresh_from_db()
    assert (firm.normal_staff, firm.liaison_name) == (300, "李联络")
    entry = AuditEntry.objects.get(action="enterprise.update", target_id=str(firm.pk))
    assert entry.detail["reason"] == "人社局核定"
    assert entry.detail["changed"] == {
        "normal_staff": [100, 300],
        "liaison_name": ["王联络", "李联络"],
    }


def test_supply_links_and_staff_roles(firm, city):
    maker = register(9, "长春整车制造有限公司")
    act.do_link_supplier(None, firm, maker, note="座椅", now=at(10))
    assert list(maker.supplied_by.values_list("supplier__name", "note")) == [(firm.name, "座椅")]
    with pytest.raises(act.FilingError, match="同一家"):
        act.do_link_supplier(None, firm, firm, now=at(10))

    person = Person.objects.get(id_number=city.nanguan[5])
    act.do_add_employee(None, firm, person, role="returning", now=at(10))
    with pytest.raises(act.FilingError, match="已是该企业员工"):
        act.do_add_employee(None, firm, person, role="resident", now=at(10))
    act.do_change_employee_role(None, firm, person, role="closed_loop", now=at(11))
    assert firm.employees.get(person=person).role == "closed_loop"
    with pytest.raises(act.FilingError, match="员工身份"):
        act.do_change_employee_role(None, firm, person, role="boss", now=at(11))


# --- the filing ----------------------------------------------------------------------------------


def test_the_whole_way_from_filing_to_resumption_and_back(firm, liaison, reviewer):
    act.do_file_plan(liaison, firm, note="一企一策及承诺书", now=at(11, 9))
    assert status(firm, at(11, 9)) == S.FILED
    act.do_record_check(
        reviewer, firm, check_team="南关区第一检查组", findings="合格", disinfected=True, now=at(12)
    )
    assert status(firm, at(12)) == S.FILED
    act.do_approve(reviewer, firm, now=at(12, 15))
    assert status(firm, at(12, 15)) == S.APPROVED
    act.do_resume(liaison, firm, now=at(13))
    assert status(firm, at(13)) == S.RESUMED
    act.do_suspend(reviewer, firm, reason="厂区出现阳性", now=at(15))
    assert status(firm, at(15)) == S.SUSPENDED
    # The suspension was the district's decision: the enterprise cannot lift it itself.
    with pytest.raises(act.FilingError, match="须经区县复查后恢复生产"):
        act.do_resume(liaison, firm, now=at(17))
    act.do_resume(reviewer, firm, now=at(18), note="复查合格")
    assert status(firm, at(18)) == S.RESUMED

    steps = history(firm.pk)
    assert [(s.kind, s.status) for s in steps] == [
        ("file", "filed"),
        ("check", "filed"),
        ("approve", "approved"),
        ("resume", "resumed"),
        ("suspend", "suspended"),
        ("resume", "resumed"),
    ]
    assert steps[0].recorded_by == liaison and steps[2].recorded_by == reviewer
    assert steps[4].note == "厂区出现阳性"
    audited = AuditEntry.objects.filter(target_type="enterprise", target_id=str(firm.pk))
    assert set(audited.values_list("action", flat=True)) >= {
        "enterprise.file",
        "enterprise.check",
        "enterprise.approve",
        "enterprise.resume",
        "enterprise.suspend",
    }


def test_status_is_read_as_of_a_time(firm):
    approved(firm, day=11)
    act.do_resume(None, firm, now=at(13))
    assert status(firm, at(10)) == S.NOT_STARTED
    assert status(firm, at(11, 10)) == S.FILED
    assert status(firm, at(12)) == S.APPROVED
    assert status(firm, at(14)) == S.RESUMED


def test_a_step_recorded_late_counts_from_when_it_happened_but_was_not_known_before(firm):
    act.do_file_plan(None, firm, note="方案", now=at(12, 18), at=at(11, 9))
    assert history(firm.pk)[0].at == at(11, 9)
    # As known on the 12th in the morning, nothing had been filed; as known now, since the 11th.
    assert status(firm, at(12, 8)) == S.NOT_STARTED
    assert status(firm, at(12, 18)) == S.FILED


def test_a_step_is_never_dated_after_now_nor_before_the_previous_step(firm):
    with pytest.raises(act.FilingError, match="不能晚于现在"):
        act.do_file_plan(None, firm, note="方案", now=at(11), at=at(11, 10))
    act.do_file_plan(None, firm, note="方案", now=at(11, 9))
    with pytest.raises(act.FilingError, match="早于上一环节"):
        act.do_record_check(
            None, firm, check_team="组", findings="合格", disinfected=True, now=at(12), at=at(10)
        )


@pytest.mark.parametrize(
    ("prepare", "step", "message"),
    [
        ("none", "check", "未复工.*不能登记现场检查"),
        ("none", "approve", "未复工.*不能批准复工"),
        ("none", "reject", "未复工.*不能退回"),
        ("none", "resume", "未复工.*不能复工"),
        ("none", "suspend", "未复工.*不能停工"),
        ("filed", "resume", "已报备.*不能复工"),
        ("filed", "suspend", "已报备.*不能停工"),
        ("approved", "file", "已批准.*不能提交复工方案"),
        ("approved", "check", "已批准.*不能登记现场检查"),
        ("approved", "approve", "已批准.*不能批准复工"),
        ("resumed", "resume", "已复工.*不能复工"),
        ("resumed", "reject", "已复工.*不能退回"),
        ("suspended", "suspend", "已停工.*不能停工"),
        ("suspended", "file", "已停工.*不能提交复工方案"),
    ],
)
def test_a_step_out_of_order_is_refused_naming_the_status(firm, prepare, step, message):
    if prepare == "filed":
        act.do_file_plan(None, firm, note="方案", now=at(11))
    if prepare in ("approved", "resumed", "suspended"):
        approved(firm, day=11)
    if prepare in ("resumed", "suspended"):
        act.do_resume(None, firm, now=at(12))
    if prepare == "suspended":
        act.do_suspend(None, firm, reason="停工检查", now=at(13))
    before = ResumptionStep.objects.filter(enterprise=firm).count()
    now = at(15)
    doing = {
        "file": lambda: act.do_file_plan(None, firm, note="方案", now=now),
        "check": lambda: act.do_record_check(
            None, firm, check_team="组", findings="合格", disinfected=True, now=now
        ),
        "approve": lambda: act.do_approve(None, firm, now=now),
        "reject": lambda: act.do_reject(None, firm, reason="不全", now=now),
        "resume": lambda: act.do_resume(None, firm, now=now),
        "suspend": lambda: act.do_suspend(None, firm, reason="停工", now=now),
    }
    with pytest.raises(act.FilingError, match=message):
        doing[step]()
    assert ResumptionStep.objects.filter(enterprise=firm).count() == before


def test_approval_needs_a_check_after_the_latest_filing_with_the_site_disinfected(firm):
    act.do_file_plan(None, firm, note="方案", now=at(11, 9))
    with pytest.raises(act.FilingError, match="尚未登记现场检查"):
        act.do_approve(None, firm, now=at(11, 10))
    act.do_record_check(
        None, firm, check_team="组", findings="食堂未消杀", disinfected=False, now=at(11, 11)
    )
    with pytest.raises(act.FilingError, match="未确认已完成全场区消杀"):
        act.do_approve(None, firm, now=at(11, 12))
    act.do_record_check(
        None, firm, check_team="组", findings="已整改", disinfected=True, now=at(11, 13)
    )
    # Filed again: the earlier check was of the earlier plan.
    act.do_file_plan(None, firm, note="修订方案", now=at(11, 14))
    assert status(firm, at(11, 14)) == S.FILED
    with pytest.raises(act.FilingError, match="尚未登记现场检查"):
        act.do_approve(None, firm, now=at(11, 15))
    act.do_record_check(None, firm, check_team="组", findings="合格", disinfected=True, now=at(12))
    act.do_approve(None, firm, now=at(12, 10))
    assert status(firm, at(12, 10)) == S.APPROVED


def test_a_rejected_plan_must_be_filed_again(firm):
    act.do_file_plan(None, firm, note="方案", now=at(11))
    with pytest.raises(act.FilingError, match="退回原因"):
        act.do_reject(None, firm, reason="  ", now=at(12))
    act.do_reject(None, firm, reason="缺少承诺书", now=at(12))
    assert status(firm, at(12)) == S.NOT_STARTED
    with pytest.raises(act.FilingError, match="不能登记现场检查"):
        act.do_record_check(
            None, firm, check_team="组", findings="合格", disinfected=True, now=at(13)
        )
    act.do_file_plan(None, firm, note="补充承诺书", now=at(13))
    assert status(firm, at(13)) == S.FILED


def test_suspension_needs_a_reason_and_an_approved_plant_may_be_suspended(firm):
    approved(firm)
    with pytest.raises(act.FilingError, match="停工原因"):
        act.do_suspend(None, firm, reason="", now=at(12))
    act.do_suspend(None, firm, reason="上游断供", now=at(12))
    assert status(firm, at(12)) == S.SUSPENDED


def test_a_filing_needs_a_plan_and_keeps_its_document_outside_the_web_root(firm, liaison):
    with pytest.raises(act.FilingError, match="复工方案"):
        act.do_file_plan(liaison, firm, note="", now=at(11))
    step = act.do_file_plan(
        liaison,
        firm,
        note="",
        now=at(11),
        document=SimpleUploadedFile("方案.pdf", PDF, content_type="application/pdf"),
    )
    stored = Path(settings.EVIDENCE_DIR) / step.document
    assert stored.read_bytes() == PDF
    assert step.document_name == "方案.pdf" and step.document != "方案.pdf"
    assert act.document_type(step) == "application/pdf"


def test_a_document_is_judged_by_its_bytes_and_size(firm, settings):
    with pytest.raises(act.FilingError, match="不是PDF、JPG、PNG 或 Word"):
        act.do_file_plan(None, firm, note="方案", now=at(11), document=("plan.pdf", b"<html>"))
    settings.EVIDENCE_MAX_BYTES = 100
    with pytest.raises(act.FilingError, match="超过"):
        act.do_file_plan(None, firm, note="方案", now=at(11), document=("plan.pdf", PDF * 10))
    assert not ResumptionStep.objects.filter(enterprise=firm).exists()


def test_a_docx_is_accepted_and_a_zip_that_is_not_one_is_not(firm, tmp_path):
    import io
    import zipfile

    def archive(member: str) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr(member, "<w:document/>")
        return buffer.getvalue()

    with pytest.raises(act.FilingError, match="不是PDF"):
        act.do_file_plan(None, firm, note="", now=at(11), document=("a.docx", archive("x.txt")))
    step = act.do_file_plan(
        None, firm, note="", now=at(11), document=("方案.docx", archive("word/document.xml"))
    )
    assert step.document.endswith(".docx")


# --- who may -------------------------------------------------------------------------------


def test_the_enterprise_files_and_resumes_but_does_not_check_approve_or_suspend(firm, liaison):
    act.do_file_plan(liaison, firm, note="方案", now=at(11))
    with pytest.raises(PermissionDenied):
        act.do_record_check(
            liaison, firm, check_team="自查", findings="合格", disinfected=True, now=at(12)
        )
    act.do_record_check(None, firm, check_team="组", findings="合格", disinfected=True, now=at(12))
    with pytest.raises(PermissionDenied):
        act.do_approve(liaison, firm, now=at(12, 10))
    with pytest.raises(PermissionDenied):
        act.do_reject(liaison, firm, reason="撤回", now=at(12, 10))
    act.do_approve(None, firm, now=at(12, 10))
    act.do_resume(liaison, firm, now=at(13))
    with pytest.raises(PermissionDenied):
        act.do_suspend(liaison, firm, reason="自行停工", now=at(14))


def test_another_district_and_another_enterprise_may_do_nothing(firm, make_staff):
    other_reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220104"])
    other_firm = register(11, "朝阳区某企业", county="220104")
    other_liaison = employer_of(make_staff, other_firm)
    auditor = make_staff(Role.AUDITOR)
    for user in (other_reviewer, other_liaison, auditor):
        with pytest.raises(PermissionDenied):
            act.do_file_plan(user, firm, note="方案", now=at(11))
    act.do_file_plan(None, firm, note="方案", now=at(11))
    with pytest.raises(PermissionDenied):
        act.do_record_check(
            other_reviewer, firm, check_team="组", findings="合格", disinfected=True, now=at(12)
        )
    centre = make_staff(Role.COMMAND_CENTRE)
    act.do_record_check(
        centre, firm, check_team="组", findings="合格", disinfected=True, now=at(12)
    )
    assert status(firm, at(12)) == S.FILED


def test_an_employer_list_uploaded_by_a_linked_account_is_its_enterprises(
    make_staff,
    the_factory_and_its_liaison,  # noqa: F811 - the imported fixture
):
    """The factory's liaison account is linked when the factory is registered; its lists are
    then the factory's. A list from an account of no registered enterprise belongs to none."""
    city, liaison = the_factory_and_its_liaison
    firm = register(20, EMPLOYER)
    liaison.refresh_from_db()
    assert liaison.staff.enterprise == firm

    batch = do_submit_batch(csv_file(good_rows(city)), pdf(), POLICY, liaison, UPLOADED)
    assert EmployerBatch.objects.get(pk=batch.pk).enterprise == firm

    unlinked = make_staff(Role.EMPLOYER)
    StaffProfile.objects.filter(user=unlinked).update(organisation="未登记的单位")
    unlinked.refresh_from_db()
    other = do_submit_batch(csv_file(good_rows(city)[:1]), pdf(), POLICY, unlinked, UPLOADED)
    assert EmployerBatch.objects.get(pk=other.pk).enterprise is None
