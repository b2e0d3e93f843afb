"""The two-person override (人工复核解除) in a real browser (Debian's Chromium): the proposer sees
it waiting for a second person on the person page and may withdraw it; a second member of the
command centre approves it and the person is green for that reason (issue 10, item 11)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fangkong.accounts.models import Role
from fangkong.checkpoints.tests.test_gates_in_the_browser import (  # noqa: F401 (a fixture)
    SCREENSHOTS,
    reference_data,
    staff_page,
)
from fangkong.clearances.models import Clearance
from fangkong.clearances.tests.test_reviewing_in_the_browser import desk
from fangkong.ingest.tests.support import build_city, policy_source
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
POLICY = "cc-2022-0420-untested"
WHY = "核实为方舱医院医护人员,封闭管理期间由院内采样,记录在院内系统"


@pytest.fixture
def yellow(make_staff):
    """A 南关区 resident yellow under the untested rule; a district reviewer and two members of
    the command centre."""
    city = build_city()
    do_publish(policy_source(POLICY), user=None, now=timezone.now() - timedelta(days=1))
    make_staff(Role.DISTRICT_REVIEWER, ["220102"], username="reviewer")
    make_staff(Role.COMMAND_CENTRE, username="command")
    return Person.objects.get(id_number=city.nanguan[0])


def propose(page, live_server, person):
    page.goto(f"{live_server.url}/people/{person.pk}/")
    reason = page.locator(f'.reason[data-policy="{POLICY}"]')
    reason.locator("summary", has_text="人工复核解除").click()
    reason.locator("textarea[name=reason]").fill(WHY)
    reason.locator("button", has_text="提出人工复核").click()
    page.wait_for_load_state()
    assert "须由指挥部另一名工作人员批准后生效" in page.inner_text(".messages")
    return Clearance.objects.get(channel="override", person=person)


def test_the_proposer_sees_the_override_waiting_and_withdraws_it(browser, live_server, yellow):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = staff_page(desk(browser), live_server, "reviewer")
    override = propose(page, live_server, yellow)
    assert "等待另一名工作人员批准" in page.inner_text("#awaiting")

    page.goto(f"{live_server.url}/people/{yellow.pk}/")
    reason = page.locator(f'.reason[data-policy="{POLICY}"]')
    pending = reason.locator(f'[data-clearance="{override.pk}"]')
    assert "等待另一名工作人员批准" in pending.inner_text()
    assert pending.get_attribute("data-status") == "submitted"
    assert reason.locator("summary", has_text="人工复核解除").count() == 0  # not twice
    page.screenshot(path=SCREENSHOTS / "override-pending.png", full_page=True)

    reason.locator("input[name=reason]").fill("居民已另行采样,无需人工复核")
    reason.locator("button", has_text="撤回人工复核").click()
    page.wait_for_load_state()
    assert f"已撤回人工复核 #{override.pk}" in page.inner_text(".messages")
    assert page.url.endswith(f"/people/{yellow.pk}/#code")
    reason = page.locator(f'.reason[data-policy="{POLICY}"]')
    assert reason.locator("[data-clearance]").count() == 0
    assert reason.locator("summary", has_text="人工复核解除").is_visible()
    assert "yellow" in page.locator(".code-badge.big").get_attribute("class")
    override.refresh_from_db()
    assert override.status == "withdrawn"


def test_a_second_member_of_the_command_centre_approves_and_the_person_turns_green(
    browser, live_server, yellow
):
    proposer = staff_page(desk(browser), live_server, "reviewer")
    override = propose(proposer, live_server, yellow)

    approver = staff_page(desk(browser), live_server, "command")
    approver.goto(f"{live_server.url}/clearances/")
    approver.locator("#queue tbody tr", has_text="人工复核").locator("a").first.click()
    approver.wait_for_load_state()
    assert WHY in approver.inner_text("main")
    approver.select_option("#d-action", "approve")
    approver.fill("#d-reason", "情况属实,同意解除")
    approver.click("#decide button[type=submit]")
    approver.wait_for_load_state()
    assert "已通过" in approver.inner_text("h1")

    proposer.goto(f"{live_server.url}/people/{yellow.pk}/")
    assert "green" in proposer.locator(".code-badge.big").get_attribute("class")
    assert proposer.locator(f'.reason[data-policy="{POLICY}"]').count() == 0
    history = proposer.inner_text("#code table")
    assert f"解码申请 #{override.pk} 通过" in history
    proposer.screenshot(path=SCREENSHOTS / "override-approved.png", full_page=True)
