"""Daily reports (日报): one standing report an enterprise and a day; sending another is a
correction, which needs its reason and replaces the first as of when it was recorded; a report
for a day still to come, with more returning staff than staff, or a capacity beyond 0–200 % is
refused naming the field. The reminder list shows the enterprises that should report — approved
or resumed — and have not, each to those who see it."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from fangkong.accounts.models import Role
from fangkong.audit.models import AuditEntry
from fangkong.enterprises import actions as act
from fangkong.enterprises.models import DailyReport
from fangkong.enterprises.queries import standing_reports
from fangkong.enterprises.tests.test_filing import approved, at, employer_of, register

pytestmark = pytest.mark.django_db
APRIL_20 = date(2022, 4, 20)


def report(user, firm, *, day=APRIL_20, now=None, staff=120, returning=30, capacity="78", **kw):
    return act.do_submit_report(
        user,
        firm,
        day=day,
        staff_on_duty=staff,
        returning_staff=returning,
        capacity_percent=capacity,
        closed_loop=kw.pop("closed_loop", True),
        now=now or at(20, 17),
        **kw,
    )


@pytest.fixture
def firm(db):
    return approved(register(1, "长春一号汽车零件有限公司", liaison_name="王联络"))


@pytest.fixture
def liaison(make_staff, firm):
    return employer_of(make_staff, firm)


def test_a_liaison_reports_the_day(firm, liaison):
    made = report(liaison, firm, problems="芯片短缺")

    standing = standing_reports(APRIL_20, at(20, 18), [firm.pk])[firm.pk]
    assert standing == made
    assert (standing.staff_on_duty, standing.returning_staff) == (120, 30)
    assert standing.capacity_percent == Decimal("78.0") and standing.closed_loop
    assert standing.recorded_by == liaison and standing.problems == "芯片短缺"
    assert AuditEntry.objects.filter(action="enterprise.daily_report").count() == 1


def test_a_second_report_for_the_day_is_a_correction_with_its_reason(firm, liaison):
    first = report(liaison, firm, now=at(20, 17))
    with pytest.raises(act.FilingError, match="已报送日报.*更正原因"):
        report(liaison, firm, staff=125, now=at(20, 18))

    second = report(liaison, firm, staff=125, now=at(20, 19), correction_reason="夜班漏报")

    assert second.supersedes == first and second.correction_reason == "夜班漏报"
    assert standing_reports(APRIL_20, at(20, 18), [firm.pk])[firm.pk] == first
    assert standing_reports(APRIL_20, at(20, 20), [firm.pk])[firm.pk] == second
    third = report(liaison, firm, staff=126, now=at(20, 21), correction_reason="再次核对")
    assert third.supersedes == second
    assert DailyReport.objects.filter(enterprise=firm, day=APRIL_20).count() == 3


def test_a_first_report_ignores_a_correction_reason(firm):
    made = report(None, firm, correction_reason="多余的原因")
    assert made.supersedes is None and made.correction_reason == ""


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"day": date(2022, 4, 21)}, "日期:2022-04-21 还没到"),
        ({"staff": 10, "returning": 11}, "其中返岗人数:11 人多于在岗人数 10 人"),
        ({"capacity": "200.5"}, "产能恢复.*0 到 200"),
        ({"capacity": "-1"}, "产能恢复.*0 到 200"),
        ({"capacity": "七十"}, "产能恢复.*应为数字"),
        ({"capacity": "78.25"}, "最多一位小数"),
        ({"staff": -1}, "在岗人数"),
    ],
)
def test_a_report_that_cannot_be_is_refused_naming_the_field(firm, kw, message):
    with pytest.raises(act.FilingError, match=message):
        report(None, firm, **kw)
    assert not DailyReport.objects.exists()


def test_the_day_is_the_day_in_beijing(firm):
    # 20 April 23:30 UTC is already 21 April 07:30 in Beijing.
    from datetime import UTC, datetime

    made = report(None, firm, day=date(2022, 4, 21), now=datetime(2022, 4, 20, 23, 30, tzinfo=UTC))
    assert made.day == date(2022, 4, 21)
    with pytest.raises(act.FilingError, match="还没到"):
        report(None, firm, day=date(2022, 4, 21), now=datetime(2022, 4, 20, 15, 30, tzinfo=UTC))


def test_only_the_enterprise_and_its_district_report(firm, make_staff):
    other = register(2, "朝阳区某企业", county="220104")
    stranger = employer_of(make_staff, other)
    for user in (
        stranger,
        make_staff(Role.DISTRICT_REVIEWER, ["220104"]),
        make_staff(Role.AUDITOR),
        make_staff(Role.CHECKPOINT, ["220102"]),
    ):
        with pytest.raises(PermissionDenied):
            report(user, firm)
    report(make_staff(Role.DISTRICT_REVIEWER, ["220102"]), firm)
    assert DailyReport.objects.count() == 1


# --- reminders ---------------------------------------------------------------------------------


@pytest.fixture
def district(db):
    """In 南关区: a resumed firm and an approved one that should report, one only filed and one
    never started (neither should); in 朝阳区 a resumed firm."""
    resumed = register(11, "南关一厂", liaison_name="甲", liaison_phone="13900000011")
    approved(resumed)
    act.do_resume(None, resumed, now=at(12))
    ready = approved(register(12, "南关二厂", liaison_name="乙", liaison_phone="13900000012"))
    filed = register(13, "南关三厂")
    act.do_file_plan(None, filed, note="方案", now=at(11))
    register(14, "南关四厂")
    far = register(15, "朝阳一厂", county="220104", liaison_name="丙")
    approved(far)
    act.do_resume(None, far, now=at(12))
    return {"resumed": resumed, "ready": ready, "far": far}


def names(rows) -> list[str]:
    return [r.enterprise.name for r in rows]


def test_the_reminder_list_shows_who_should_report_and_has_not(district, make_staff):
    reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220102"])
    rows = act.reminders(reviewer, APRIL_20, at(20, 9))
    assert names(rows) == ["南关一厂", "南关二厂"]
    assert [(r.liaison_name, r.liaison_phone, r.status_label) for r in rows] == [
        ("甲", "13900000011", "已复工"),
        ("乙", "13900000012", "已批准"),
    ]

    report(None, district["resumed"], now=at(20, 10))
    assert names(act.reminders(reviewer, APRIL_20, at(20, 11))) == ["南关二厂"]
    # As it stood before the report came in, and for another day.
    assert names(act.reminders(reviewer, APRIL_20, at(20, 9))) == ["南关一厂", "南关二厂"]
    assert names(act.reminders(reviewer, date(2022, 4, 19), at(20, 11))) == [
        "南关一厂",
        "南关二厂",
    ]


def test_the_command_centre_sees_every_district_and_an_enterprise_only_itself(district, make_staff):
    centre = make_staff(Role.COMMAND_CENTRE)
    assert names(act.reminders(centre, APRIL_20, at(20, 9))) == ["南关一厂", "南关二厂", "朝阳一厂"]
    assert names(act.reminders(None, APRIL_20, at(20, 9))) == ["南关一厂", "南关二厂", "朝阳一厂"]
    own = employer_of(make_staff, district["ready"])
    assert names(act.reminders(own, APRIL_20, at(20, 9))) == ["南关二厂"]
    assert act.reminders(make_staff(Role.HOTLINE), APRIL_20, at(20, 9)) == []


def test_a_suspended_enterprise_is_not_reminded(district):
    act.do_suspend(None, district["ready"], reason="停工整改", now=at(19))
    assert "南关二厂" not in names(act.reminders(None, APRIL_20, at(20, 9)))
