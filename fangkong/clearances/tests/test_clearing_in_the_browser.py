"""Each way of clearing a wrongly assigned code, end to end in a real browser (Debian's Chromium):
the resident's appeal with a file, the hotline call, the employer's list; a district reviewer
approves and the resident's page turns green. Screenshots go to var/artifacts/screenshots/."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from fangkong.accounts.models import Role, StaffProfile
from fangkong.checkpoints.tests.test_gates_in_the_browser import (
    PHONE,
    SCREENSHOTS,
    sign_in_resident,
    staff_page,
)
from fangkong.ingest.tests.support import build_city, policy_source, report_result, sample
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
POLICY = "cc-2022-0420-untested"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def city(transactional_db, make_staff):
    """A city where the untested rule makes everybody yellow, and the staff of each channel."""
    from fangkong.places.loading import load_divisions

    load_divisions()
    built = build_city()
    do_publish(policy_source(POLICY), user=None, now=timezone.now() - timedelta(days=1))
    make_staff(Role.DISTRICT_REVIEWER, ["220102"], username="reviewer")
    make_staff(Role.HOTLINE, username="operator")
    liaison = make_staff(Role.EMPLOYER, username="liaison")
    StaffProfile.objects.filter(user=liaison).update(organisation="长春一汽富维")
    return built


@pytest.fixture
def phone(browser):
    return lambda: browser.new_context(**PHONE)


@pytest.fixture
def desk(browser):
    return lambda: browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")


def approve_on_the_desk(context, live_server, clearance_text: str, shot: str):
    """The 南关 reviewer opens the queue, the request, its evidence, and approves it."""
    page = staff_page(context, live_server, "reviewer")
    page.goto(f"{live_server.url}/clearances/")
    page.locator("tbody tr", has_text=clearance_text).locator("a").first.click()
    page.wait_for_load_state()
    page.select_option("#d-action", "start_review")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    page.select_option("#d-action", "approve")
    page.fill("#d-reason", "核实采样点登记表,确有采样记录")
    page.screenshot(path=SCREENSHOTS / shot, full_page=True)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "已通过" in page.inner_text("h1")
    return page


def resident_colour(page, live_server) -> str:
    page.goto(f"{live_server.url}/r/")
    return page.locator(".r-colour").get_attribute("data-colour")


def test_a_resident_appeals_with_a_file_and_turns_green_when_approved(
    city, live_server, phone, desk
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    resident = sign_in_resident(phone(), live_server, city.nanguan[0])
    assert resident_colour(resident, live_server) == "yellow"
    resident.click("text=查看依据与解码")
    resident.fill("#appeal-description", "4月21日上午在小区采样点采样,当时手机没电没有扫码")
    resident.set_input_files(
        "#appeal-files", files=[{"name": "采样凭证.png", "mimeType": "image/png", "buffer": PNG}]
    )
    resident.click("#appeal-form button[type=submit]")
    resident.wait_for_load_state()
    assert "申诉已提交" in resident.content()
    resident.screenshot(path=SCREENSHOTS / "appeal-submitted.png", full_page=True)

    reviewer = approve_on_the_desk(desk(), live_server, "线上申诉", "appeal-review.png")
    with reviewer.expect_popup() as opened:
        reviewer.click("text=采样凭证.png")
    assert opened.value.url.endswith("/")  # served by the checked view, not a static path
    assert resident_colour(resident, live_server) == "green"
    resident.screenshot(path=SCREENSHOTS / "appeal-green.png", full_page=True)


def test_a_hotline_call_opens_a_request_the_caller_follows_until_it_is_approved(
    city, live_server, phone, desk
):
    operator = staff_page(desk(), live_server, "operator")
    operator.goto(f"{live_server.url}/clearances/hotline/")
    operator.fill("#q", city.nanguan[1])
    operator.click("main form button[type=submit]")
    operator.wait_for_load_state()
    assert city.nanguan[1] not in operator.content()  # masked
    operator.locator("main table a", has_text="接听处理").first.click()
    operator.wait_for_load_state()
    operator.fill("textarea[name=notes]", "来电称4月22日在单位采样未扫码,已核对单位名单")
    operator.select_option("select[name=policy]", POLICY)
    operator.screenshot(path=SCREENSHOTS / "hotline-call.png", full_page=True)
    operator.click("main form button[type=submit]")
    operator.wait_for_load_state()

    caller = sign_in_resident(phone(), live_server, city.nanguan[1])
    caller.goto(f"{live_server.url}/r/clear/{POLICY}/")
    card = caller.locator("[data-clearance]").first
    assert "12345热线" in card.inner_text() and card.get_attribute("data-status") == "submitted"

    approve_on_the_desk(desk(), live_server, "12345热线", "hotline-review.png")
    assert resident_colour(caller, live_server) == "green"


def test_an_employer_uploads_a_list_and_the_reviewer_approves_the_batch(
    city, live_server, phone, desk
):
    from datetime import datetime

    from fangkong.engine.gate_rules import LOCAL

    worker = Person.objects.get(id_number=city.nanguan[2])
    worker.employer = "长春一汽富维"
    worker.save(update_fields=["employer"])
    when = datetime(2022, 4, 21, 9, 30, tzinfo=LOCAL)
    sample([city.nanguan[3]], "T-NEIGHBOUR", 1, when)  # the site operated that morning
    report_result("T-NEIGHBOUR", "negative", when + timedelta(hours=8))
    rows = (
        f"身份证号,姓名,采样点,采样时间\n{worker.id_number},{worker.name},S-NG-1,2022-04-21 09:35\n"
    )
    rows += f"{city.nanguan[4]},居民5,S-NG-1,2022-04-21 09:40\n"  # not their employee

    liaison = staff_page(desk(), live_server, "liaison")
    liaison.goto(f"{live_server.url}/clearances/batches/new/")
    liaison.select_option("select[name=policy]", POLICY)
    liaison.set_input_files(
        "input[name=rows]",
        files=[{"name": "名单.csv", "mimeType": "text/csv", "buffer": rows.encode()}],
    )
    liaison.set_input_files(
        "input[name=document]",
        files=[{"name": "单位证明.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    liaison.click("main form button[type=submit]")
    liaison.wait_for_load_state()
    assert "正在处理" in liaison.content()  # the rows are checked by the worker
    call_command("db_worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    liaison.wait_for_url(re.compile(r"/clearances/batches/\d+/$"))  # the page polls, then moves
    text = liaison.content()
    assert "登记的员工不符" in text and "已受理" in text
    liaison.screenshot(path=SCREENSHOTS / "employer-batch.png", full_page=True)
    batch_url = liaison.url

    reviewer = staff_page(desk(), live_server, "reviewer")
    reviewer.goto(batch_url)
    reviewer.check("input[name=scope][value=all]")
    reviewer.select_option("#b-action", "approve")
    reviewer.fill("#b-reason", "单位证明与采样点登记一致")
    reviewer.screenshot(path=SCREENSHOTS / "employer-batch-review.png", full_page=True)
    reviewer.click("main form button[type=submit]")
    reviewer.wait_for_load_state()
    worker_phone = sign_in_resident(phone(), live_server, worker.id_number)
    assert resident_colour(worker_phone, live_server) == "green"
    assert get_user_model().objects.filter(username="liaison").exists()
