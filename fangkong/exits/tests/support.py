"""A 南关区 community in 防范区 whose first ten residents tested negative this morning; the
first two share a household."""

from datetime import datetime

import pytest

from fangkong.engine import tokens
from fangkong.exits.actions import load_default_rules
from fangkong.ingest.tests.support import BJ, community, report_result, sample
from fangkong.people.models import Person
from fangkong.places.models import CommunityZone
from fangkong.residents.session import SESSION_KEY
from fangkong.signing import keys

MORNING = datetime(2022, 4, 24, 10, tzinfo=BJ)
RELEASED = datetime(2022, 4, 21, 8, tzinfo=BJ)


def person(id_number) -> Person:
    return Person.objects.get(id_number=id_number)


def place(code, level, at):
    """A zone level recorded when it started (as the demo does)."""
    return CommunityZone.objects.create(
        community_id=code, level=level, start_at=at, recorded_at=at, decided_by="南关区指挥部"
    )


def claims_of(token, now):
    return keys.verify(token, now, kinds=(tokens.EXIT,)).claims


def as_resident(client, someone: Person):
    session = client.session
    session[SESSION_KEY] = someone.pk
    session.save()
    return client


@pytest.fixture
def compound(city):
    load_default_rules()
    home = community("220102")
    place(home.code, "lockdown", datetime(2022, 4, 3, tzinfo=BJ))
    place(home.code, "prevention", RELEASED)
    sample(city.nanguan[:10], "T-0424-1", "10", datetime(2022, 4, 24, 7, tzinfo=BJ))
    report_result("T-0424-1", "negative", datetime(2022, 4, 24, 9, tzinfo=BJ))
    Person.objects.filter(id_number__in=city.nanguan[:2]).update(household="H-1")
    return city, home
