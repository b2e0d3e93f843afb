"""A residence corrected later does not rewrite the past: as of a time before the correction was
recorded, the person lived where the record said then (docs/policies.md, "Time and knowledge")."""

from datetime import datetime, timedelta, timezone

from fangkong.engine.batch import columns_from_people, evaluate_batch, homes_at, micros
from fangkong.engine.evaluate import FormerResidence, PersonFacts, ZoneFact, evaluate
from fangkong.engine.policies import parse_policy

BJ = timezone(timedelta(hours=8))


def may(day, hour=0):
    return datetime(2022, 5, day, hour, tzinfo=BJ)


NANGUAN_LOCKDOWN = parse_policy(
    {
        "id": "nanguan-lockdown",
        "title": "南关区封控区赋红码",
        "colour": "red",
        "message": "m",
        "effective_from": "2022-05-01T00:00:00+08:00",
        "scope": {"include": ["220102"]},
        "trigger": {"type": "zone_level", "levels": ["lockdown"]},
    }
)
LOCKDOWN = (ZoneFact("lockdown", may(1), may(1)),)
# Recorded in 南关区 (a community under lockdown); corrected on 7 May to 朝阳区.
MOVED = PersonFacts(
    1,
    "220104001001",
    datetime(2022, 4, 1, tzinfo=BJ),
    former_residences=(FormerResidence("220102001001", may(7), LOCKDOWN),),
)


def test_as_of_before_the_correction_the_person_lived_where_the_record_said():
    assert evaluate([NANGUAN_LOCKDOWN], MOVED, may(5)).colour == "red"
    assert evaluate([NANGUAN_LOCKDOWN], MOVED, may(7)).colour == "green"


def test_the_batch_kernel_places_the_person_as_the_record_did_at_each_time():
    columns = columns_from_people([MOVED])
    assert evaluate_batch([NANGUAN_LOCKDOWN], columns, may(5)).severity[0] == 2
    assert evaluate_batch([NANGUAN_LOCKDOWN], columns, may(8)).severity[0] == 0
    assert homes_at(columns, micros(may(5))).county[0] == 220102
    assert homes_at(columns, micros(may(8))).county[0] == 220104


def test_of_two_corrections_the_earliest_still_to_come_holds_the_value_then():
    twice = PersonFacts(
        1,
        "220106000000",
        datetime(2022, 4, 1, tzinfo=BJ),
        former_residences=(
            FormerResidence("220104001001", may(9)),
            FormerResidence("220102001001", may(7)),
        ),
    )
    assert twice.residence_at(may(6))[0] == "220102001001"
    assert twice.residence_at(may(8))[0] == "220104001001"
    assert twice.residence_at(may(9))[0] == "220106000000"
    columns = columns_from_people([twice])
    assert [homes_at(columns, micros(may(d))).community[0] for d in (6, 8, 9)] == [
        220102001001,
        220104001001,
        220106000000,
    ]
