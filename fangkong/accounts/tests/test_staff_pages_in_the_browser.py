"""Staff pages in a real browser (Debian's Chromium): a gate keeper's phone opens the verifier
under a short top bar; the command centre reads the colour totals on its home page; the icon
loads; a stale form is explained in Chinese (issue 10, items 8 and 9)."""

from datetime import datetime

import pytest
from django.utils import timezone

from fangkong.accounts.models import Role
from fangkong.checkpoints.actions import do_create_checkpoint
from fangkong.checkpoints.tests.test_gates_in_the_browser import (  # noqa: F401 (a fixture)
    PASSWORD,
    PHONE,
    reference_data,
)
from fangkong.checkpoints.tests.test_gates_in_the_browser import staff_page as signed_in
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.tests.support import BJ, REGISTERED, policy_source, resident_rows
from fangkong.places.queries import counties
from fangkong.policies.actions import do_publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# A small phone (375 × 667 CSS px is the smallest still common): what shows before scrolling.
SMALL_PHONE = {**PHONE, "viewport": {"width": 390, "height": 667}}


def box(page, selector) -> dict:
    return page.locator(selector).first.bounding_box()


def test_a_gate_keeper_s_phone_opens_the_verifier_under_a_short_top_bar(
    browser, live_server, make_staff
):
    every_district = list(counties().values_list("code", flat=True))
    make_staff(Role.CHECKPOINT, every_district, username="gate-keeper")
    checkpoint, _ = do_create_checkpoint(
        None,
        name="长春南收费站",
        type_code="public_place",
        county_code="220102",
        now=timezone.now(),
    )
    page = signed_in(browser.new_context(**SMALL_PHONE), live_server, "gate-keeper")
    bar = page.inner_text("header")
    assert "全市" in bar and "宽城区" not in bar and "公主岭市" not in bar
    assert box(page, "header")["height"] <= 110
    assert "登记居民" not in page.inner_text("main")
    button = box(page, "#my-checkpoints a.button")
    assert button["y"] + button["height"] <= SMALL_PHONE["viewport"]["height"]

    page.click("#my-checkpoints a.button")
    page.wait_for_selector("#verifier")
    assert page.url.endswith(f"/checkpoints/{checkpoint.pk}/verify/")
    assert box(page, "#verifier")["y"] <= 130  # right under the top bar, no district list
    verify = box(page, "#verify-button")
    assert verify["y"] + verify["height"] <= SMALL_PHONE["viewport"]["height"]


def test_the_command_centre_reads_the_colour_totals_with_thousands_separators(
    browser, live_server, make_staff
):
    rows = resident_rows("220102", "220102", 700, 1) + resident_rows("220104", "220104", 600, 1)
    assert do_ingest("residents", rows=rows, now=REGISTERED).inserted == 1_300
    do_publish(
        policy_source("cc-2022-0420-untested"), user=None, now=datetime(2022, 4, 23, tzinfo=BJ)
    )
    make_staff(Role.COMMAND_CENTRE, username="command")
    page = signed_in(browser.new_context(locale="zh-CN"), live_server, "command")
    totals = page.locator("#colour-totals")
    assert totals.is_visible()
    text = totals.inner_text()
    assert "绿码" in text and "黄码" in text and "红码" in text
    assert "1,300" in text  # everyone unsampled is yellow under the rule
    assert "1,300 名登记居民" in page.inner_text("main")

    icon = page.evaluate(
        """async () => {
            const link = document.querySelector('link[rel=icon][href$=".ico"]');
            const reply = await fetch(link.href);
            return [reply.status, reply.headers.get('content-type')];
        }"""
    )
    assert icon == [200, "image/x-icon"]


def test_a_stale_sign_in_form_is_explained_in_chinese_in_the_site_s_page(browser, live_server):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    context.clear_cookies()  # as if the session ended while the form stood open
    page.fill("input[name=username]", "zhang")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("button[type=submit]")
    assert posted.value.status == 403
    assert page.inner_text("h1") == "请刷新页面后重试"
    assert "本次提交没有生效" in page.inner_text("main")
    brand = page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor")
    assert brand == "rgb(163, 35, 27)"  # the site's own styles, not Django's bare page
