"""The admin site shows facts but never changes them, and masks ID numbers in lists."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from fangkong.audit.models import AuditEntry
from fangkong.engine.id_numbers import mask
from fangkong.people.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    user = get_user_model().objects.create_superuser("root", password="correct-horse-battery")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "model",
    [
        "people/person",
        "people/designation",
        "people/presence",
        "testing/sampling",
        "testing/labresult",
        "testing/tube",
        "ingest/batch",
        "ingest/flag",
        "audit/auditentry",
        "places/division",
    ],
)
def test_facts_cannot_be_added_in_the_admin(superuser_client, model):
    app, name = model.split("/")
    assert superuser_client.get(reverse(f"admin:{app}_{name}_add")).status_code == 403
    assert superuser_client.get(reverse(f"admin:{app}_{name}_changelist")).status_code == 200


def test_the_person_list_in_the_admin_masks_id_numbers(city, superuser_client):
    html = superuser_client.get(reverse("admin:people_person_changelist")).content.decode()
    assert mask(city.nanguan[0]) in html and city.nanguan[0] not in html


def test_opening_a_person_in_the_admin_is_audited_and_shows_no_full_id(city, superuser_client):
    person = Person.objects.get(id_number=city.nanguan[0])
    html = superuser_client.get(
        reverse("admin:people_person_change", args=[person.pk])
    ).content.decode()
    assert city.nanguan[0] not in html
    assert AuditEntry.objects.filter(action="person.view", target_id=str(person.pk)).exists()
    response = superuser_client.post(
        reverse("admin:people_person_change", args=[person.pk]), {"name": "改"}
    )
    assert response.status_code == 403
    person.refresh_from_db()
    assert person.name != "改"


def test_giving_a_role_in_the_admin_is_audited(superuser_client):
    user = get_user_model().objects.create_user("li", password="correct-horse-battery")
    response = superuser_client.post(
        reverse("admin:accounts_staffprofile_add"),
        {
            "user": user.pk,
            "role": "hotline",
            "districts": '["220102"]',
            "organisation": "12345",
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="staff.change")
    assert entry.detail == {"role": "hotline", "districts": ["220102"]}
