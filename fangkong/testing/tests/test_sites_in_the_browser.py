"""In a real browser (Debian's Chromium): a district officer creates a testing site, choosing its
community from the suggestions by name, then finds it in the list by a part of its name."""

import pytest

from fangkong.checkpoints.tests.test_gates_in_the_browser import (  # noqa: F401 (a fixture)
    SCREENSHOTS,
    reference_data,
)
from fangkong.checkpoints.tests.test_gates_in_the_browser import staff_page as signed_in
from fangkong.ingest.tests.support import community
from fangkong.testing.models import TestingSite

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_district_officer_creates_a_site_and_finds_it_in_the_list(
    browser, live_server, make_staff
):
    home = community("220102")
    make_staff("district_reviewer", ["220102"], username="nanguan")
    page = signed_in(browser.new_context(locale="zh-CN"), live_server, "nanguan")
    page.goto(f"{live_server.url}/ingest/sites/")
    page.click("text=新建采样点")
    page.fill("#id_code", "NG-0425-01")
    page.fill("#id_name", "南关区自由大路便民采样屋")
    # The officer knows the community by name: the suggestions carry the codes.
    suggestion = page.locator(f"datalist#communities option[value='{home.code}']")
    assert home.name in suggestion.inner_text()
    page.fill("#id_community_code", home.code)
    page.fill("#id_address", "自由大路1000号")
    page.select_option("#id_kind", "fixed")
    page.click("#site-form button[type=submit]")
    page.wait_for_load_state()
    assert "已创建采样点 NG-0425-01" in page.inner_text(".messages")
    assert home.name in page.inner_text("main") and "南关区" in page.inner_text("main")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "testing-site.png"), full_page=True)

    page.goto(f"{live_server.url}/ingest/sites/")
    page.fill("#q", "便民采样屋")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    row = page.locator("tbody tr")
    assert row.count() == 1
    assert "NG-0425-01" in row.inner_text() and "开放" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "testing-sites.png"), full_page=True)
    row.locator("a").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/ingest/sites/{TestingSite.objects.get().pk}/")
