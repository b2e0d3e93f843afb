"""In a real browser (Debian's Chromium): a resident signs in on a phone and shows their QR; a
checkpoint verifies it online and offline, denies an expired or tampered one; an exit pass is
issued and checked at the compound gate. Screenshots are test artifacts in
var/artifacts/screenshots/ (FANGKONG_ARTIFACTS); the copies in docs/screenshots/ are from a run."""

import base64
import json
import os
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone

from fangkong.accounts.models import Role
from fangkong.checkpoints.actions import do_create_checkpoint
from fangkong.checkpoints.loading import load_checkpoint_types
from fangkong.checkpoints.models import GateScan
from fangkong.engine.gate_rules import LOCAL
from fangkong.ingest.tests.support import build_city, community, report_result, sample
from fangkong.places.models import CommunityZone
from fangkong.residents.models import OutboxMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = (
    Path(
        os.environ.get(
            "FANGKONG_ARTIFACTS", Path(__file__).resolve().parents[3] / "var" / "artifacts"
        )
    )
    / "screenshots"
)
PASSWORD = "correct-horse-battery"
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}


@pytest.fixture(autouse=True)
def reference_data():
    """Transactional tests empty the database after each test: put the places back."""
    from fangkong.places.loading import load_divisions

    load_divisions()
    load_checkpoint_types()


@pytest.fixture
def phone(browser):
    """phone() -> a new phone-sized browser context (closed after the test: conftest.py)."""
    return lambda: browser.new_context(**PHONE)


def sign_in_resident(context, live_server, id_number):
    page = context.new_page()
    page.goto(f"{live_server.url}/r/login/")
    page.fill("#id_id_number", id_number)
    page.click("button[type=submit]")
    page.wait_for_selector("#id_code")
    code = re.search(r"\d{6}", OutboxMessage.objects.order_by("-id").first().text).group()
    page.fill("#id_code", code)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def staff_page(context, live_server, username):
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()
    return page


def verify(page, token, direction=None):
    if direction:
        page.select_option("#direction", direction)
    page.fill("#token-input", token)
    page.evaluate("document.getElementById('result').dataset.outcome = ''")
    page.click("#verify-button")
    page.wait_for_function("() => document.getElementById('result').dataset.outcome !== ''")
    result = page.locator("#result")
    return {
        "outcome": result.get_attribute("data-outcome"),
        "mode": result.get_attribute("data-mode"),
        "text": result.inner_text(),
    }


DECODE = """async (b64) => {
  const image = new Image();
  image.src = "data:image/png;base64," + b64;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height);
  const found = jsQR(pixels.data, image.width, image.height);
  return found && found.data;
}"""


def decode_qr(page, png: bytes) -> str | None:
    return page.evaluate(DECODE, base64.b64encode(png).decode())


def open_verifier(context, live_server, checkpoint):
    page = staff_page(context, live_server, "gate-keeper")
    page.goto(f"{live_server.url}/checkpoints/{checkpoint.pk}/verify/")
    page.wait_for_selector("#verifier[data-ready=true]", state="attached")
    page.wait_for_function(
        "() => !document.getElementById('bundle-age').textContent.includes('正在')"
    )
    return page


