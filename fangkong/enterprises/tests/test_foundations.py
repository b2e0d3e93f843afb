"""The registry as the one source of employers, and state as it stood at a time."""

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from stdnum.cn import uscc

from fangkong.accounts.models import Role, StaffProfile
from fangkong.clearances.models import EmployerBatch
from fangkong.enterprises import access
from fangkong.enterprises.linking import link_by_name
from fangkong.enterprises.models import (
    DailyReport,
    Employee,
    Enterprise,
    ResumptionStatus,
    ResumptionStep,
)
from fangkong.enterprises.queries import resumed_ids, standing_reports, status_at
from fangkong.people.models import Person

BEIJING = timezone(timedelta(hours=8))
APRIL_10 = datetime(2022, 4, 10, 9, 0, tzinfo=BEIJING)


def a_uscc(n: int) -> str:
    body = f"91220101MA{n:07d}"
    return body + uscc.calc_check_digit(body)


def enterprise(n: int, name: str, county: str = "220102", **kw) -> Enterprise:
    return Enterprise.objects.create(
        uscc=a_uscc(n),
        name=name,
        county_code=county,
        industry=kw.pop("industry", "automotive"),
        above_scale=kw.pop("above_scale", True),
        normal_staff=kw.pop("normal_staff", 100),
        recorded_at=APRIL_10,
        **kw,
    )


def link_all():
    return link_by_name(Enterprise, Employee, Person, StaffProfile, EmployerBatch)


def test_residents_whose_employer_text_is_a_registered_name_become_its_staff(city):
    Person.objects.filter(id_number__in=city.nanguan[:3]).update(
        employer="长春一号汽车零件有限公司"
    )
    Person.objects.filter(id_number=city.nanguan[3]).update(employer=" 长春一号汽车零件有限公司 ")
    Person.objects.filter(id_number=city.nanguan[4]).update(employer="别的单位")
    firm = enterprise(1, "长春一号汽车零件有限公司")

    assert link_all()["employees"] == 4
    staff = set(firm.employees.values_list("person__id_number", flat=True))
    assert staff == set(city.nanguan[:4])
    assert set(firm.employees.values_list("role", flat=True)) == {"resident"}
    # Matching again finds nothing new: links are made once.
    assert link_all() == {"employees": 0, "accounts": 0, "batches": 0}


def test_liaison_accounts_and_employer_lists_link_to_the_enterprise_of_their_name(city, make_staff):
    firm = enterprise(2, "长春二号制药有限公司", industry="pharma")
    liaison = make_staff(Role.EMPLOYER)
    StaffProfile.objects.filter(user=liaison).update(organisation="长春二号制药有限公司")
    other = make_staff(Role.EMPLOYER)
    StaffProfile.objects.filter(user=other).update(organisation="未登记的单位")
    batch = EmployerBatch.objects.create(
        employer="长春二号制药有限公司",
        policy_id="p",
        uploaded_by=liaison,
        uploaded_at=APRIL_10,
        file_name="名单.xlsx",
    )

    counts = link_all()

    assert counts["accounts"] == 1 and counts["batches"] == 1
    liaison.staff.refresh_from_db()
    other.staff.refresh_from_db()
    batch.refresh_from_db()
    assert liaison.staff.enterprise == firm and other.staff.enterprise is None
    assert batch.enterprise == firm
    assert access.own_enterprise_id(liaison) == firm.pk
    assert list(access.visible_enterprises(liaison)) == [firm]


def step(firm, status, at, recorded_at=None, kind="resume"):
    return ResumptionStep.objects.create(
        enterprise=firm, kind=kind, status=status, at=at, recorded_at=recorded_at or at
    )


def test_the_status_at_a_time_is_that_of_the_latest_step_known_then(db):
    firm = enterprise(3, "长春三号装备有限公司", industry="equipment")
    step(firm, ResumptionStatus.FILED, APRIL_10, kind="file")
    step(firm, ResumptionStatus.APPROVED, APRIL_10 + timedelta(days=1), kind="approve")
    # Resumed on the 12th, but only entered on the 14th.
    step(
        firm,
        ResumptionStatus.RESUMED,
        APRIL_10 + timedelta(days=2),
        recorded_at=APRIL_10 + timedelta(days=4),
    )

    assert status_at(None, APRIL_10 - timedelta(hours=1)) == {}
    assert status_at([firm.pk], APRIL_10 + timedelta(days=3))[firm.pk] == "approved"
    assert status_at([firm.pk], APRIL_10 + timedelta(days=5))[firm.pk] == "resumed"
    assert resumed_ids(None, APRIL_10 + timedelta(days=5)) == {firm.pk}


def report(firm, day, staff, recorded_at, supersedes=None):
    return DailyReport.objects.create(
        enterprise=firm,
        day=day,
        staff_on_duty=staff,
        returning_staff=0,
        capacity_percent=Decimal("50.0"),
        recorded_at=recorded_at,
        supersedes=supersedes,
        correction_reason="填错人数" if supersedes else "",
    )


def test_a_correction_replaces_its_report_from_the_moment_it_was_recorded(db):
    firm = enterprise(4, "长春四号食品有限公司", industry="food")
    first = report(firm, date(2022, 4, 20), 120, APRIL_10 + timedelta(days=10))
    report(firm, date(2022, 4, 20), 102, APRIL_10 + timedelta(days=11), supersedes=first)

    before = standing_reports(date(2022, 4, 20), APRIL_10 + timedelta(days=10, hours=1))
    after = standing_reports(date(2022, 4, 20), APRIL_10 + timedelta(days=12))

    assert before[firm.pk].staff_on_duty == 120
    assert after[firm.pk].staff_on_duty == 102
    assert standing_reports(date(2022, 4, 20), APRIL_10) == {}


def test_district_staff_see_the_enterprises_of_their_districts_only(db, make_staff):
    nanguan = enterprise(5, "南关企业", county="220102")
    chaoyang = enterprise(6, "朝阳企业", county="220104")
    reviewer = make_staff(Role.DISTRICT_REVIEWER, districts=["220102"])
    command = make_staff(Role.COMMAND_CENTRE)
    resident = make_staff(Role.LAB)

    assert list(access.visible_enterprises(reviewer)) == [nanguan]
    assert set(access.visible_enterprises(command)) == {nanguan, chaoyang}
    assert not access.visible_enterprises(resident).exists()
    assert access.can_keep(reviewer, nanguan) and not access.can_keep(reviewer, chaoyang)
    assert access.can_report(reviewer, nanguan) and not access.can_report(reviewer, chaoyang)


@pytest.mark.parametrize("n", [1, 77, 1234567])
def test_test_data_uses_codes_that_pass_the_gb32100_check(n):
    assert uscc.is_valid(a_uscc(n))
