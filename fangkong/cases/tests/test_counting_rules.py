"""The counting rules over case events, without a database (docs/cases.md)."""

from datetime import date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from fangkong.cases.figures import BEIJING, Event, differences, figures

APRIL_19 = date(2022, 4, 19)
APRIL_20 = date(2022, 4, 20)
LATER = datetime(2022, 5, 1, tzinfo=BEIJING)


def on(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BEIJING)


class Cases:
    """A list of events, each recorded an hour after it happened unless said otherwise."""

    def __init__(self):
        self.events: list[Event] = []

    def add(
        self,
        case,
        kind,
        at,
        *,
        recorded_at=None,
        supersedes=None,
        found_by="isolation",
        county="220102",
    ):
        event = Event(
            id=len(self.events) + 1,
            case=case,
            kind=kind,
            at=at,
            recorded_at=recorded_at or at + timedelta(hours=1),
            supersedes=supersedes,
            county=county,
            found_by=found_by,
        )
        self.events.append(event)
        return event

    def on(self, day, as_of=LATER, county=None):
        return figures(self.events, day, as_of, county)


def test_a_conversion_is_counted_in_new_confirmed_but_is_not_a_new_infection():
    cases = Cases()
    cases.add(1, "asymptomatic", on(APRIL_19, 9))
    cases.add(1, "reclassified", on(APRIL_20, 9))
    day = cases.on(APRIL_20)
    assert (day.new_confirmed, day.of_which_conversions, day.new_asymptomatic) == (1, 1, 0)
    assert day.new_infections == 0
    assert cases.on(APRIL_19).new_asymptomatic == 1


def test_a_case_found_asymptomatic_and_confirmed_the_same_day_is_reported_once_as_confirmed():
    cases = Cases()
    cases.add(1, "asymptomatic", on(APRIL_20, 9))
    cases.add(1, "reclassified", on(APRIL_20, 20))
    day = cases.on(APRIL_20)
    assert (day.new_confirmed, day.of_which_conversions, day.new_asymptomatic) == (1, 0, 0)
    assert day.new_infections == 1


def test_a_case_reclassified_twice_counts_once():
    cases = Cases()
    cases.add(1, "asymptomatic", on(APRIL_19, 9))
    cases.add(1, "reclassified", on(APRIL_20, 9))
    cases.add(1, "reclassified", on(APRIL_20, 15))
    day = cases.on(APRIL_20)
    assert (day.new_confirmed, day.of_which_conversions) == (1, 1)


def test_a_corrected_reclassification_counts_on_its_corrected_day_only():
    cases = Cases()
    cases.add(1, "asymptomatic", on(APRIL_19, 9))
    wrong = cases.add(1, "reclassified", on(APRIL_19, 22))
    cases.add(1, "reclassified", on(APRIL_20, 9), supersedes=wrong.id)
    assert cases.on(APRIL_19).new_confirmed == 0
    assert cases.on(APRIL_19).new_asymptomatic == 1
    assert (cases.on(APRIL_20).new_confirmed, cases.on(APRIL_20).of_which_conversions) == (1, 1)


def test_figures_as_of_a_time_use_only_what_was_recorded_by_then():
    cases = Cases()
    cases.add(1, "asymptomatic", on(APRIL_20, 9))
    cases.add(2, "asymptomatic", on(APRIL_20, 10), recorded_at=on(date(2022, 4, 22), 8))
    assert cases.on(APRIL_20, as_of=on(date(2022, 4, 21), 8)).new_asymptomatic == 1
    assert cases.on(APRIL_20).new_asymptomatic == 2


def test_a_correction_not_yet_recorded_leaves_the_original_standing():
    cases = Cases()
    wrong = cases.add(1, "asymptomatic", on(APRIL_19, 23))
    cases.add(1, "asymptomatic", on(APRIL_20, 1), supersedes=wrong.id, recorded_at=LATER)
    assert cases.on(APRIL_19, as_of=on(APRIL_20, 12)).new_asymptomatic == 1
    assert cases.on(APRIL_19).new_asymptomatic == 0
    assert cases.on(APRIL_20).new_asymptomatic == 1


