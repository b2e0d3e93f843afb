"""What every visitor meets around the pages: the site's icon, and a refused form explained in
Chinese in the site's own page (issue 10, item 9)."""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_browser_s_own_request_for_favicon_ico_gets_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file


@pytest.mark.parametrize("url", ["/accounts/login/", "/r/login/"])
def test_staff_and_resident_pages_link_the_icon(client, url):
    html = client.get(url).content.decode()
    assert '<link rel="icon" href="/favicon.ico"' in html
    assert "/static/fangkong/favicon.svg" in html


def test_a_form_without_its_csrf_token_is_refused_in_chinese_in_the_site_s_page():
    response = Client(enforce_csrf_checks=True).post(
        reverse("accounts:login"), {"username": "zhang", "password": "correct-horse-battery"}
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "请刷新页面后重试" in html and "本次提交没有生效" in html
    assert "/static/fangkong/site.css" in html and 'lang="zh-Hans"' in html
    assert "CSRF verification failed" not in html and "Forbidden" not in html


def test_a_resident_s_refused_form_keeps_the_resident_s_page():
    response = Client(enforce_csrf_checks=True).post(
        reverse("residents:login"), {"id_number": "220102198001010011"}
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "请刷新页面后重试" in html and "/static/fangkong/resident.css" in html
    assert 'href="/r/"' in html
