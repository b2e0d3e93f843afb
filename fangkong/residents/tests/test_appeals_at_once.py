"""Two appeals posted at the same moment, from two processes on their own connections, count
against the daily limit one after the other: the second is refused, not let through because
the first had not committed yet (issue 11, item 10).

Both posts are made to wait at the same point: PostgreSQL — the test holds the resident's row
(the old count ran before any lock and then waited on it, inserting its appeal); SQLite — the
test holds the database's write lock (the old count ran before its transaction began). The
test lets go once both are waiting."""

import sqlite3
import time
from datetime import datetime

import pytest
from django.db import connection, transaction

from fangkong.clearances.models import Channel, Clearance
from fangkong.ingest.tests.support import BJ, build_city, policy_source
from fangkong.people.models import Person
from fangkong.places.loading import load_divisions
from fangkong.policies.actions import do_publish
from fangkong.residents.tests.processes import Processes, until

pytestmark = pytest.mark.django_db(transaction=True)
POLICY = "cc-2022-0420-untested"
ANOTHER = "cc-2022-0420-untested-again"


@pytest.fixture
def resident(transactional_db):
    """A resident yellow for two reasons, so that two appeals can be open at once."""
    load_divisions()  # a transactional test starts from an empty database
    city = build_city()
    published = datetime(2022, 4, 23, tzinfo=BJ)
    source = policy_source(POLICY)
    do_publish(source, user=None, now=published)
    do_publish(source.replace(f'id = "{POLICY}"', f'id = "{ANOTHER}"'), user=None, now=published)
    return Person.objects.get(id_number=city.nanguan[0])


@pytest.fixture
def children(tmp_path):
    started = Processes(tmp_path, FANGKONG_APPEALS_PER_DAY="1")
    yield started
    started.stop()


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def post_appeal(children, person, policy_id) -> None:
    children.start("fangkong.residents.tests.appeal_process", person.pk, policy_id)


def test_two_appeals_posted_at_once_do_not_pass_the_daily_limit(resident, children):
    for policy_id in (POLICY, ANOTHER):
        post_appeal(children, resident, policy_id)
    children.ready()
    if children.pg:
        with transaction.atomic():
            Person.objects.select_for_update().get(pk=resident.pk)
            children.go()
            until(lambda: waiting_on_locks() >= 2, what="the two posts never got to wait")
    else:
        holder = sqlite3.connect(children.file, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        children.go()
        time.sleep(1.5)  # both posts get to their writes: SQLite cannot tell who waits
        holder.execute("ROLLBACK")
        holder.close()
    answers = children.answers()
    assert sorted(a["status"] for a in answers) == [200, 302]
    refused = next(a for a in answers if a["status"] == 200)
    assert "24小时内最多提交 1 次申诉" in " ".join(refused["messages"])
    assert Clearance.objects.filter(person=resident, channel=Channel.APPEAL).count() == 1


def test_the_appeals_of_different_residents_do_not_wait_for_each_other(resident, children):
    other = Person.objects.exclude(pk=resident.pk).first()
    for person in (resident, other):
        post_appeal(children, person, POLICY)
    children.ready()
    children.go()
    answers = children.answers()
    assert [a["status"] for a in answers] == [302, 302]
    assert Clearance.objects.filter(channel=Channel.APPEAL).count() == 2
