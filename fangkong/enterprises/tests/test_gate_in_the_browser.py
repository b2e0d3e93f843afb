"""In a real browser: the guard at a plant gate registers a returning worker by ID number — a
negative sampled ten hours ago, so admitted and sent to the buffer zone —, sends the same form
twice without a second registration, refuses one whose last negative is three days old with the
reason in big type, and logs a lorry's disinfection; the plant's liaison sees the buffer zone."""

from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def divisions():
    """Transactional tests empty the database after each test: put the places and the
    checkpoint types back."""
    from fangkong.checkpoints.loading import load_checkpoint_types
    from fangkong.places.loading import load_divisions

    load_divisions()
    load_checkpoint_types()


def signed_in(browser, live_server, username):
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    return page


def register(page, id_number, temperature="36.5"):
    page.fill("#entry-scan", id_number)
    page.select_option("#entry-antigen", "negative")
    page.fill("#entry-temperature", temperature)
    page.select_option("#entry-mask", "yes")
    page.click("#entry-form button[type=submit]")


def test_a_gate_registration_in_the_browser(browser, live_server, make_staff):
    from fangkong.engine.id_numbers import mask
    from fangkong.enterprises.gate import do_create_plant_gate
    from fangkong.enterprises.models import GateEntry, VehicleDisinfection
    from fangkong.enterprises.tests.test_gate import make_enterprise, negative_pcr
    from fangkong.ingest.tests.support import build_city

    city = build_city()
    now = timezone.now()
    negative_pcr([city.nanguan[0]], now - timedelta(hours=10), "T-B-1", timedelta(hours=4))
    negative_pcr([city.nanguan[1]], now - timedelta(days=3), "T-B-2", timedelta(hours=4))
    enterprise = make_enterprise()
    gate, _ = do_create_plant_gate(None, enterprise, name="1号门", now=now)
    make_staff("checkpoint", ["220102"], username="guard")
    liaison = make_staff("employer", username="liaison")
    liaison.staff.enterprise = enterprise
    liaison.staff.save()

    guard = signed_in(browser, live_server, "guard")
    errors = []
    guard.on("pageerror", lambda error: errors.append(str(error)))
    guard.goto(f"{live_server.url}/enterprises/gates/{gate.checkpoint_id}/")
    register(guard, city.nanguan[0])
    assert guard.locator("#verdict-outcome").inner_text() == "准予入厂"
    assert "新返岗人员" in guard.locator("#verdict").inner_text()
    assert mask(city.nanguan[0]) in guard.locator("#verdict").inner_text()
    guard.go_back()  # the same form, its scan id, sent again
    register(guard, city.nanguan[0])
    assert guard.locator("#verdict-repeated").is_visible()
    assert GateEntry.objects.filter(admitted=True).count() == 1

    register(guard, city.nanguan[1])
    assert guard.locator("#verdict-outcome").inner_text() == "不予入厂"
    assert guard.locator("#verdict-reasons").inner_text().startswith("无48小时内核酸阴性结果")
    assert "不予准入" in guard.locator("#recent").inner_text()
    assert city.nanguan[1] not in guard.locator("#recent").inner_text()

    register(guard, "220102198001010013")  # a mistyped check character
    assert "身份证号校验位错误" in guard.locator("#gate-error").inner_text()

    guard.click("text=车辆消杀")
    guard.fill("#vehicle-plate", "吉A·8H123")
    guard.fill("#vehicle-method", "含氯消毒剂喷洒")
    guard.fill("#vehicle-by", "王师傅")
    guard.click("#vehicle-form button[type=submit]")
    assert "已登记车辆消杀:吉A8H123" in guard.locator("#vehicle-done").inner_text()
    assert VehicleDisinfection.objects.get().plate == "吉A8H123"
    assert errors == []

    plant = signed_in(browser, live_server, "liaison")
    plant.goto(f"{live_server.url}/enterprises/{enterprise.pk}/buffer/")
    assert plant.locator("#buffer-count").inner_text() == "1"
    assert "入厂后尚未采样" in plant.locator("#buffer-list").inner_text()
