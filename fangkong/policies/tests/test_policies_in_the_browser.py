"""The command centre in a real browser: reads the policy help, starts from an example, previews
its impact with the period and scope in words, publishes it, and withdraws it again."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def divisions():
    """Transactional tests empty the database after each test: put the places back."""
    from fangkong.places.loading import load_divisions

    load_divisions()


def test_an_official_publishes_from_an_example_without_typing_toml_and_withdraws_it(
    browser, live_server, make_staff
):
    from fangkong.ingest.tests.support import build_city
    from fangkong.policies.models import PolicyVersion

    build_city()
    make_staff("command_centre", username="zhihuibu")
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "zhihuibu")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/policies/")
    page.click("text=政策文件说明与示例")
    assert page.locator("h1").inner_text() == "政策文件说明"
    assert page.locator("article.doc table").count() >= 3  # the field tables, rendered
    page.click("text=密切接触者赋红码14天")
    text = page.locator("textarea").input_value()
    assert 'id = "close-contact-14d"' in text and "# 示例:密切接触者赋红码14天" in text
    page.click("button:has-text('预览影响')")
    impact = page.locator("#impact").inner_text()
    assert "将发布为第1版" in impact and "2022-04-01 00:00 起,无截止" in impact
    assert "长春市" in impact and "若现在发布,不会改变任何人的健康码颜色" in impact
    page.click("#impact button[type=submit]")
    assert "已发布 close-contact-14d 第1版" in page.locator(".messages").inner_text()
    page.fill("#withdraw textarea", "示例误发,撤回")
    page.click("#withdraw button[type=submit]")
    assert "若现在撤回,不会改变任何人的健康码颜色" in page.locator("#impact").inner_text()
    page.click("#impact button[type=submit]")
    assert "已撤回 close-contact-14d" in page.locator(".messages").inner_text()
    assert "示例误发,撤回" in page.locator("#withdrawn").inner_text()
    assert [v.withdrawn for v in PolicyVersion.objects.order_by("version")] == [False, True]
