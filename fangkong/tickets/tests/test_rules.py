"""The ticket state machine and the dispatch arithmetic: every path a ticket can take, and what
can never happen."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fangkong.tickets.rules import (
    ACTIONS,
    ASSIGN,
    ASSIGNED,
    CLOSE,
    CLOSED,
    COORDINATOR,
    DISTRICT,
    DONE,
    GROUP,
    GROUP_LABELS,
    LOCAL,
    NEW,
    NOTE,
    OPEN,
    RAISE,
    RAISER,
    REOPEN,
    SIDES,
    SOLVE,
    SOLVED,
    STATES,
    Event,
    TransitionError,
    by_group,
    dispatch_day,
    due_at,
    is_overdue,
    raise_ticket,
    states_at,
    totals,
    transition,
)

T0 = datetime(2022, 4, 12, 9, 30, tzinfo=LOCAL)


def step(t, action, sides, minutes=10, **kw):
    return transition(
        t,
        action,
        actor=kw.pop("actor", "x"),
        sides=frozenset(sides),
        now=t.at + timedelta(minutes=minutes),
        **kw,
    )


def test_a_ticket_is_assigned_noted_solved_reopened_solved_again_and_closed():
    t = raise_ticket("tianhe", T0, "返岗员工380人无处住宿")
    assert t.status == NEW and t.due is None
    t = step(t, ASSIGN, {COORDINATOR}, group="staff_return", priority="urgent")
    assert (t.status, t.group, t.due) == (ASSIGNED, "staff_return", T0 + timedelta(hours=4))
    t = step(t, NOTE, {GROUP}, text="正在联系周边空闲楼宇")
    t = step(t, SOLVE, {GROUP}, text="协调周边空闲楼宇安置380人")
    assert t.status == SOLVED and t.resolution == "协调周边空闲楼宇安置380人"
    t = step(t, REOPEN, {RAISER}, text="仍有50人未安置")
    assert t.status == ASSIGNED and t.resolution == ""
    t = step(t, SOLVE, {GROUP}, text="另协调一栋楼宇,全部安置")
    t = step(t, CLOSE, {DISTRICT})
    assert t.status == CLOSED
    assert [s.action for s in t.steps] == [RAISE, ASSIGN, NOTE, SOLVE, REOPEN, SOLVE, CLOSE]


def test_the_due_time_follows_the_priority_from_the_raising_and_may_be_overridden():
    t = raise_ticket("hotline", T0, "通行证")
    assert step(t, ASSIGN, {COORDINATOR}, group="traffic", priority="high").due == T0 + timedelta(
        hours=24
    )
    assert step(t, ASSIGN, {COORDINATOR}, group="traffic").due == T0 + timedelta(hours=72)
    late = T0 + timedelta(days=5)
    assert step(t, ASSIGN, {COORDINATOR}, group="traffic", due=late).due == late
    with pytest.raises(TransitionError, match="办结时限"):
        step(t, ASSIGN, {COORDINATOR}, group="traffic", due=T0 - timedelta(hours=1))


def test_only_the_coordinator_assigns_only_the_group_solves_and_only_the_raiser_side_reopens():
    t = raise_ticket("hotline", T0, "x")
    with pytest.raises(TransitionError, match="只有综合协调组或指挥部可以分派"):
        step(t, ASSIGN, {GROUP, RAISER, DISTRICT}, group="traffic")
    t = step(t, ASSIGN, {COORDINATOR}, group="traffic")
    with pytest.raises(TransitionError, match="只有承办组成员可以办结"):
        step(t, SOLVE, {COORDINATOR, RAISER}, text="done")
    t = step(t, SOLVE, {GROUP}, text="done")
    with pytest.raises(TransitionError, match="只有提出方、所属区县可以重新打开"):
        step(t, REOPEN, {GROUP, COORDINATOR}, text="why")


def test_solving_without_a_resolution_and_reopening_without_a_reason_are_refused():
    t = step(raise_ticket("hotline", T0, "x"), ASSIGN, {COORDINATOR}, group="epidemic")
    with pytest.raises(TransitionError, match="办理结果:办结须填写办理结果"):
        step(t, SOLVE, {GROUP}, text="  ")
    t = step(t, SOLVE, {GROUP}, text="ok")
    with pytest.raises(TransitionError, match="重新打开的原因"):
        step(t, REOPEN, {RAISER})


def test_a_closed_ticket_is_final_and_an_unknown_group_is_refused():
    t = step(raise_ticket("hotline", T0, "x"), ASSIGN, {COORDINATOR}, group="epidemic")
    with pytest.raises(TransitionError, match="请选择五个工作组之一"):
        step(t, ASSIGN, {COORDINATOR}, group="canteen")
    t = step(step(t, SOLVE, {GROUP}, text="ok"), CLOSE, {RAISER})
    for action in ACTIONS:
        with pytest.raises(TransitionError, match="工单已关闭"):
            step(t, action, set(SIDES), text="x", group="epidemic")


def test_overdue_iff_open_and_past_due():
    due = T0 + timedelta(hours=4)
    assert is_overdue(ASSIGNED, due, due + timedelta(seconds=1))
    assert not is_overdue(ASSIGNED, due, due)
    assert not is_overdue(SOLVED, due, due + timedelta(days=1))
    assert not is_overdue(NEW, None, due + timedelta(days=9))
    assert due_at(T0, "normal") == T0 + timedelta(hours=72)


MOVES = st.lists(
    st.tuples(
        st.sampled_from(ACTIONS),
        st.frozensets(st.sampled_from(SIDES)),
        st.sampled_from(["", "内容"]),
        st.sampled_from(["", *GROUP_LABELS, "canteen"]),
        st.sampled_from(["", "urgent", "high", "normal"]),
        st.integers(min_value=-30, max_value=600),
    ),
    max_size=30,
)


@given(MOVES, st.integers(min_value=0, max_value=24 * 60 * 6))
def test_any_sequence_of_steps_keeps_the_rules(moves, probe_minutes):
    t = raise_ticket("raiser", T0, "问题")
    for action, sides, text, group, priority, minutes in moves:
        before = t
        try:
            t = transition(
                t,
                action,
                actor="a",
                sides=sides,
                now=t.at + timedelta(minutes=minutes),
                text=text,
                group=group,
                priority=priority,
            )
        except TransitionError:
            assert t is before
            continue
        # What was taken was allowed.
        assert before.status != CLOSED
        assert minutes >= 0
        assert sides
        assert t.status in STATES
        if action == SOLVE:
            assert before.status == ASSIGNED and GROUP in sides
        if action == ASSIGN:
            assert COORDINATOR in sides and group in GROUP_LABELS
        if action == REOPEN:
            assert before.status == SOLVED and sides & {RAISER, DISTRICT}
        if action == NOTE:
            assert t.status == before.status and text
    # What always holds.
    assert t.status in STATES
    if t.status != NEW:
        assert t.group in GROUP_LABELS and t.priority and t.due is not None
    if t.status in DONE:
        assert t.resolution
    assert all(a.at <= b.at for a, b in zip(t.steps, t.steps[1:], strict=False))
    assert [s.status for s in t.steps][-1] == t.status
    probe = T0 + timedelta(minutes=probe_minutes)
    assert t.overdue(probe) == (t.status in OPEN and t.due is not None and probe > t.due)


def events_of(pk, t):
    return [Event(pk, s.action, s.at, s.status, s.group, s.due) for s in t.steps]


def test_the_dispatch_of_a_day_counts_new_solved_open_and_overdue_per_group():
    day = date(2022, 4, 12)
    a = step(raise_ticket("x", T0, "a"), ASSIGN, {COORDINATOR}, group="traffic", priority="urgent")
    a = step(a, SOLVE, {GROUP}, minutes=60, text="ok")  # solved the same day
    b = step(raise_ticket("x", T0, "b"), ASSIGN, {COORDINATOR}, group="traffic", priority="urgent")
    c = raise_ticket("x", T0 - timedelta(days=1), "c")  # raised the day before, never assigned
    events = sorted(events_of(1, a) + events_of(2, b) + events_of(3, c), key=lambda e: e.at)
    end = datetime(2022, 4, 13, tzinfo=LOCAL)
    rows = dispatch_day(events, day, end)
    assert rows["traffic"] == {"new": 2, "solved": 1, "open": 1, "overdue": 1}
    assert rows[""] == {"new": 0, "solved": 0, "open": 1, "overdue": 0}
    # As known at 10:00 nothing was solved yet and nothing overdue.
    early = dispatch_day(events, day, T0 + timedelta(minutes=30))
    assert early["traffic"] == {"new": 2, "solved": 0, "open": 2, "overdue": 0}
    states = states_at(events, end)
    assert totals(states, end) == {"raised": 3, "solved": 1, "open": 2, "overdue": 1}
    assert by_group(states, end)["traffic"]["raised"] == 2
