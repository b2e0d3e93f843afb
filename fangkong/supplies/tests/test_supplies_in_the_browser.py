"""In a real browser: a closed-loop enterprise's account asks for vegetables and daily goods,
is told which field is wrong when the unit does not fit, the supply officer delivers part of it,
and the enterprise confirms the delivery it received."""

import pytest

from fangkong.supplies.models import Delivery, SupplyRequest

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


def test_a_closed_loop_firm_requests_supplies_and_confirms_delivery(
    browser, live_server, make_staff
):
    from fangkong.supplies.tests.support import NANGUAN, account_of, enterprise

    firm = enterprise()
    account_of(make_staff, firm, "jiefang")
    make_staff("supply_officer", [NANGUAN], "officer")

    page = signed_in(browser, live_server, "jiefang")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/supplies/requests/")
    page.click("#new-request")
    page.select_option("#r-category", "living")
    page.select_option("#item-0", "vegetables")
    page.fill("#quantity-0", "0.5")
    page.select_option("#unit-0", "套")
    page.click("#request-form button[type=submit]")
    assert "第1项单位:套不是该物资的计量单位" in page.locator("#form-errors").inner_text()
    page.select_option("#unit-0", "吨")
    page.select_option("#item-1", "daily_goods")
    page.fill("#quantity-1", "380")
    page.select_option("#unit-1", "份")
    page.click("#request-form button[type=submit]")
    assert page.locator("#request-state").inner_text() == "待配送"
    asked = SupplyRequest.objects.get(enterprise=firm)
    assert asked.items.count() == 2

    officer = signed_in(browser, live_server, "officer")
    officer.goto(f"{live_server.url}/supplies/requests/{asked.pk}/")
    vegetables = asked.items.get(item="vegetables")
    officer.fill(f"#line-{vegetables.pk}", "0.3")
    officer.fill("#d-supplier", "新区物资保障协调组")
    officer.select_option("#d-funding", "donated")
    officer.click("#delivery-form button[type=submit]")
    assert officer.locator("#request-state").inner_text() == "部分配送"
    assert officer.locator("button.confirm").count() == 0  # the deliverer does not confirm

    page.reload()
    assert "蔬菜 0.3吨" in page.locator("#deliveries").inner_text()
    page.click("#deliveries button.confirm")
    assert "已确认" in page.locator("#deliveries").inner_text()
    delivery = Delivery.objects.get()
    assert delivery.confirmed_by.username == "jiefang"
    assert errors == []
