"""A district officer's afternoon, in a real browser (Debian's Chromium driven by Playwright):
log in, upload a lab file with a bad row, read the error report, find a person, open them."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def divisions():
    """Transactional tests empty the database after each test: put the places back."""
    from fangkong.places.loading import load_divisions

    load_divisions()


def log_in(browser, live_server, username):
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()
    return page


def test_a_lab_uploads_results_and_reads_which_rows_were_refused(
    browser, live_server, tmp_path, make_staff
):
    from fangkong.ingest.actions import do_ingest
    from fangkong.ingest.tests.support import build_city

    city = build_city()
    do_ingest(
        "samplings",
        rows=[
            {
                "id_number": city.nanguan[0],
                "tube": "T-1",
                "pool_size": "1",
                "site_code": "S-NG-1",
                "sampled_at": "2022-04-20T08:00:00+08:00",
            }
        ],
    )
    make_staff("lab", username="jinyu-lab")
    path = tmp_path / "jinyu-0421.csv"
    path.write_bytes(
        "试管条码,检测结果,检测机构,报告时间\n"
        "T-1,阴性,长春金域医学检验所,2022-04-21T08:00:00+08:00\n"
        "T-404,阴性,长春金域医学检验所,2022-04-21T08:00:00+08:00\n".encode("gb18030")
    )
    page = log_in(browser, live_server, "jinyu-lab")
    page.goto(f"{live_server.url}/ingest/upload/results/")
    page.set_input_files("input[type=file]", str(path))
    page.click("form[enctype] button[type=submit], form[enctype] input[type=submit]")
    page.wait_for_load_state()
    text = page.inner_text("body")
    page.screenshot(path=str(tmp_path / "batch.png"), full_page=True)
    assert "jinyu-0421.csv" in text
    # The refused row is the file's third line (after the header and T-1): its row number and
    # the reason stand in the same row of the table, next to the barcode.
    refused = page.locator("#errors tbody tr")
    assert refused.count() == 1
    number, field, value, reason = refused.first.locator("td").all_inner_texts()
    assert (number, value) == ("3", "T-404")
    assert "试管条码" in field and "未知试管" in reason


def test_a_district_officer_finds_a_resident_of_their_district_only(
    browser, live_server, make_staff, tmp_path
):
    from fangkong.ingest.tests.support import build_city

    city = build_city()
    make_staff("district_reviewer", ["220102"], username="nanguan")
    page = log_in(browser, live_server, "nanguan")
    page.goto(f"{live_server.url}/people/search/")
    page.fill("input[name=q]", city.chaoyang[0])
    page.click("main form button[type=submit], main form input[type=submit]")
    page.wait_for_load_state()
    assert "没有找到该居民" in page.inner_text("main")

    page.fill("input[name=q]", city.nanguan[0])
    page.click("main form button[type=submit], main form input[type=submit]")
    page.wait_for_load_state()
    masked = city.nanguan[0][:6] + "********" + city.nanguan[0][-4:]
    assert masked in page.inner_text("main")
    assert city.nanguan[0] not in page.content()
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
    page.click('main a:has-text("查看")')
    page.wait_for_load_state()
    assert city.nanguan[0] in page.inner_text("main")
    assert "居民1" in page.inner_text("main")
    page.screenshot(path=str(tmp_path / "person.png"), full_page=True)
