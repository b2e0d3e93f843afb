"""`fangkong demo` tells the problems 长春新区's "1+5" task force solved, 8–20 April 2022: the
dispatch of 20 April 24:00 shows 183 solved across the five groups (and some still open), 天合富奥's
380 returning workers housed in nearby vacant buildings and 1 080 beds in 3 schools — computed
from the stored tickets, by the dispatch figures and by a count of our own in SQL."""

import json

import pytest

from fangkong.accounts.models import Role
from fangkong.audit.models import AuditEntry
from fangkong.cli import main
from fangkong.demo.enterprises import DISTRICT, TIANHE
from fangkong.demo.tickets import GROUP_ACCOUNTS, SCHOOL_BEDS, replay_tickets
from fangkong.tickets.models import GroupMember, TaskGroup, Ticket, TicketStep
from fangkong.tickets.rules import day_end
from fangkong.tickets.stats import figures
from fangkong.tickets.tests.test_tickets import counted_in_sql

pytestmark = pytest.mark.django_db
END = "2022-04-20T24:00"


@pytest.fixture(scope="module")
def replayed(story_city, django_db_blocker):
    """The story city (fangkong.demo.tests.conftest), then the tickets, replayed twice: the
    second run must create nothing."""
    with django_db_blocker.unblock():
        first = replay_tickets(seed=7)
        counts = (Ticket.objects.count(), TicketStep.objects.count(), AuditEntry.objects.count())
        second = replay_tickets(seed=7)
        again = (Ticket.objects.count(), TicketStep.objects.count(), AuditEntry.objects.count())
    return first, second, counts, again


def test_the_dispatch_of_20_april_shows_183_solved_across_the_five_groups(replayed):
    first, _, _, _ = replayed
    from datetime import date

    shown = figures(day_end(date(2022, 4, 20)), county=DISTRICT)
    assert shown["solved"] == first["solved"] == 183
    assert shown["open"] == first["open"] > 0
    assert shown["raised"] == shown["solved"] + shown["open"]
    assert sum(g["solved"] for g in shown["by_group"]) == 183
    assert all(g["solved"] > 0 for g in shown["by_group"])
    sql = counted_in_sql(DISTRICT, day_end(date(2022, 4, 20)))
    keys = ("raised", "solved", "open", "overdue")
    assert {k: sql[k] for k in keys} == {k: shown[k] for k in keys}
    for g in shown["by_group"]:
        assert {k: g[k] for k in keys} == sql["by_group"][g["group"]]
    assert sql["by_group"][""]["raised"] == shown["unassigned"] > 0
    # Some were reopened by the raiser and solved again; some are overdue that evening.
    assert TicketStep.objects.filter(action="reopen", ticket__county_code=DISTRICT).exists()
    assert shown["overdue"] > 0
    assert "已解决183个" in first["text"]


def test_tianhe_raised_its_housing_problem_itself_and_380_workers_were_housed(replayed):
    first, _, _, _ = replayed
    ticket = Ticket.objects.get(enterprise__name=TIANHE, category="housing")
    assert ticket.channel == "enterprise" and ticket.raised_by.username == "tianhe"
    assert ticket.status == "closed" and ticket.group.kind == "staff_return"
    assert "妥善安置返岗员工380人" in ticket.resolution
    assert "天合富奥请求解决返岗员工住宿问题" in ticket.description
    assert (first["schools"], first["beds"]) == (len(SCHOOL_BEDS), 1080)
    assert "3所学校1080个床位" in first["text"]


def test_the_task_force_has_five_groups_each_with_its_account(replayed):
    first, _, _, _ = replayed
    groups = TaskGroup.objects.filter(county_code=DISTRICT)
    assert groups.count() == 5
    for username, kind, _ in GROUP_ACCOUNTS:
        member = GroupMember.objects.get(user__username=username)
        assert member.group.kind == kind and member.lead
        assert member.user.staff.role == Role.TASK_GROUP
        assert member.user.staff.districts == [DISTRICT]
    assert [a["username"] for a in first["accounts"]] == [u for u, _, _ in GROUP_ACCOUNTS]


def test_a_second_run_creates_nothing(replayed):
    first, second, counts, again = replayed
    assert first["created"] == 195 and second["created"] == 0
    assert counts == again
    assert {k: v for k, v in second.items() if k != "created"} == {
        k: v for k, v in first.items() if k != "created"
    }


def test_the_cli_json_is_the_same_figures(replayed, capsys):
    capsys.readouterr()
    assert main(["tickets", "stats", "--as-of", END, "--county", DISTRICT, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["solved"] == 183
    assert [g["group_label"] for g in shown["by_group"]] == [
        "综合协调组",
        "员工返岗协调组",
        "车辆交通协调组",
        "疫情防控协调组",
        "物资保障协调组",
    ]
