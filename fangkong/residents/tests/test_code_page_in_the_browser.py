"""The code page in a real browser (Debian's Chromium): a code the clock changes at midnight
reaches the open page from the stored row, with evaluation refused in the server; when the
renewal fails the page keeps the last signed code and says how old it is; the service worker
reopens the page with no network and forgets it all on signing out (issue 13)."""

from datetime import datetime, timedelta
from importlib import import_module

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from fangkong.clock.actions import do_sweep
from fangkong.ingest.tests.support import BJ, build_city, policy_source
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish
from fangkong.residents.session import SESSION_KEY
from fangkong.residents.tests.guards import no_evaluation
from fangkong.signing import keys

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
UNTESTED = "cc-2022-0420-untested"  # yellow from 23 April 00:00 for the unsampled
PUBLISHED = datetime(2022, 4, 21, 20, tzinfo=BJ)
MIDNIGHT = datetime(2022, 4, 23, tzinfo=BJ)
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}


@pytest.fixture(autouse=True)
def reference_data():
    """Transactional tests empty the database after each test: put the places back."""
    from fangkong.places.loading import load_divisions

    load_divisions()


def phone(browser, live_server, person, **options):
    """A phone signed in as the person (the session a one-time code would have made)."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = person.pk
    session.create()
    context = browser.new_context(**PHONE, **options)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": session.session_key,
                "url": live_server.url,
            }
        ]
    )
    return context


def code_page(context, live_server):
    page = context.new_page()
    page.clock.install()  # the page's timers run when the test says
    page.goto(f"{live_server.url}/r/")
    page.wait_for_selector("#qr svg")
    return page


def shown(page) -> dict:
    return page.evaluate(
        """() => ({
          colour: document.querySelector('#code .r-colour').dataset.colour,
          label: document.querySelector('#code .r-colour').textContent,
          token: document.getElementById('qr').dataset.token,
          issued: Number(document.getElementById('qr').dataset.issued),
          notice: document.getElementById('code-notice').hidden
            ? '' : document.getElementById('code-notice').textContent,
          changed: document.getElementById('code-changed').hidden
            ? '' : document.getElementById('code-changed').textContent,
        })"""
    )


def wait_until(page, condition, seconds=5):
    """Lets Playwright deliver the page's requests to the test's route until condition holds."""
    for _ in range(seconds * 10):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the page did not get there")


def hms(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, BJ).strftime("%H:%M:%S")


def test_a_code_the_clock_changes_at_midnight_reaches_the_open_page_unevaluated(
    browser, live_server
):
    city = build_city()
    do_publish(policy_source(UNTESTED), user=None, now=PUBLISHED)
    do_sweep(PUBLISHED)
    person = Person.objects.get(id_number=city.nanguan[20])  # never sampled
    with time_machine.travel(MIDNIGHT - timedelta(seconds=20), tick=True) as clock:
        with no_evaluation():
            # The worker is tested below; here its requests would only race the sweep's writes
            # (SQLite's in-memory test database locks a table a reader is on).
            context = phone(browser, live_server, person, service_workers="block")
            page = code_page(context, live_server)
            page.wait_for_load_state("networkidle")
            assert shown(page)["colour"] == "green"
        clock.move_to(MIDNIGHT + timedelta(seconds=2))
        do_sweep(timezone.now())  # the worker's sweep at the rule's instant
        with no_evaluation():
            page.clock.fast_forward("02:31")  # the QR's renewal is due
            page.wait_for_function(
                "() => document.querySelector('#code .r-colour').dataset.colour === 'yellow'"
            )
            renewed = shown(page)
            page.reload()
            page.wait_for_selector("#qr svg")
            text = page.inner_text("body")
        now = timezone.now()
    assert renewed["label"] == "黄码" and renewed["notice"] == ""
    assert renewed["changed"] == "健康码已更新为黄码,刷新页面查看原因"
    assert keys.verify(renewed["token"], now).claims["col"] == "yellow"
    assert "为什么是黄码" in text and "4月20日至22日未参加核酸检测人员赋黄码" in text
    assert "核酸检测结果为阴性" in text and "查看依据与解码" in text
    assert 'class="r-card code-yellow"' in page.content()


def test_when_the_server_is_busy_the_page_keeps_the_last_code_and_says_how_old_it_is(
    browser, live_server
):
    city = build_city()
    person = Person.objects.get(id_number=city.nanguan[0])
    busy = []

    def overloaded(route):
        busy.append(route.request.url)
        route.fulfill(
            status=503,
            headers={"Retry-After": "20", "Content-Type": "application/json"},
            body='{"error": "服务繁忙,请稍后再试"}',
        )

    # The server's clock and the page's move together.
    with time_machine.travel(timezone.now(), tick=True) as server_clock:

        def advance(seconds):
            server_clock.shift(seconds)
            page.clock.fast_forward(seconds * 1000)

        # Without the worker, so that the page itself meets the server's 503.
        context = phone(browser, live_server, person, service_workers="block")
        page = code_page(context, live_server)
        first = shown(page)
        page.route("**/r/code.json", overloaded)
        advance(151)  # the renewal is due
        page.wait_for_selector("#code-notice:not([hidden])")
        degraded = shown(page)
        assert busy and degraded["token"] == first["token"]
        assert degraded["notice"] == (
            f"网络繁忙,显示的是 {hms(first['issued'])} 更新的健康码。"
            f"二维码 {hms(first['issued'] + 180)} 前有效,卡口可离线核验。"
        )
        advance(21)  # asked again after Retry-After: still busy
        wait_until(page, lambda: len(busy) >= 2)
        advance(10)  # now past the token's expiry
        page.wait_for_function(
            "() => document.getElementById('code-notice').textContent.includes('已过期')"
        )
        assert "二维码已过期,需联网后刷新" in shown(page)["notice"]

        page.unroute("**/r/code.json")
        advance(21)
        page.wait_for_selector("#code-notice", state="hidden")
        assert shown(page)["issued"] >= first["issued"] + 180


def test_the_worker_reopens_the_last_code_offline_and_forgets_it_on_signing_out(
    browser, live_server
):
    city = build_city()
    person = Person.objects.get(id_number=city.nanguan[0])
    context = phone(browser, live_server, person)
    with time_machine.travel(timezone.now(), tick=True) as server_clock:
        page = code_page(context, live_server)
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        first = shown(page)
        server_clock.shift(151)
        page.clock.fast_forward(151_000)  # the page renews its QR through the worker
        page.wait_for_function(
            f"() => Number(document.getElementById('qr').dataset.issued) > {first['issued']}"
        )
        renewed = shown(page)
        context.set_offline(True)
        page.reload()
        page.wait_for_selector("#qr svg")
        page.wait_for_selector("#code-notice:not([hidden])")
        offline = shown(page)
    # The worker's copy of the renewal, newer than its copy of the page.
    assert offline["token"] == renewed["token"] != first["token"]
    assert f"网络繁忙,显示的是 {hms(renewed['issued'])} 更新的健康码" in offline["notice"]

    context.set_offline(False)
    page.reload()
    page.wait_for_selector("#qr svg")
    page.click("text=退出")
    page.wait_for_url("**/r/login/")
    page.wait_for_function(
        "async () => (await caches.keys()).every((name) => !name.startsWith('fk-resident-'))"
    )
