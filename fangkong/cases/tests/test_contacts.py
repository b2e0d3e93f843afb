"""Adding a case's contacts designates them: their codes change at once, and it is audited."""

from datetime import datetime

import pytest

from fangkong.accounts.models import Role
from fangkong.audit.models import AuditEntry
from fangkong.cases.actions import do_add_contacts
from fangkong.cases.figures import BEIJING
from fangkong.cases.tests.support import at, case_of, person
from fangkong.codes.models import PersonCode
from fangkong.ingest.tests.support import policy_source
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db


def test_close_contacts_added_to_a_case_turn_red_at_once(city, make_staff):
    do_publish(
        policy_source("std-close-contact-red"),
        user=None,
        now=datetime(2022, 4, 1, tzinfo=BEIJING),
    )
    reviewer = make_staff(Role.DISTRICT_REVIEWER, districts=["220102"])
    case = case_of(city.nanguan[0], [("asymptomatic", at("4-20", 7))])
    contacts = do_add_contacts(
        reviewer,
        case,
        city.nanguan[1:3],
        kind="close_contact",
        designated_by="南关区疾控中心",
        now=at("4-20", 12),
    )
    assert sorted(c.designation.person.id_number for c in contacts) == sorted(city.nanguan[1:3])
    assert {c.case_id for c in contacts} == {case.pk}
    # Only people whose code is not green have a stored code.
    colours = PersonCode.objects.filter(person__id_number__in=city.nanguan[:4])
    assert dict(colours.values_list("person__id_number", "colour")) == {
        city.nanguan[1]: "red",
        city.nanguan[2]: "red",
    }
    assert AuditEntry.objects.filter(action="case.contacts", target_id=str(case.pk)).exists()


def test_a_contact_who_is_not_a_resident_is_refused_and_nobody_is_designated(city):
    case = case_of(city.nanguan[0], [("asymptomatic", at("4-20", 7))])
    with pytest.raises(ValueError, match="无法判定"):
        do_add_contacts(
            None,
            case,
            [city.nanguan[1], "11010519491231002X"],
            kind="close_contact",
            designated_by="南关区疾控中心",
            now=at("4-20", 12),
        )
    assert not person(city.nanguan[1]).designations.exists()
