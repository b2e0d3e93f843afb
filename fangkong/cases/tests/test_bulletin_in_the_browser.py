"""In a real browser: a district reviewer classifies a pending case and adds two of its contacts
from its page — the close contact's code turns red and the secondary contact's yellow, under the
policies the city publishes; the command centre drafts, approves and publishes the day's
bulletin, its trend drawn; a resident, signed out, reads it on the public page."""

from datetime import datetime

import pytest
from django.utils import timezone

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


def test_classify_add_contacts_publish_then_the_public_reads_it(browser, live_server, make_staff):
    from fangkong.cases.actions import do_open_case
    from fangkong.cases.figures import BEIJING
    from fangkong.cases.models import Bulletin
    from fangkong.ingest.tests.support import build_city, policy_source
    from fangkong.people.models import Person
    from fangkong.policies.actions import do_publish

    city = build_city()
    for rule in ("std-close-contact-red", "std-secondary-contact-yellow"):
        do_publish(policy_source(rule), user=None, now=datetime(2022, 4, 1, tzinfo=BEIJING))
    case = do_open_case(None, Person.objects.get(id_number=city.nanguan[0]), now=timezone.now())
    make_staff("district_reviewer", ["220102"], username="nanguan")
    make_staff("command_centre", username="centre")

    reviewer = signed_in(browser, live_server, "nanguan")
    reviewer.goto(f"{live_server.url}/cases/")
    assert "待分类" in reviewer.locator("#case-list").inner_text()
    reviewer.click(f"text=#{case.pk}")
    reviewer.select_option("#classify-kind", "confirmed")
    reviewer.select_option("#classify-type", "ordinary")
    reviewer.select_option("#classify-found", "community")
    reviewer.click("button:has-text('分类')")
    assert "已登记:确诊病例" in reviewer.locator(".messages").inner_text()
    assert reviewer.locator("#case-stage").inner_text() == "确诊病例(在院)"

    for kind, id_number in (
        ("close_contact", city.nanguan[1]),
        ("secondary_contact", city.nanguan[2]),
    ):
        reviewer.select_option("#contact-kind", kind)
        reviewer.fill("#contact-ids", id_number)
        reviewer.fill("#contact-by", "南关区疾控中心")
        reviewer.click("button:has-text('添加接触者')")
        assert "已判定1名接触者" in reviewer.locator(".messages").inner_text()
    codes = reviewer.locator("#contact-list .code-badge")
    assert codes.all_inner_texts() == ["红码", "黄码"]
    assert city.nanguan[1] not in reviewer.locator("#contact-list").inner_text()

    centre = signed_in(browser, live_server, "centre")
    errors = []
    centre.on("console", lambda m: m.type == "error" and errors.append(m.text))
    centre.on("pageerror", lambda error: errors.append(str(error)))
    centre.goto(f"{live_server.url}/cases/bulletin/")
    centre.wait_for_selector("#cases-trend canvas")
    assert "全市新增本地确诊病例1例" in centre.locator("#current-text").inner_text()
    assert "南关区" in centre.locator("#by-county").inner_text()
    centre.click("button:has-text('起草通报')")
    assert centre.locator("#bulletin-1 .bulletin-status").inner_text() == "草稿"
    centre.click("#bulletin-1 button:has-text('审核通过')")
    assert centre.locator("#bulletin-1 .bulletin-status").inner_text() == "已审核"
    centre.click("#bulletin-1 button:has-text('发布')")
    assert "第1版已发布" in centre.locator(".messages").inner_text()
    assert errors == []
    bulletin = Bulletin.objects.get()
    assert bulletin.published_by.username == "centre"

    resident = browser.new_context(locale="zh-CN").new_page()
    resident.goto(f"{live_server.url}/cases/public/")
    text = resident.locator(f"#bulletin-{bulletin.pk} .bulletin-text").inner_text()
    assert text == bulletin.text
    assert "全市新增本地确诊病例1例,新增本地无症状感染者0例。其中社会面筛查发现1例。" in text
