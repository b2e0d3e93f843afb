"""In a real browser: an enterprise's liaison signs in, finds only their own enterprise on the
registry, opens today's daily report — prefilled from yesterday's — files it, sees it on the
enterprise page, and the enterprise is off the reminder list the district reviewer reads."""

from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def divisions():
    """Transactional tests empty the database after each test: put the places back."""
    from fangkong.places.loading import load_divisions

    load_divisions()


def signed_in(browser, live_server, username):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    return page


def test_a_liaison_files_todays_report_and_leaves_the_reminder_list(
    browser, live_server, make_staff
):
    from fangkong.accounts.models import StaffProfile
    from fangkong.enterprises import actions as act
    from fangkong.enterprises.models import DailyReport
    from fangkong.enterprises.tests.test_filing import register

    now = timezone.now()
    today = act.local_day(now)
    firm = register(
        1, "长春一号汽车零件有限公司", liaison_name="王联络", now=now - timedelta(days=3)
    )
    register(2, "长春整车制造有限公司", now=now - timedelta(days=3))
    act.do_file_plan(None, firm, note="一企一策", now=now - timedelta(days=2))
    act.do_record_check(
        None,
        firm,
        check_team="南关区检查组",
        findings="合格",
        disinfected=True,
        now=now - timedelta(days=2, minutes=-30),
    )
    act.do_approve(None, firm, now=now - timedelta(days=1, hours=12))
    act.do_resume(None, firm, now=now - timedelta(days=1, hours=6))
    act.do_submit_report(
        None,
        firm,
        day=today - timedelta(days=1),
        staff_on_duty=90,
        returning_staff=20,
        capacity_percent="61.5",
        closed_loop=True,
        now=now - timedelta(hours=1),
    )
    liaison = make_staff("employer", username="liaison")
    StaffProfile.objects.filter(user=liaison).update(enterprise=firm)
    make_staff("district_reviewer", ["220102"], username="nanguan")

    reviewer = signed_in(browser, live_server, "nanguan")
    reviewer.goto(f"{live_server.url}/enterprises/reminders/")
    assert "长春一号汽车零件有限公司" in reviewer.locator("#reminder-list").inner_text()

    page = signed_in(browser, live_server, "liaison")
    page.goto(f"{live_server.url}/enterprises/")
    listed = page.locator("#enterprise-list").inner_text()
    assert "长春一号汽车零件有限公司" in listed and "长春整车制造有限公司" not in listed
    page.click("#enterprise-list a:has-text('长春一号汽车零件有限公司')")
    assert page.locator("#resumption-status").inner_text() == "已复工"
    page.click("#report-link")
    assert page.input_value("#id_staff_on_duty") == "90"  # prefilled from yesterday
    page.fill("#id_staff_on_duty", "95")
    page.fill("#id_returning_staff", "120")
    page.fill("#id_capacity_percent", "64.5")
    page.fill("#id_problems", "芯片短缺")
    page.click("button:has-text('报送日报')")
    assert "其中返岗人数:120 人多于在岗人数 95 人" in page.locator("#form-errors").inner_text()
    page.fill("#id_returning_staff", "22")
    page.click("button:has-text('报送日报')")

    assert f"已报送 {today:%Y-%m-%d} 的日报" in page.locator(".messages").inner_text()
    row = page.locator(f"#recent-reports tr[data-day='{today:%Y-%m-%d}']").inner_text()
    assert "95" in row and "64.5%" in row and "芯片短缺" in row
    assert page.locator("#report-link").inner_text() == "更正今日日报"
    report = DailyReport.objects.get(enterprise=firm, day=today)
    assert (report.staff_on_duty, report.recorded_by_id) == (95, liaison.pk)

    reviewer.reload()
    assert "应报送的企业均已报送" in reviewer.locator("#all-reported").inner_text()
