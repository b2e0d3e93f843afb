"""The clock applies what time alone changes, at its instant: a policy's window opening, a
designation ending, one starting for somebody still green. Stored codes, `codes stats` and the
code-change history all show it from that instant, never before."""

import json
from datetime import datetime, timedelta

import pytest

from fangkong.audit.models import AuditEntry
from fangkong.cli import build_parser
from fangkong.clock.actions import do_sweep
from fangkong.codes.actions import do_reevaluate
from fangkong.codes.models import CodeChange, NextChange, PersonCode
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.tests.support import BJ, policy_source
from fangkong.people.models import Designation, Person
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db
UNTESTED = "cc-2022-0420-untested"  # yellow from 23 April 00:00 for the unsampled
RULE_STARTS = datetime(2022, 4, 23, tzinfo=BJ)
PUBLISHED = datetime(2022, 4, 21, 20, tzinfo=BJ)  # the evening of the press conference


def run_json(capsys, *argv):
    args = build_parser().parse_args([*map(str, argv), "--json"])
    assert args.func(args) == 0
    return json.loads(capsys.readouterr().out)


def stored() -> dict[str, int]:
    counts = {"yellow": 0, "red": 0}
    for colour in PersonCode.objects.values_list("colour", flat=True):
        if colour in counts:
            counts[colour] += 1
    return counts


@pytest.fixture
def announced(city):
    """The rule of 21 April, published that evening to start at 23 April 00:00."""
    do_publish(policy_source(UNTESTED), user=None, now=PUBLISHED)
    do_sweep(PUBLISHED)
    return city


def test_a_policy_published_for_later_turns_codes_yellow_at_its_instant(announced, capsys):
    do_sweep(RULE_STARTS - timedelta(seconds=1))
    assert stored() == {"yellow": 0, "red": 0}
    do_sweep(RULE_STARTS + timedelta(minutes=3))
    assert stored() == {"yellow": 30, "red": 0}
    changes = CodeChange.objects.filter(new_colour="yellow")
    assert {(c.at, c.cause) for c in changes} == {(RULE_STARTS, CodeChange.Cause.TIME)}
    assert all(UNTESTED in c.cause_detail for c in changes)
    stats = run_json(capsys, "codes", "stats", "--as-of", "2022-04-23T00:03")
    assert stats == {"green": 0, "yellow": 30, "red": 0}


def test_codes_stay_green_until_the_sweep_reaches_the_instant(announced):
    do_sweep(datetime(2022, 4, 22, 23, 59, tzinfo=BJ))
    assert not CodeChange.objects.filter(new_colour="yellow").exists()
    assert PersonCode.objects.count() == 0


def test_the_sweep_audits_what_it_applied_and_when_it_was_due(announced):
    do_sweep(RULE_STARTS + timedelta(hours=1))
    entry = AuditEntry.objects.filter(action="clock.sweep").latest("id")
    assert entry.detail["at"] == RULE_STARTS.isoformat()
    assert entry.detail["by_transition"] == {"green->yellow": 30}
    assert any(UNTESTED in what for what in entry.detail["what"])


def designate(id_number: str, start: datetime, end: datetime, now: datetime) -> None:
    report = do_ingest(
        "designations",
        rows=[
            {
                "id_number": id_number,
                "kind": "密接",
                "start_at": start.isoformat(),
                "end_at": end.isoformat(),
                "designated_by": "南关区疾病预防控制中心",
            }
        ],
        now=now,
    )
    assert report.inserted == 1, report.errors


def test_a_designation_that_ends_turns_the_red_code_back_at_its_end(city):
    do_publish(policy_source("std-close-contact-red"), user=None, now=PUBLISHED)
    start, end = datetime(2022, 4, 21, 10, tzinfo=BJ), datetime(2022, 4, 28, 10, tzinfo=BJ)
    designate(city.nanguan[0], start, end, now=PUBLISHED + timedelta(minutes=5))
    person = Person.objects.get(id_number=city.nanguan[0])
    assert PersonCode.objects.get(person=person).colour == "red"
    assert NextChange.objects.get(person=person).at == end
    do_sweep(end - timedelta(minutes=1))
    assert PersonCode.objects.get(person=person).colour == "red"
    do_sweep(end + timedelta(hours=6))
    assert PersonCode.objects.get(person=person).colour == "green"
    back = CodeChange.objects.get(person=person, new_colour="green")
    assert (back.at, back.cause) == (end, CodeChange.Cause.TIME)
    assert not NextChange.objects.filter(person=person).exists()


def test_a_green_person_designated_from_tomorrow_turns_red_at_the_start(city):
    """No code row, no colour yet: the instant is stored all the same."""
    do_publish(policy_source("std-close-contact-red"), user=None, now=PUBLISHED)
    person = Person.objects.get(id_number=city.nanguan[1])
    tomorrow = datetime(2022, 4, 22, 8, tzinfo=BJ)
    Designation.objects.create(
        person=person,
        kind="close_contact",
        start_at=tomorrow,
        end_at=tomorrow + timedelta(days=7),
        designated_by="南关区疾病预防控制中心",
        recorded_at=PUBLISHED + timedelta(minutes=10),
    )
    do_reevaluate([person.pk], PUBLISHED + timedelta(minutes=10))
    assert not PersonCode.objects.filter(person=person).exists()
    assert NextChange.objects.get(person=person).at == tomorrow
    do_sweep(tomorrow + timedelta(minutes=1))
    code = PersonCode.objects.get(person=person)
    assert code.colour == "red"
    assert CodeChange.objects.get(person=person).at == tomorrow
    assert NextChange.objects.get(person=person).at == tomorrow + timedelta(days=7)


def test_a_change_due_before_codes_were_evaluated_later_is_stamped_with_that_later_time(city):
    """A load evaluated somebody as of 10:00; the clock, late, applies an 08:00 instant as of
    10:00 — a stored code never goes back to an older picture of the facts."""
    do_publish(policy_source("std-close-contact-red"), user=None, now=PUBLISHED)
    start, end = datetime(2022, 4, 21, 10, tzinfo=BJ), datetime(2022, 4, 23, 8, tzinfo=BJ)
    designate(city.nanguan[0], start, end, now=PUBLISHED + timedelta(minutes=5))
    do_sweep(PUBLISHED + timedelta(minutes=6))
    later = datetime(2022, 4, 23, 10, tzinfo=BJ)
    other = Person.objects.get(id_number=city.nanguan[5])
    do_reevaluate([other.pk], later)  # moves the evaluation clock to 10:00
    do_sweep(later + timedelta(minutes=1))
    back = CodeChange.objects.get(person__id_number=city.nanguan[0], new_colour="green")
    assert back.at == later