def test_a_resident_shows_their_code_and_a_checkpoint_verifies_it_online_and_offline(
    phone, live_server, make_staff
):
    now = timezone.now()
    city = build_city()
    sample(city.nanguan[:10], "T-Y-1", "10", now - timedelta(hours=20))
    report_result("T-Y-1", "negative", now - timedelta(hours=9))
    make_staff(Role.CHECKPOINT, ["220102"], username="gate-keeper")
    checkpoint, _ = do_create_checkpoint(
        None, name="南关区欧亚商都", type_code="public_place", county_code="220102", now=now
    )

    resident = phone()
    page = sign_in_resident(resident, live_server, city.nanguan[0])
    page.wait_for_selector("#qr svg")
    text = page.inner_text("body")
    assert "绿码" in text and "24小时内核酸阴性" in text and "20小时前" in text
    assert re.search(r"\*+\d", text) and "220102********" in text
    clock = page.inner_text("#clock")
    page.wait_for_timeout(1100)
    assert page.inner_text("#clock") != clock  # a live clock, not a screenshot
    page.screenshot(path=str(SCREENSHOTS / "resident-code.png"), full_page=True)
    token = page.get_attribute("#qr", "data-token")
    qr_png = page.locator("#qr svg").screenshot()

    staff = phone()
    verifier = open_verifier(staff, live_server, checkpoint)
    # What the camera path does with a frame: the vendored jsQR reads the QR as rendered.
    assert decode_qr(verifier, qr_png) == token
    online = verify(verifier, token)
    assert (online["outcome"], online["mode"]) == ("pass", "online")
    assert "通过" in online["text"]
    verifier.screenshot(path=str(SCREENSHOTS / "checkpoint-verify.png"), full_page=True)

    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    denied = verify(verifier, tampered)
    assert denied["outcome"] == "deny" and "签名校验失败" in denied["text"]

    staff.set_offline(True)
    offline = verify(verifier, token)
    assert (offline["outcome"], offline["mode"]) == ("pass", "offline")
    assert verifier.get_attribute("#queue-count", "data-count") == "1"
    queue = verifier.evaluate(
        "Object.entries(localStorage).find(([k]) => k.startsWith('fk.verifier.queue'))"
    )
    staff.set_offline(False)
    verifier.wait_for_function("() => document.getElementById('queue-count').dataset.count === '0'")
    scans = GateScan.objects.filter(checkpoint=checkpoint)
    assert scans.filter(mode="offline").count() == 1
    assert scans.count() == 3  # online pass, tampered deny, offline pass

    # The same queue uploaded again (a device restored from a backup): nothing new is logged.
    uploads = []
    verifier.on("requestfinished", lambda r: uploads.append(r) if "/scans" in r.url else None)
    verifier.evaluate("([k, v]) => localStorage.setItem(k, v)", queue)
    verifier.reload()  # the page uploads its queue when it opens online
    verifier.wait_for_selector("#verifier[data-ready=true]", state="attached")
    verifier.wait_for_function("() => document.getElementById('queue-count').dataset.count === '0'")
    assert uploads and json.loads(uploads[0].response().body())["duplicates"] == 1
    assert GateScan.objects.filter(checkpoint=checkpoint).count() == 3


def test_an_expired_qr_is_denied_at_the_checkpoint(phone, live_server, make_staff):
    from fangkong.codes.tokens import issue_code_token
    from fangkong.people.models import Person
    from fangkong.testing.queries import person_testing_state

    now = timezone.now()
    city = build_city()
    make_staff(Role.CHECKPOINT, ["220102"], username="gate-keeper")
    checkpoint, _ = do_create_checkpoint(
        None, name="南关区欧亚商都", type_code="public_place", county_code="220102", now=now
    )
    person = Person.objects.get(id_number=city.nanguan[0])
    earlier = now - timedelta(minutes=10)
    old = issue_code_token(person, "green", person_testing_state(person.pk, earlier), earlier)
    verifier = open_verifier(phone(), live_server, checkpoint)
    answer = verify(verifier, old.token)
    assert answer["outcome"] == "deny" and "二维码已过期" in answer["text"]


