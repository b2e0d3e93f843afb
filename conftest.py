"""Shared test fixtures. Every database test runs twice in `make test`: on SQLite and on
PostgreSQL (FANGKONG_DATABASE_URL). The divisions of 长春市 are loaded once per test database."""

import os
import shutil

import pytest
from hypothesis import settings

# `make mutate` runs the engine's tests once per mutant: the same examples every time, so a
# mutant's verdict does not depend on the luck of the draw, and fewer of them (each property
# test also has explicit examples on the boundaries).
settings.register_profile("mutation", derandomize=True, database=None, max_examples=30)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from fangkong.places.loading import load_divisions

    with django_db_blocker.unblock():
        load_divisions()


@pytest.fixture(scope="session", autouse=True)
def _signing_keys_in_a_temporary_directory(tmp_path_factory):
    """Tests sign with keys of their own, never the developer's (settings.KEY_DIR)."""
    from django.conf import settings

    settings.KEY_DIR = tmp_path_factory.mktemp("keys")
    settings.EVIDENCE_DIR = tmp_path_factory.mktemp("evidence")
    # A test's flusher must never claim (replay into the test database, then delete) the spool
    # files of a developer's running server.
    settings.GATE_LOG_SPOOL_DIR = tmp_path_factory.mktemp("gatelog")


@pytest.fixture(autouse=True)
def _fresh_key_caches():
    """Each test starts with no cached keys, checkpoints or parsed policies: rows differ per
    test (and SQLite gives a rolled-back test's row ids to the next)."""
    from fangkong.checkpoints import access
    from fangkong.policies import queries
    from fangkong.signing import keys

    keys.clear_cache()
    access.clear_cache()
    queries.forget()
    yield


@pytest.fixture
def city(db):
    from fangkong.ingest.tests.support import build_city

    return build_city()


@pytest.fixture
def make_staff(db):
    """make_staff(role, districts=()) -> a logged-in-able user with that role."""
    from django.contrib.auth import get_user_model

    from fangkong.accounts.models import StaffProfile

    counter = iter(range(1, 10_000))

    def make(role: str, districts=(), username: str | None = None):
        user = get_user_model().objects.create_user(
            username=username or f"{role}-{next(counter)}", password="correct-horse-battery"
        )
        StaffProfile.objects.create(user=user, role=role, districts=list(districts))
        return user

    return make


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (its own browser download cannot work here)."""
    if not shutil.which(CHROMIUM) and os.environ.get("CI") != "true":
        pytest.skip("Debian's chromium is not installed (CI installs it)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are ordinary blocking calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _close_pages_after_browser_tests(request):
    """A page left open keeps polling the live server while the next test runs (and the
    browser outlives the test module): close every page a live-server test opened."""
    if not {"browser", "live_server"} <= set(request.fixturenames):
        yield
        return
    browser = request.getfixturevalue("browser")
    before = set(browser.contexts)
    yield
    for context in browser.contexts:
        if context not in before:
            context.close()
