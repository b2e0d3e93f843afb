"""In a real browser (Debian's Chromium): an enterprise's account applies for a vehicle pass on
the form, the officer approves it and issues the batch, the pass page shows its QR; at a road
checkpoint the verifier, with the network cut, accepts the pass from its cached key set, then
checks that the code shown next is the driver's own and green, and refuses a revoked pass."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fangkong.accounts.models import Role
from fangkong.checkpoints.actions import do_create_checkpoint
from fangkong.checkpoints.loading import load_checkpoint_types
from fangkong.checkpoints.tests.support import token_for
from fangkong.checkpoints.tests.test_gates_in_the_browser import (
    PHONE,
    decode_qr,
    open_verifier,
    staff_page,
    verify,
)
from fangkong.engine.gate_rules import LOCAL
from fangkong.ingest.tests.support import build_city
from fangkong.passes.actions import do_decide, do_issue_batch, do_revoke
from fangkong.passes.models import VehiclePass
from fangkong.passes.tests.support import apply, enterprise_account, make_enterprise

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def reference_data():
    """Transactional tests empty the database after each test: put the places back."""
    from fangkong.places.loading import load_divisions

    load_divisions()
    load_checkpoint_types()


def local_input(moment) -> str:
    return moment.astimezone(LOCAL).strftime("%Y-%m-%dT%H:%M")


def test_an_enterprise_applies_an_officer_approves_and_the_batch_brings_the_qr(
    browser, live_server, make_staff
):
    city = build_city()
    enterprise = make_enterprise()
    enterprise_account(make_staff, enterprise, username="qiye")
    make_staff(Role.PASS_OFFICER, ["220102"], username="zhuanyuan")
    now = timezone.now()

    page = staff_page(browser.new_context(**PHONE), live_server, "qiye")
    page.goto(f"{live_server.url}/passes/apply/")
    page.fill("#id_plate", "吉A·12345")
    page.select_option("#id_vehicle_type", "cold_chain")
    page.fill("#id_driver_id_number", city.nanguan[4])
    page.fill("#id_driver_phone", "1390431")
    page.fill("#id_origin", "南关区一汽解放长春工厂")
    page.fill("#id_destination", "长春汽车经济技术开发区")
    page.fill("#id_cargo", "冷链食品")
    page.fill("#id_valid_from", local_input(now))
    page.fill("#id_valid_until", local_input(now + timedelta(days=5)))
    page.click("#apply-form button[type=submit]")
    page.wait_for_load_state()
    assert "驾驶员电话:应为11位手机号" in page.inner_text("#form-errors")
    page.fill("#id_driver_phone", "13904310004")
    page.click("#apply-form button[type=submit]")
    page.wait_for_selector("#pass-status")
    assert page.inner_text("#pass-status") == "待处理"
    vp = VehiclePass.objects.get()
    assert vp.plate == "吉A12345" and vp.applied_by.username == "qiye"

    officer = staff_page(browser.new_context(), live_server, "zhuanyuan")
    officer.goto(f"{live_server.url}/passes/")
    assert "吉A12345" in officer.inner_text("#pass-queue")
    officer.click("#pass-queue a.mono")
    officer.select_option("#id_decision", "approve")
    officer.click("#decide-form button[type=submit]")
    officer.wait_for_selector("#pass-decision")
    officer.goto(f"{live_server.url}/passes/batches/")
    assert officer.inner_text("#waiting-count") == "1"
    officer.click("#issue-form button[type=submit]")
    officer.wait_for_selector("#batch-list")
    assert "第1批" in officer.inner_text("#batch-list")

    page.goto(f"{live_server.url}/passes/{vp.pk}/")
    page.wait_for_selector("#pass-qr svg")
    assert page.inner_text("#pass-status") == "已发放"
    assert page.inner_text("#pass-number") == "吉车证000001"
    png = page.locator("#pass-qr svg").screenshot()
    vp.refresh_from_db()
    # The verifier page's own QR reader (vendored jsQR) reads the pass as rendered.
    make_staff(Role.CHECKPOINT, ["220102"], username="gate-keeper")
    checkpoint, _ = do_create_checkpoint(
        None, name="长春南收费站", type_code="road_checkpoint", county_code="220102", now=now
    )
    reader = open_verifier(browser.new_context(), live_server, checkpoint)
    assert decode_qr(reader, png) == vp.token


def test_offline_a_road_checkpoint_checks_the_pass_then_the_drivers_own_code(
    browser, live_server, make_staff
):
    city = build_city()
    now = timezone.now()
    enterprise = make_enterprise()
    account = enterprise_account(make_staff, enterprise)
    officer = make_staff(Role.PASS_OFFICER, ["220102"])
    good = apply(account, enterprise, city.nanguan[0], now - timedelta(hours=2))
    revoked = apply(
        account, enterprise, city.nanguan[1], now - timedelta(hours=2), plate="吉B54321"
    )
    for vp in (good, revoked):
        do_decide(officer, vp, approve=True, reason="", now=now - timedelta(hours=1))
    do_issue_batch(officer, now=now - timedelta(minutes=30))
    do_revoke(officer, revoked, reason="车辆转作他用", now=now - timedelta(minutes=10))
    good.refresh_from_db()
    revoked.refresh_from_db()
    make_staff(Role.CHECKPOINT, ["220102"], username="gate-keeper")
    checkpoint, _ = do_create_checkpoint(
        None, name="长春南收费站", type_code="road_checkpoint", county_code="220102", now=now
    )
    context = browser.new_context(**PHONE)
    verifier = open_verifier(context, live_server, checkpoint)
    # The bundle and the revoked passes are in (both are fetched before the bundle is kept).
    verifier.wait_for_function(
        "() => document.getElementById('bundle-age').textContent.includes('公钥更新于')"
    )
    context.set_offline(True)

    first = verify(verifier, good.token)
    assert (first["outcome"], first["mode"]) == ("pass", "offline"), first["text"]
    assert "吉A12345" in first["text"] and "请驾驶员随即出示本人健康码" in first["text"]
    driver = verify(verifier, token_for(city.nanguan[0], timezone.now()))
    assert (driver["outcome"], driver["mode"]) == ("pass", "offline")
    assert "驾驶员健康码" in driver["text"]

    verify(verifier, good.token)
    stranger = verify(verifier, token_for(city.nanguan[5], timezone.now()))
    assert stranger["outcome"] == "deny"
    assert "健康码不是通行证登记的驾驶员本人" in stranger["text"]

    verify(verifier, good.token)
    yellow = verify(verifier, token_for(city.nanguan[0], timezone.now(), colour="yellow"))
    assert yellow["outcome"] == "deny" and "健康码为黄码,此处要求绿码" in yellow["text"]

    refused = verify(verifier, revoked.token)
    assert (refused["outcome"], refused["mode"]) == ("deny", "offline")
    assert "通行证已吊销" in refused["text"]