def test_an_exit_pass_is_issued_in_a_prevention_zone_and_checked_at_the_compound_gate(
    phone, live_server, make_staff
):
    from fangkong.exits.actions import load_default_rules

    # Exit passes are issued 06:00–20:00: the server's clock is set to a morning.
    today = timezone.now().astimezone(LOCAL).date()
    morning = datetime(today.year, today.month, today.day, 9, tzinfo=LOCAL)
    with time_machine.travel(morning, tick=True):
        load_default_rules(morning - timedelta(days=1))
        city = build_city()
        home = community("220102")
        CommunityZone.objects.create(
            community=home,
            level="prevention",
            start_at=morning - timedelta(days=2),
            recorded_at=morning - timedelta(days=2),
            decided_by="南关区指挥部",
        )
        sample(city.nanguan[:10], "T-X-1", "10", morning - timedelta(hours=20))
        report_result("T-X-1", "negative", morning - timedelta(hours=10))
        make_staff(Role.CHECKPOINT, ["220102"], username="gate-keeper")
        gate, _ = do_create_checkpoint(
            None,
            name="小区门岗",
            type_code="compound_gate",
            county_code="220102",
            community=home,
            now=morning,
        )

        resident = phone()
        page = sign_in_resident(resident, live_server, city.nanguan[0])
        page.goto(f"{live_server.url}/r/exit/")
        page.click("button:has-text('申请通行码')")
        page.wait_for_selector(".r-qr[data-token] svg")
        assert "已签发通行码" in page.inner_text("body")
        page.screenshot(path=str(SCREENSHOTS / "resident-exit-pass.png"), full_page=True)
        exit_token = page.get_attribute(".r-qr[data-token]", "data-token")

        verifier = open_verifier(phone(), live_server, gate)
        out = verify(verifier, exit_token, direction="exit")
        assert out["outcome"] == "pass", out["text"]
        verifier.screenshot(path=str(SCREENSHOTS / "compound-gate.png"), full_page=True)
        twice = verify(verifier, exit_token, direction="exit")
        assert twice["outcome"] == "deny"
        back = verify(verifier, exit_token, direction="return")
        assert back["outcome"] == "pass", back["text"]

        neighbour = sign_in_resident(phone(), live_server, city.nanguan[20])
        neighbour.goto(f"{live_server.url}/r/exit/")  # not sampled: no pass, and why
        assert "无48小时内核酸阴性记录" in neighbour.inner_text("body")
        assert neighbour.locator("button:has-text('申请通行码')").count() == 0
    log = list(GateScan.objects.filter(checkpoint=gate).order_by("scanned_at"))
    assert [(s.direction, s.outcome) for s in log] == [
        ("exit", "pass"),
        ("exit", "deny"),
        ("return", "pass"),
    ]
    assert json.dumps(log[0].reasons) == "[]"


def test_the_verifier_page_opens_again_with_no_network_and_still_verifies(
    phone, live_server, make_staff
):
    from fangkong.codes.tokens import issue_code_token
    from fangkong.people.models import Person
    from fangkong.testing.queries import person_testing_state

    now = timezone.now()
    city = build_city()
    make_staff(Role.CHECKPOINT, ["220102"], username="gate-keeper")
    checkpoint, _ = do_create_checkpoint(
        None, name="南关区欧亚商都", type_code="public_place", county_code="220102", now=now
    )
    person = Person.objects.get(id_number=city.nanguan[0])
    token = issue_code_token(person, "green", person_testing_state(person.pk, now), now).token
    context = phone()
    verifier = open_verifier(context, live_server, checkpoint)
    verifier.evaluate("navigator.serviceWorker.ready.then(() => true)")
    verifier.reload()  # now under the service worker's control, which keeps the page
    verifier.wait_for_function("() => navigator.serviceWorker.controller !== null")
    context.set_offline(True)
    verifier.reload()
    verifier.wait_for_selector("#verifier[data-ready=true]", state="attached")
    answer = verify(verifier, token)
    assert (answer["outcome"], answer["mode"]) == ("pass", "offline")


def test_the_qr_renews_itself_before_it_expires(phone, live_server, settings):
    settings.CODE_TOKEN_TTL_SECONDS = 20  # renewed every 15 s (the page asks 30 s early, min 15)
    city = build_city()
    page = sign_in_resident(phone(), live_server, city.nanguan[0])
    page.wait_for_selector("#qr svg")
    first = page.get_attribute("#qr", "data-token")
    page.wait_for_function(
        f"() => document.getElementById('qr').dataset.token !== {json.dumps(first)}", timeout=25_000
    )
    page.wait_for_selector("#qr svg")
    renewed = page.get_attribute("#qr", "data-token")
    page.add_script_tag(url=f"{live_server.url}/static/fangkong/vendor/jsQR-1.4.0.js")
    assert decode_qr(page, page.locator("#qr svg").screenshot()) == renewed
