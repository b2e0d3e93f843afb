"""After a stop of days the clock applies every instant it missed, in order, each once, stamped
with the instant it was due; a sweep finding nothing due changes nothing."""

from datetime import datetime, timedelta

import pytest

from fangkong.audit.models import AuditEntry
from fangkong.clock.actions import do_sweep
from fangkong.clock.models import SweepState
from fangkong.codes.models import CodeChange
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.tests.support import BJ, policy_source
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db
PUBLISHED = datetime(2022, 4, 21, 20, tzinfo=BJ)
RULE_STARTS = datetime(2022, 4, 23, tzinfo=BJ)
ENDS = [
    datetime(2022, 4, 22, 8, tzinfo=BJ),
    datetime(2022, 4, 23, 12, tzinfo=BJ),
    datetime(2022, 4, 24, 6, tzinfo=BJ),
]


@pytest.fixture
def stopped_clock(city):
    """Three close contacts released on three days, the rule of 21 April starting in between;
    the clock last swept on the evening of the 21st."""
    do_publish(policy_source("std-close-contact-red"), user=None, now=PUBLISHED)
    do_publish(policy_source("cc-2022-0420-untested"), user=None, now=PUBLISHED)
    for id_number, end in zip(city.nanguan, ENDS, strict=False):
        row = {
            "id_number": id_number,
            "kind": "密接",
            "start_at": (PUBLISHED - timedelta(hours=3)).isoformat(),
            "end_at": end.isoformat(),
            "designated_by": "南关区疾病预防控制中心",
        }
        assert do_ingest("designations", rows=[row], now=PUBLISHED).inserted == 1
    do_sweep(PUBLISHED)
    return city


def test_a_sweep_after_days_applies_each_missed_instant_in_order(stopped_clock):
    sweep = do_sweep(datetime(2022, 4, 25, tzinfo=BJ))
    assert [a.at for a in sweep.applied] == [ENDS[0], RULE_STARTS, ENDS[1], ENDS[2]]
    assert "cc-2022-0420-untested 第1版生效" in sweep.applied[1].what
    assert sweep.applied[1].by_transition == {"green->yellow": 28}


def test_each_released_contact_changes_once_at_the_end_of_their_designation(stopped_clock):
    do_sweep(datetime(2022, 4, 25, tzinfo=BJ))
    released = CodeChange.objects.filter(old_colour="red").exclude(new_colour="red").order_by("at")
    assert [(c.at, c.new_colour) for c in released] == [
        (ENDS[0], "green"),
        (ENDS[1], "yellow"),  # the rule of 21 April holds them once the designation ends
        (ENDS[2], "yellow"),
    ]


def test_sweeping_again_applies_nothing_twice(stopped_clock):
    do_sweep(datetime(2022, 4, 25, tzinfo=BJ))
    changes, entries = CodeChange.objects.count(), AuditEntry.objects.count()
    again = do_sweep(datetime(2022, 4, 25, tzinfo=BJ))
    later = do_sweep(datetime(2022, 4, 26, tzinfo=BJ))
    assert again.applied == later.applied == []
    assert (CodeChange.objects.count(), AuditEntry.objects.count()) == (changes, entries)
    assert SweepState.objects.get().swept_to == datetime(2022, 4, 26, tzinfo=BJ)


def test_a_sweep_of_an_earlier_time_than_already_swept_goes_nowhere(stopped_clock):
    do_sweep(datetime(2022, 4, 25, tzinfo=BJ))
    assert do_sweep(datetime(2022, 4, 22, tzinfo=BJ)).applied == []
    assert SweepState.objects.get().swept_to == datetime(2022, 4, 25, tzinfo=BJ)
