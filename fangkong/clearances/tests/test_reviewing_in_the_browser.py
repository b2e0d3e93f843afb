"""The review desk in a real browser (Debian's Chromium): a reviewer decides a request nobody
has started reviewing in one step, keeps the reason typed when a colleague decided first, and
reads the queue on a phone without scrolling sideways (issue 10, items 5 and 9)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from fangkong.accounts.models import Role
from fangkong.checkpoints.tests.test_gates_in_the_browser import (  # noqa: F401 (a fixture)
    PHONE,
    SCREENSHOTS,
    reference_data,
    staff_page,
)
from fangkong.clearances.actions import do_propose_override, do_review, do_submit
from fangkong.clearances.models import Clearance
from fangkong.ingest.tests.support import build_city, policy_source
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
POLICY = "cc-2022-0420-untested"
TITLE = "4月20日至22日未参加核酸检测人员赋黄码"


@pytest.fixture
def waiting(make_staff):
    """Requests of several channels waiting on the 南关区 desk, some of them for days."""
    now = timezone.now()
    city = build_city()
    do_publish(policy_source(POLICY), user=None, now=now - timedelta(days=3))
    make_staff(Role.DISTRICT_REVIEWER, ["220102"], username="reviewer")
    colleague = make_staff(Role.DISTRICT_REVIEWER, ["220102"], username="colleague")
    hotline = make_staff(Role.HOTLINE, username="operator")
    people = [Person.objects.get(id_number=n) for n in city.nanguan[:6]]
    channels = ["appeal", "hotline", "appeal", "hotline"]
    requests = [
        do_submit(
            person,
            POLICY,
            channel,
            now - timedelta(hours=50 - 10 * i),
            user=hotline if channel == "hotline" else None,
            description="4月21日在单位采样,未扫码",
        )
        for i, (person, channel) in enumerate(zip(people, channels, strict=False))
    ]
    do_propose_override(people[5], POLICY, colleague, now, "核实为方舱医院医护人员,院内采样")
    return requests


def desk(browser, **options):
    return browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)


def test_a_reviewer_approves_a_request_nobody_has_started_reviewing(browser, live_server, waiting):
    request = waiting[0]
    page = staff_page(desk(browser), live_server, "reviewer")
    page.goto(f"{live_server.url}/clearances/{request.pk}/")
    assert TITLE in page.inner_text("main")
    page.select_option("#d-action", "approve")
    page.fill("#d-reason", "核实采样点登记表,确有采样记录")
    page.click("#decide button[type=submit]")
    page.wait_for_load_state()
    assert "已通过" in page.inner_text("h1")
    assert "核实采样点登记表,确有采样记录" in page.inner_text("main")
    request.refresh_from_db()
    assert [s["action"] for s in request.steps] == ["submit", "start_review", "approve"]


def test_a_reason_typed_while_a_colleague_decides_is_not_lost(browser, live_server, waiting):
    request = waiting[1]
    page = staff_page(desk(browser), live_server, "reviewer")
    page.goto(f"{live_server.url}/clearances/{request.pk}/")
    why = "采样点当日无此人登记,请线上申诉并上传采样小票照片"
    page.select_option("#d-action", "reject")
    page.fill("#d-reason", why)
    # Meanwhile a colleague approves it.
    colleague = get_user_model().objects.get(username="colleague")
    do_review(request.pk, "approve", colleague, timezone.now(), "单位证明属实")
    page.click("#decide button[type=submit]")
    page.wait_for_load_state()
    assert "申请已通过,不能再不通过" in page.inner_text(".messages")
    assert page.input_value("#unsent textarea") == why
    assert Clearance.objects.get(pk=request.pk).decision_reason == "单位证明属实"


def test_the_review_queue_fits_a_phone_without_scrolling_sideways(browser, live_server, waiting):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for user in ("reviewer", "colleague"):  # the colleague's own override is listed too
        page = staff_page(browser.new_context(**PHONE), live_server, user)
        page.goto(f"{live_server.url}/clearances/")
        assert page.locator("#queue tbody tr").count() == len(waiting) + 1
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1] == PHONE["viewport"]["width"], widths
        # Every request is readable and opens with a tap.
        first = page.locator("#queue tbody tr").first
        assert first.locator("a").is_visible() and TITLE in first.inner_text()
        page.screenshot(path=SCREENSHOTS / f"queue-phone-{user}.png", full_page=True)
    assert "等待另一名工作人员批准" in page.inner_text("#my-overrides")
