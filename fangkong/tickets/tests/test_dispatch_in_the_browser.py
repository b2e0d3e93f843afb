"""In a real browser: 天合富奥's own account raises a problem (its returning workers have nowhere
to stay), the 综合协调组 assigns it to the 员工返岗协调组 — suggested by the category — as
urgent, a member of that group solves it with what was done, and the day's dispatch shows it
solved in that group's row; the enterprise sees the resolution and the history."""

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


def test_dispatching_a_ticket_in_the_browser(browser, live_server, make_staff):
    from fangkong.tickets.models import Ticket
    from fangkong.tickets.tests.support import make_desk

    desk = make_desk(make_staff)
    errors = []

    plant = signed_in(browser, live_server, "tianhe")
    plant.on("pageerror", lambda error: errors.append(str(error)))
    plant.goto(f"{live_server.url}/tickets/")
    plant.click("#raise-link")
    plant.select_option("#id_category", "housing")
    plant.fill("#id_description", "返岗员工380人无处住宿,厂区不具备闭环住宿条件")
    plant.fill("#id_contact_name", "王伟")
    plant.fill("#id_contact_phone", "王经理手机")  # not a number
    plant.click("#raise-form button[type=submit]")
    assert "联系电话" in plant.locator(".form-errors").inner_text()
    plant.fill("#id_contact_phone", "13904310001")
    plant.click("#raise-form button[type=submit]")
    assert plant.locator("#ticket-status").inner_text() == "待分派"
    ticket = Ticket.objects.get()
    assert ticket.channel == "enterprise" and ticket.enterprise == desk.enterprise

    coordinator = signed_in(browser, live_server, "zonghe")
    coordinator.goto(f"{live_server.url}/tickets/")
    coordinator.click(f"text={ticket.number}")
    assert coordinator.locator("#assign-form #id_group").input_value() == "staff_return"
    coordinator.select_option("#assign-form #id_priority", "urgent")
    coordinator.fill("#assign-form #id_note", "请员工返岗协调组协调周边空闲楼宇")
    coordinator.click("#assign-form button[type=submit]")
    assert coordinator.locator("#ticket-group").inner_text() == "员工返岗协调组"
    assert coordinator.locator("#ticket-status").inner_text() == "办理中"

    member = signed_in(browser, live_server, "fangang")
    member.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    member.click("#solve-form button[type=submit]")  # without a resolution
    assert "办理结果" in member.locator("#solve-form .form-errors").inner_text()
    member.fill("#id_solve-text", "协调周边空闲楼宇,妥善安置返岗员工380人")
    member.click("#solve-form button[type=submit]")
    assert member.locator("#ticket-status").inner_text() == "已解决"

    member.goto(f"{live_server.url}/tickets/dispatch/")
    row = member.locator('#day-groups tr[data-group="staff_return"]')
    assert row.locator("td.solved").inner_text() == "1"
    assert member.locator("#day-solved").inner_text() == "1"
    assert member.locator("#total-solved").inner_text() == "1"

    plant.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    assert "妥善安置返岗员工380人" in plant.locator("#ticket-resolution").inner_text()
    history = plant.locator("#ticket-history").inner_text()
    assert "分派" in history and "办结" in history
    assert errors == []
