"""Signing in and out, and no staff page without signing in."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

STAFF_PAGES = [
    ("home", []),
    ("people:search", []),
    ("people:person", [1]),
    ("ingest:upload", ["results"]),
    ("ingest:docs", []),
    ("ingest:batches", []),
    ("ingest:batch", [1]),
    ("ingest:batch_errors", [1]),
    ("ingest:flags", []),
    ("ingest:flag", [1]),
    ("audit:log", []),
    ("audit:verify", []),
]


@pytest.mark.parametrize(("name", "args"), STAFF_PAGES)
def test_every_staff_page_requires_signing_in(client, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_post_without_signing_in_loads_nothing(client):
    response = client.post(reverse("people:search"), {"q": "13900000001"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_staff_member_signs_in_and_lands_on_the_home_page(client, make_staff):
    make_staff("hotline", ["220102"], username="zhang")
    response = client.post(
        reverse("accounts:login"), {"username": "zhang", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")
    html = client.get(reverse("home")).content.decode()
    assert "12345热线专席" in html and "全市" in html


def test_a_wrong_password_is_refused_in_chinese(client, make_staff):
    make_staff("hotline", username="zhang")
    response = client.post(reverse("accounts:login"), {"username": "zhang", "password": "nope"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_the_login_page_is_in_chinese_and_loads_htmx_from_our_own_static_files(client):
    html = client.get(reverse("accounts:login")).content.decode()
    assert '<html lang="zh-Hans">' in html and "工作人员登录" in html
    assert "/static/fangkong/vendor/htmx-2.0.11.min.js" in html
    assert "//unpkg" not in html and "cdn" not in html.lower()


def test_signing_out_is_a_post_with_csrf(make_staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff("hotline"))
    assert client.post(reverse("accounts:logout")).status_code == 403
    html = client.get(reverse("home")).content.decode()
    assert f'action="{reverse("accounts:logout")}"' in html
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("accounts:logout"), {"csrfmiddlewaretoken": token})
    assert response["Location"] == reverse("accounts:login")
    assert client.get(reverse("home")).status_code == 302


def test_signing_out_by_get_is_not_possible(client, make_staff):
    client.force_login(make_staff("hotline"))
    assert client.get(reverse("accounts:logout")).status_code == 405


def test_a_user_without_a_role_can_sign_in_but_is_told_they_have_none(client):
    get_user_model().objects.create_user(username="newcomer", password="correct-horse-battery")
    client.post(
        reverse("accounts:login"), {"username": "newcomer", "password": "correct-horse-battery"}
    )
    html = client.get(reverse("home")).content.decode()
    assert "尚未分配角色" in html
    assert reverse("people:search") not in html
    assert client.get(reverse("people:search")).status_code == 403
    assert client.get(reverse("ingest:upload", args=["results"])).status_code == 403


def test_a_refusal_is_explained_in_chinese(client, make_staff):
    client.force_login(make_staff("sampler"))
    response = client.get(reverse("people:search"))
    assert response.status_code == 403
    assert "无权" in response.content.decode()
