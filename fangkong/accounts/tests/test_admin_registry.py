"""Every page of the admin either only shows, or writes an audit entry with each change (issue 11,
item 7): nothing that decides a colour, a gate or what a person may do is changed there without
the hash-chained record the pages keep."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from fangkong.accounts.models import StaffProfile

pytestmark = pytest.mark.django_db

# Writable in the admin, each change audited (test_admin.py beside this file shows it).
AUDITED = {get_user_model(), StaffProfile}
# What decides a colour, a gate's answer or an exit: never changed by hand, wherever it is shown.
DECISIVE = [
    "checkpoints.CheckpointType",
    "checkpoints.Checkpoint",
    "checkpoints.GateScan",
    "exits.ExitRuleSet",
    "exits.ExitPass",
    "places.CommunityZone",
    "places.Division",
    "policies.PolicyVersion",
    "codes.PersonCode",
    "codes.CodeChange",
    "codes.Exemption",
    "clearances.Clearance",
    "people.Person",
    "people.PersonRevision",
    "people.Designation",
    "people.Presence",
    "testing.TestingSite",
    "testing.TestingSiteRevision",
    "testing.Tube",
    "testing.Sampling",
    "testing.LabResult",
    "testing.AntigenTest",
    "signing.SigningKey",
    "ingest.Batch",
    "ingest.Flag",
    "audit.AuditEntry",
]


@pytest.fixture
def as_superuser():
    request = RequestFactory().get("/admin/")
    request.user = get_user_model().objects.create_superuser("root", password="x-y-z-w-1234")
    return request


def writes(model_admin, request) -> list[str]:
    """What a superuser may do to the model on its admin pages, inlines included."""
    found = [
        f"{model_admin.model._meta.label}.{what}"
        for what in ("add", "change", "delete")
        if getattr(model_admin, f"has_{what}_permission")(request)
    ]
    for inline in model_admin.get_inline_instances(request):
        found += [
            f"{inline.model._meta.label}.{what} (inline)"
            for what in ("add", "change", "delete")
            if getattr(inline, f"has_{what}_permission")(request, None)
        ]
    return found


def test_every_admin_page_that_can_change_something_is_audited(as_superuser):
    unaudited = {
        model._meta.label: writes(model_admin, as_superuser)
        for model, model_admin in admin.site._registry.items()
        if model not in AUDITED and writes(model_admin, as_superuser)
    }
    assert unaudited == {}


def test_nothing_that_decides_a_colour_or_a_gate_can_be_changed_in_the_admin(as_superuser):
    for label in DECISIVE:
        model = apps.get_model(label)
        model_admin = admin.site._registry.get(model)
        if model_admin is not None:
            assert writes(model_admin, as_superuser) == [], label
        assert model not in AUDITED
