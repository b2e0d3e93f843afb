"""Signing in and out, and no staff page without signing in."""

import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

pytestmark = pytest.mark.django_db

# Routes anyone may open signed out, each for a reason; every other route is a staff page.
PUBLIC = (
    "accounts/login/",  # signing in
    "accounts/logout/",  # signing out (a POST; nothing to protect)
    "admin/login/",  # the admin's own sign-in and sign-out
    "admin/logout/",
    "favicon.ico",  # the browser's request for the site's icon
    "checkpoints/sw.js",  # the verifier's offline script: no data, fetched by the browser
    "r/",  # residents' pages: signed in by a one-time code (fangkong.residents)
    "api/",  # the API: its own authentication (fangkong/tests/test_api_schema.py)
    "zones/public/",  # risk areas and epidemic-free lists as residents read them: no PII
    "cases/public/",  # published bulletins, as the city announced them: figures, no PII
)
# A value for each path converter, enough to resolve the route to its view.
SAMPLES = {"int": "1", "str": "x", "slug": "x", "path": "1", "uuid": str(uuid.UUID(int=1))}


def _regex_sample(regex: str) -> str:
    """A path a regex route matches: each group as its first alternative (or "1")."""

    def group(match):
        first = match[1].split("|")[0]
        return first if re.fullmatch(r"[\w-]+", first) else "1"

    text = re.sub(r"\(\?P<\w+>([^)]*)\)", group, regex)
    return re.sub(r"\\(.)", r"\1", text.replace("^", "").replace("$", "").replace("\\Z", ""))


def _route_sample(route: str) -> str:
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES[m[1] or "str"], route)


def every_route(patterns=None, prefix=""):
    """(path, view) for every route the project serves, found by walking the URL resolver."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        pattern = entry.pattern
        part = (
            _route_sample(str(pattern))
            if isinstance(pattern, RoutePattern)
            else _regex_sample(pattern.regex.pattern)
        )
        if isinstance(entry, URLResolver):
            yield from every_route(entry.url_patterns, prefix + part)
        else:
            yield prefix + part, entry.lookup_str


STAFF_ROUTES = sorted(
    {path: view for path, view in every_route() if not path.startswith(PUBLIC)}.items()
)


def test_the_walk_finds_the_staff_routes():
    paths = {path for path, _ in STAFF_ROUTES}
    assert {"", "people/1/", "clearances/figures/", "audit/export/", "codes/"} <= paths
    assert len(paths) > 40
    assert not any(path.startswith(("r/", "api/")) for path in paths)


@pytest.mark.parametrize(("path", "view"), STAFF_ROUTES, ids=[p or "/" for p, _ in STAFF_ROUTES])
def test_every_staff_route_requires_signing_in(client, path, view):
    url = f"/{path}"
    response = client.get(url)
    if response.status_code == 405:  # a route that only takes a form: the form is refused too
        response = client.post(url)
    if response.status_code == 302:
        assert response["Location"].startswith(
            (reverse("accounts:login"), reverse("admin:login"))
        ), f"{url} ({view}) sends a signed-out visitor to {response['Location']}"
    else:
        assert response.status_code in (401, 403), f"{url} ({view}) answers {response.status_code}"


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
