"""In a real browser (Debian's Chromium): a district reviewer changes a community's exit rules
with the form, no TOML typed, and a resident of that community is then given a pass the old
rules refused. Screenshots go to var/artifacts/screenshots/."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from fangkong.accounts.models import Role
from fangkong.checkpoints.tests.test_gates_in_the_browser import (
    PHONE,
    SCREENSHOTS,
    sign_in_resident,
    staff_page,
)
from fangkong.engine.gate_rules import LOCAL
from fangkong.exits.actions import assess, load_default_rules
from fangkong.exits.models import ExitPass
from fangkong.exits.tests.support import person, place
from fangkong.ingest.tests.support import build_city, community
from fangkong.people.models import Person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NO_TEST = "无48小时内核酸阴性记录"


@pytest.fixture(autouse=True)
def divisions():
    """Transactional tests empty the database after each test: put the places back."""
    from fangkong.places.loading import load_divisions

    load_divisions()


def test_an_official_drops_the_test_requirement_with_the_form_and_an_untested_resident_goes_out(
    browser, live_server, make_staff
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # Passes are issued 06:00–20:00 under the city default: the server's clock is set to a
    # morning of today (so that the browser's cookies stay valid).
    today = timezone.now().astimezone(LOCAL).date()
    morning = datetime(today.year, today.month, today.day, 9, tzinfo=LOCAL)
    with time_machine.travel(morning, tick=True):
        load_default_rules(morning - timedelta(days=1))
        city = build_city()
        home = community("220102")
        place(home.code, "prevention", morning - timedelta(days=2))
        # two neighbours of one household, neither tested in the last two days
        Person.objects.filter(id_number__in=city.nanguan[20:22]).update(household="H-20")
        make_staff(Role.DISTRICT_REVIEWER, ["220102"], username="nanguan-reviewer")

        resident = sign_in_resident(browser.new_context(**PHONE), live_server, city.nanguan[20])
        resident.goto(f"{live_server.url}/r/exit/")
        refused = resident.inner_text("main")
        assert "暂不能申请外出" in refused and NO_TEST in refused
        assert resident.get_by_role("button", name="申请通行码").count() == 0

        desk = staff_page(
            browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai"),
            live_server,
            "nanguan-reviewer",
        )
        desk.goto(f"{live_server.url}/zones/{home.code}/exit-rules/")
        form = desk.locator("form[aria-label='常用规则']")
        form.get_by_label("须有核酸阴性记录").uncheck()
        form.get_by_label("每户每天外出人次").fill("2")
        form.get_by_label("说明").fill("全员核酸间隙,暂不查核酸")
        desk.screenshot(path=str(SCREENSHOTS / "exit-rules-form.png"), full_page=True)
        form.get_by_role("button", name="发布").click()
        desk.wait_for_load_state()
        published = desk.inner_text("main")
        assert f"已发布{home.name}出入规则" in published
        assert "本社区规则" in published and "每户每天限2人次外出" in published
        assert "核酸阴性记录" not in desk.locator("section.card").first.inner_text()

        resident.goto(f"{live_server.url}/r/exit/")
        allowed = resident.inner_text("main")
        assert "今日可以申请外出" in allowed and "本户今日还可外出 2 人次" in allowed
        assert "每户每天限2人次外出" in allowed and NO_TEST not in allowed
        resident.get_by_role("button", name="申请通行码").click()
        resident.wait_for_selector(".r-qr[data-token] svg")
        assert "已签发通行码" in resident.inner_text("main")

        neighbour = sign_in_resident(browser.new_context(**PHONE), live_server, city.nanguan[21])
        neighbour.goto(f"{live_server.url}/r/exit/")
        assert "本户今日还可外出 1 人次" in neighbour.inner_text("main")
        # the rules are this community's: an untested resident elsewhere is still refused
        elsewhere = assess(person(city.chaoyang[0]), timezone.now()).decision
    assert NO_TEST in elsewhere.reasons
    issued = ExitPass.objects.get()
    assert issued.person.id_number == city.nanguan[20] and issued.rule_set.community == home
