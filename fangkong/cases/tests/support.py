"""Cases of the small test city (fangkong.ingest.tests.support.build_city), made by the actions."""

from datetime import datetime, timedelta

from fangkong.cases.actions import do_open_case, do_record_event
from fangkong.cases.figures import BEIJING
from fangkong.people.models import Person

APRIL_21_MORNING = datetime(2022, 4, 21, 8, tzinfo=BEIJING)


def at(month_day: str, hour: int, minute: int = 0) -> datetime:
    month, day = (int(n) for n in month_day.split("-"))
    return datetime(2022, month, day, hour, minute, tzinfo=BEIJING)


def person(id_number: str) -> Person:
    return Person.objects.get(id_number=id_number)


def case_of(id_number, history, *, found_by="isolation", recorded_after=timedelta(hours=1)):
    """A case and its events [(kind, when)], each recorded `recorded_after` it happened."""
    first = history[0][1]
    case = do_open_case(None, person(id_number), now=first, found_by=found_by)
    for kind, when in history:
        clinical = "mild" if kind in ("confirmed", "reclassified") else ""
        do_record_event(None, case, kind, when, now=when + recorded_after, clinical_type=clinical)
    return case
