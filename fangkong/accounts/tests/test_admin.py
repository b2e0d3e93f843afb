"""The admin site shows facts but never changes them, and masks ID numbers in lists."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from fangkong.accounts.models import StaffProfile
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
    assert entry.target_id == str(user.pk)
    assert entry.detail["role"] == "hotline" and entry.detail["districts"] == ["220102"]
    assert entry.detail["changed"]["role"] == [None, "hotline"]


def _user_form(user, **changes):
    """The user admin's change form as a browser posts it, with its staff profile inline."""
    profile = getattr(user, "staff", None)
    joined = timezone.localtime(user.date_joined)
    data = {
        "username": user.username,
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": f"{joined:%Y-%m-%d}",
        "date_joined_1": f"{joined:%H:%M:%S.%f}",
        "staff-TOTAL_FORMS": "1",
        "staff-INITIAL_FORMS": "1" if profile else "0",
        "staff-MIN_NUM_FORMS": "0",
        "staff-MAX_NUM_FORMS": "1",
        "staff-0-user": str(user.pk),
        "staff-0-role": profile.role if profile else "",
        "staff-0-districts": json.dumps(profile.districts if profile else []),
        "staff-0-organisation": profile.organisation if profile else "",
    }
    if profile:
        data["staff-0-id"] = str(profile.pk)
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_making_someone_a_superuser_in_the_admin_is_audited(superuser_client, make_staff):
    user = make_staff("hotline", username="li")
    response = superuser_client.post(
        reverse("admin:auth_user_change", args=[user.pk]),
        _user_form(user, is_staff="on", is_superuser="on"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.is_superuser
    entry = AuditEntry.objects.get(action="staff.change", target_id=str(user.pk))
    assert entry.actor_name == "root"
    assert entry.detail["changed"] == {"is_staff": [False, True], "is_superuser": [False, True]}


def test_changing_a_role_on_the_user_page_is_audited_with_the_role_before(
    superuser_client, make_staff
):
    user = make_staff("hotline", ["220102"], username="li")
    response = superuser_client.post(
        reverse("admin:auth_user_change", args=[user.pk]),
        _user_form(user, **{"staff-0-role": "admin"}),
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="staff.change", target_id=str(user.pk))
    assert entry.detail["role"] == "admin"
    assert entry.detail["changed"] == {"role": ["hotline", "admin"]}


def test_setting_a_password_in_the_admin_is_audited_without_the_password(
    superuser_client, make_staff
):
    user = make_staff("hotline", username="li")
    response = superuser_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "new-horse-battery-9", "password2": "new-horse-battery-9"},
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="staff.change", target_id=str(user.pk))
    assert entry.detail == {"via": "admin", "changed": {"password": True}}
    assert "new-horse-battery-9" not in json.dumps(entry.detail)


def test_taking_a_role_away_in_the_admin_is_audited(superuser_client, make_staff):
    user = make_staff("district_reviewer", ["220102"], username="li")
    response = superuser_client.post(
        reverse("admin:accounts_staffprofile_delete", args=[user.staff.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not StaffProfile.objects.filter(user=user).exists()
    entry = AuditEntry.objects.get(action="staff.change", target_id=str(user.pk))
    assert entry.detail["deleted"] == "staff_profile"
    assert entry.detail["role"] == "district_reviewer"


def test_deleting_selected_accounts_is_audited_one_by_one(superuser_client, make_staff):
    users = [make_staff("hotline", username=f"li-{n}") for n in range(2)]
    response = superuser_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "delete_selected", "post": "yes", "_selected_action": [u.pk for u in users]},
    )
    assert response.status_code == 302
    assert not get_user_model().objects.filter(username__startswith="li-").exists()
    deleted = AuditEntry.objects.filter(action="staff.change").values_list("detail", flat=True)
    assert sorted(d["deleted"] for d in deleted) == ["li-0", "li-1"]


def test_groups_are_not_used_and_cannot_be_made_in_the_admin(superuser_client):
    assert superuser_client.get(reverse("admin:auth_group_add")).status_code == 403
    assert superuser_client.get(reverse("admin:auth_group_changelist")).status_code == 200
