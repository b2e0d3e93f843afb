"""The sign-in counts' table keeps no ID number or address in clear and forgets the clients and
accounts that have not been seen for a day (fangkong.accounts.throttle)."""

from datetime import datetime, timedelta, timezone

import pytest

from fangkong.accounts import throttle
from fangkong.accounts.models import Throttle

pytestmark = pytest.mark.django_db
BJ = timezone(timedelta(hours=8))
NINE = datetime(2022, 4, 24, 9, tzinfo=BJ)
RULE = throttle.Rule("resident-client", 2, timedelta(minutes=10), timedelta(minutes=30))


def test_the_table_holds_keyed_hashes_not_addresses_or_id_numbers():
    throttle.hit(RULE, "203.0.113.7", NINE)
    throttle.hit(RULE, "220102198001010012", NINE)
    keys = list(Throttle.objects.values_list("key", flat=True))
    assert len(keys) == 2 and all(len(key) == 64 for key in keys)
    assert not any("203.0.113.7" in key or "220102" in key for key in keys)


def test_a_client_unseen_for_a_day_is_forgotten_when_a_new_one_comes():
    throttle.hit(RULE, "203.0.113.1", NINE)
    for _ in range(3):
        throttle.hit(RULE, "203.0.113.2", NINE + timedelta(hours=23))
    throttle.hit(RULE, "203.0.113.3", NINE + timedelta(days=1, minutes=1))
    assert Throttle.objects.count() == 2  # the first went; the one seen within the day stays
    assert throttle.locked(RULE, "203.0.113.2", NINE + timedelta(hours=23, minutes=29))


def test_a_refused_attempt_does_not_stretch_the_lockout():
    for _ in range(3):
        refusal = throttle.hit(RULE, "203.0.113.1", NINE)
    assert refusal.until == NINE + timedelta(minutes=30)
    later = throttle.hit(RULE, "203.0.113.1", NINE + timedelta(minutes=20))
    assert later.until == NINE + timedelta(minutes=30)
    assert throttle.hit(RULE, "203.0.113.1", NINE + timedelta(minutes=30)) is None
