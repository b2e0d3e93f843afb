"""The JSON API against its own OpenAPI schema (schemathesis): whatever a client sends, no
server error, and every answer is one the schema documents — signed in as staff and not."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from fangkong.accounts.models import Role
from fangkong.wsgi import application

pytestmark = pytest.mark.django_db
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Called as a plain WSGI app, Django closes its connection after each request (the test
    client switches that off): on PostgreSQL that would close the test's transaction."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def session(client, make_staff, city):
    """A command-centre session: its cookie and CSRF token, as a browser would send them."""
    client.force_login(make_staff(Role.COMMAND_CENTRE))
    token = "fangkongschemathesiscsrftoken123"  # a CSRF secret: 32 letters and digits
    return {
        "Cookie": f"sessionid={client.cookies['sessionid'].value}; csrftoken={token}",
        "X-CSRFToken": token,
    }


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_documented_when_signed_in(case, session):
    case.call_and_validate(headers=session)


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_documented_to_strangers(case, db):
    case.call_and_validate()