def test_the_day_is_midnight_to_midnight_in_beijing():
    cases = Cases()
    cases.add(1, "confirmed", on(APRIL_19, 23) + timedelta(minutes=59))
    cases.add(2, "confirmed", on(APRIL_20, 0))
    cases.add(3, "confirmed", on(APRIL_20, 23) + timedelta(minutes=59))
    cases.add(4, "confirmed", on(date(2022, 4, 21), 0))
    assert cases.on(APRIL_20).new_confirmed == 2


def test_discharges_releases_and_the_standing_totals_at_the_end_of_the_day():
    cases = Cases()
    cases.add(1, "confirmed", on(APRIL_19, 9))
    cases.add(1, "discharged", on(APRIL_20, 10))
    cases.add(2, "confirmed", on(APRIL_19, 9))
    cases.add(3, "asymptomatic", on(APRIL_19, 9))
    cases.add(3, "released", on(APRIL_20, 11))
    cases.add(4, "asymptomatic", on(APRIL_20, 9))
    day = cases.on(APRIL_20)
    assert (day.discharged, day.released) == (1, 1)
    assert (day.in_hospital, day.in_observation) == (1, 1)
    assert (cases.on(APRIL_19).in_hospital, cases.on(APRIL_19).in_observation) == (2, 1)


def test_cases_found_outside_isolation_and_control_screening_are_counted_as_community_ones():
    cases = Cases()
    cases.add(1, "asymptomatic", on(APRIL_20, 9), found_by="isolation")
    cases.add(2, "asymptomatic", on(APRIL_20, 9), found_by="control")
    cases.add(3, "confirmed", on(APRIL_20, 9), found_by="community")
    cases.add(4, "asymptomatic", on(APRIL_20, 9), found_by="fever_clinic")
    cases.add(5, "asymptomatic", on(APRIL_19, 9), found_by="community")
    cases.add(5, "reclassified", on(APRIL_20, 9), found_by="community")
    assert cases.on(APRIL_20).found_in_community == 2


def test_figures_of_one_county_count_only_its_cases():
    cases = Cases()
    cases.add(1, "asymptomatic", on(APRIL_20, 9), county="220102")
    cases.add(2, "asymptomatic", on(APRIL_20, 9), county="220104")
    assert cases.on(APRIL_20, county="220104").new_asymptomatic == 1
    assert cases.on(APRIL_20).new_asymptomatic == 2


def test_the_correction_list_names_only_the_figures_that_changed():
    assert differences(
        {"new_confirmed": 3, "released": 1}, {"new_confirmed": 4, "released": 1}
    ) == [{"figure": "new_confirmed", "published": 3, "now": 4}]


DAYS = [date(2022, 4, 18) + timedelta(days=n) for n in range(4)]
histories = st.lists(
    st.tuples(
        st.sampled_from(DAYS),
        st.booleans(),  # found asymptomatic first
        st.one_of(st.none(), st.integers(0, 3)),  # days until confirmed
    ),
    max_size=25,
)


@given(histories)
def test_every_case_is_one_new_infection_on_exactly_one_day(histories):
    cases = Cases()
    for number, (first_day, asymptomatic, confirmed_after) in enumerate(histories, 1):
        if asymptomatic:
            cases.add(number, "asymptomatic", on(first_day, 8))
            if confirmed_after is not None:
                cases.add(number, "reclassified", on(first_day, 9) + timedelta(confirmed_after))
        else:
            cases.add(number, "confirmed", on(first_day, 8))
    days = DAYS + [DAYS[-1] + timedelta(days=n) for n in range(1, 4)]
    counted = [cases.on(day) for day in days]
    assert sum(day.new_infections for day in counted) == len(histories)
    assert sum(day.new_confirmed for day in counted) == sum(
        1 for _, asymptomatic, after in histories if not asymptomatic or after is not None
    )
    assert all(0 <= day.of_which_conversions <= day.new_confirmed for day in counted)
