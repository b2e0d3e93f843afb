"""In a real browser, signed out: the public page draws 长春's districts with ECharts from the
vendored files, a district's tooltip lists its counts, the table beside the map names the
counties the map cannot draw — and the Content Security Policy refuses nothing on the way.
The screenshot goes to var/artifacts/screenshots/."""

import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = (
    Path(
        os.environ.get(
            "FANGKONG_ARTIFACTS", Path(__file__).resolve().parents[3] / "var" / "artifacts"
        )
    )
    / "screenshots"
)

# Runs before the page's scripts (Playwright injects it; the page's CSP does not apply to it).
WATCH_CSP = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(`${e.violatedDirective} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture(autouse=True)
def divisions():
    """Transactional tests empty the database after each test: put the places back."""
    from fangkong.places.loading import load_divisions

    load_divisions()


def test_the_public_map_draws_with_nothing_refused(browser, live_server):
    from django.utils import timezone

    from fangkong.ingest.tests.support import community
    from fangkong.zones.actions import do_issue_notice

    now = timezone.now()
    shuangyang = community("220112")
    do_issue_notice(
        title="关于将部分区域划为封控区的通告",
        scheme="three_zones",
        entries=[(shuangyang.code, "lockdown")],
        effective_from=now,
        now=now,
    )

    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    console = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    page.goto(f"{live_server.url}/zones/public/")

    page.wait_for_selector("#zones-map canvas")
    assert page.locator("#zones-map canvas").first.bounding_box()["height"] > 300
    table = page.locator("#zones-map-table").inner_text()
    assert "公主岭市" in table and "长春净月高新技术产业开发区" in table
    # The pointer on 双阳区 (at the point the shapes file gives for its label), as a resident's.
    x, y = page.evaluate(
        """() => echarts.getInstanceByDom(document.getElementById("zones-map"))
                  .convertToPixel({seriesIndex: 0}, [125.664662, 43.525311])"""
    )
    box = page.locator("#zones-map").bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    tip = page.locator("#zones-map div", has_text="封控区 1").last
    tip.wait_for()
    assert "双阳区" in tip.inner_text() and "无疫小区 0" in tip.inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#zones-map-section").screenshot(path=str(SCREENSHOTS / "zones-map-public.png"))
    assert page.evaluate("window.cspViolations") == []
    assert [line for line in console if line.startswith(("error", "pageerror"))] == []
