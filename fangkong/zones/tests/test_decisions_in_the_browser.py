"""In a real browser: a district reviewer proposes putting a community in lockdown from its page,
a second officer approves and publishes the notice, and a resident, signed out, finds the
community on the public page with its notice."""

import pytest

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


def test_propose_approve_publish_then_the_public_reads_it(browser, live_server, make_staff):
    from fangkong.ingest.tests.support import build_city, community
    from fangkong.zones.models import ZoneDecision

    build_city()
    home = community("220102")
    make_staff("district_reviewer", ["220102"], username="nanguan-a")
    make_staff("district_reviewer", ["220102"], username="nanguan-b")

    proposer = signed_in(browser, live_server, "nanguan-a")
    proposer.goto(f"{live_server.url}/zones/{home.code}/")
    proposer.click("text=提出调整")
    proposer.fill("#id_number", "8")
    proposer.select_option("#id_scheme", "three_zones")
    proposer.fill("#id_entries", f"{home.code} 封控区")
    proposer.click("button:has-text('提出')")
    assert "待另一位负责人审核" in proposer.locator(".messages").inner_text()
    assert proposer.locator("#decision-status").inner_text() == "待审核"
    assert proposer.locator("#impact-residents").inner_text() == "25"
    assert proposer.locator("button:has-text('批准')").count() == 0
    decision = ZoneDecision.objects.get()

    approver = signed_in(browser, live_server, "nanguan-b")
    approver.goto(f"{live_server.url}/zones/decisions/")
    approver.click("text=第8号")
    approver.click("button:has-text('批准')")
    assert approver.locator("#decision-status").inner_text() == "已批准,待发布"
    approver.click("button:has-text('发布通告')")
    message = approver.locator(".messages").inner_text()
    assert "已发布长春市新冠肺炎疫情防控工作领导小组通告(第8号),即时生效" in message
    assert approver.locator("#decision-status").inner_text() == "已发布"
    decision.refresh_from_db()
    assert decision.approved_by.username == decision.published_by.username == "nanguan-b"

    resident = browser.new_context(locale="zh-CN").new_page()
    resident.goto(f"{live_server.url}/zones/public/")
    areas = resident.locator("#risk-areas").inner_text()
    assert "封控区(1个)" in areas and home.name in areas
    assert "长春市新冠肺炎疫情防控工作领导小组通告(第8号)" in areas
    assert "登录" not in resident.locator("h1").inner_text()
