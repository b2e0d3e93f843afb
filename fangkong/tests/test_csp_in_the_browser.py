"""The Content-Security-Policy breaks no page (issue 11, item 9): in a real browser (Debian's
Chromium), staff pages, the admin, the API documentation, the verifier and the resident's pages
load under the policy their response carries, and the browser reports no violation (an inline
script, a style="" attribute, an eval, a file from elsewhere)."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.utils import timezone

from fangkong.accounts.models import Role
from fangkong.checkpoints.actions import do_create_checkpoint
from fangkong.checkpoints.loading import load_checkpoint_types
from fangkong.ingest.tests.support import build_city
from fangkong.people.models import Person
from fangkong.residents.session import SESSION_KEY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Violations are events on the document; this listener is in place before any script runs.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
}, true);
"""


@pytest.fixture(autouse=True)
def reference_data():
    """Transactional tests empty the database after each test: put the places back."""
    from fangkong.places.loading import load_divisions

    load_divisions()
    load_checkpoint_types()


def _context(browser, live_server, session_key):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": session_key, "url": live_server.url}])
    context.add_init_script(WATCH)
    return context


def _staff_session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _resident_session(person) -> str:
    session = SessionStore()
    session[SESSION_KEY] = person.pk
    session.create()
    return session.session_key


def _visit(context, live_server, path, ready=None) -> list[str]:
    """What the browser refused on the page at path (and the page's own policy header)."""
    page = context.new_page()
    console = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    response = page.goto(f"{live_server.url}{path}")
    assert response.ok, path
    assert "script-src 'self'" in response.headers.get("content-security-policy", ""), path
    if ready:
        page.wait_for_selector(ready, state="attached")
    page.wait_for_load_state("networkidle")
    seen = page.evaluate("() => window.__violations") + console
    page.close()
    return seen


def test_no_page_breaks_the_content_security_policy(browser, live_server, make_staff):
    city = build_city()
    checkpoint, _ = do_create_checkpoint(
        None, name="一汽厂门", type_code="factory_gate", county_code="220102", now=timezone.now()
    )
    person = Person.objects.get(id_number=city.nanguan[0])
    admin = make_staff(Role.ADMIN, username="admin")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    staff = _context(browser, live_server, _staff_session(admin))
    pages = {
        "/": None,
        "/codes/": None,
        "/clearances/": None,
        "/clearances/figures/": "#daily",
        "/audit/": None,
        f"/people/{person.pk}/": None,
        "/policies/": None,
        "/zones/": None,
        "/zones/exit-rules/": None,
        "/ingest/batches/": None,
        f"/checkpoints/{checkpoint.pk}/verify/": "#verifier[data-ready=true]",
        "/api/docs": ".swagger-ui .opblock",
        "/admin/": None,
        f"/admin/auth/user/{admin.pk}/change/": "#user_form",
        "/admin/auth/user/add/": None,
        "/admin/checkpoints/checkpointtype/factory_gate/change/": None,
        "/admin/people/person/": None,
    }
    refused = {path: _visit(staff, live_server, path, ready) for path, ready in pages.items()}
    resident = _context(browser, live_server, _resident_session(person))
    for path, ready in {"/r/": "#qr svg", "/r/history/": None, "/r/exit/": None}.items():
        refused[path] = _visit(resident, live_server, path, ready)
    assert {path: seen for path, seen in refused.items() if seen} == {}
