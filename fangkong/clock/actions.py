"""The clock: apply every change time alone makes, at its instant, once.

`do_sweep(now)` applies, in instant order, everything due in (swept_to, now] (SweepState):
people whose stored next instant arrived, policy windows opening or closing, zone rows taking
effect; then the facts a load left pending (codes.models.PendingEvaluation). Each instant is
one transaction that takes the codes lock (fangkong.codes.locks), re-reads `swept_to`, writes the
codes, moves `swept_to` to the instant and audits it (`clock.sweep`): a second sweep running at
the same time waits and then finds the instant done, and a sweep killed midway leaves the
instant to the next one. Codes the clock changes are changes of cause TIME, stamped with the
instant they were due, or with the evaluation clock's time if codes were already evaluated
past it (codes.actions: a stored code never goes back to an older picture of the facts).

`wake(at)` brings the next scheduled sweep forward to `at`: whatever creates a future instant
(publishing a policy, a zone decision) calls it. The sweep task (fangkong.clock.tasks)
reschedules itself for the next instant anyway, and at least every CLOCK_SWEEP_MINUTES.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from fangkong.audit.actions import record
from fangkong.clock.instants import Due, next_due
from fangkong.clock.models import SweepState
from fangkong.codes.actions import (
    Outcome,
    do_evaluate_pending,
    do_reevaluate,
    do_reevaluate_everyone,
)
from fangkong.codes.locks import CODES, hold
from fangkong.codes.models import CodeChange, EvaluationClock, NextChange
from fangkong.people.models import Person

TIME = CodeChange.Cause.TIME
# A sweep applying more instants than this in one go stops and leaves the rest to the next
# (it is rescheduled at once): a worker should not be busy for hours without a word.
MAX_INSTANTS = 10_000


@dataclass
class Applied:
    at: datetime
    what: list[str]
    evaluated: int
    changed: int
    by_transition: dict[str, int]

    def as_dict(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "what": self.what,
            "evaluated": self.evaluated,
            "changed": self.changed,
            "by_transition": self.by_transition,
        }


@dataclass
class Sweep:
    swept_from: datetime
    swept_to: datetime
    applied: list[Applied] = field(default_factory=list)
    pending: int = 0  # people re-evaluated for pending facts
    complete: bool = True  # False: stopped at MAX_INSTANTS, more is due


def swept_to(now: datetime) -> datetime:
    """How far time has been applied. Before the first sweep: as far as codes were evaluated
    (the evaluation clock), else `now` — nothing before either is the clock's to apply."""
    at = SweepState.objects.filter(pk=1).values_list("swept_to", flat=True).first()
    if at is not None:
        return at
    return EvaluationClock.objects.filter(pk=1).values_list("at", flat=True).first() or now


def do_sweep(now: datetime) -> Sweep:
    """Apply everything due up to `now` (see the module's docstring)."""
    _start(now)
    start = swept_to(now)
    sweep = Sweep(start, start)
    while True:
        if len(sweep.applied) >= MAX_INSTANTS:
            sweep.complete = False
            break
        with transaction.atomic():
            hold(CODES)
            state = SweepState.objects.select_for_update().get(pk=1)
            due = next_due(state.swept_to, now)
            if due is None:
                break
            sweep.applied.append(_apply(due, state, now))
    with transaction.atomic():
        hold(CODES)
        state = SweepState.objects.select_for_update().get(pk=1)
        if sweep.complete:
            if state.swept_to < now:
                state.swept_to = now
                state.save(update_fields=["swept_to"])
            # Last: evaluating as of `now` moves the evaluation clock there.
            sweep.pending = do_evaluate_pending(now, detail="时钟:补做待重新判定").evaluated
        sweep.swept_to = state.swept_to
        if sweep.pending:
            record(
                None,
                "clock.sweep",
                "clock",
                "pending",
                {"at": now.isoformat(), "what": ["待重新判定"], "evaluated": sweep.pending},
                at=now,
            )
    return sweep


def _start(now: datetime) -> None:
    """The very first sweep: every person's next instant is stored by an evaluation, and
    people evaluated before the clock existed have none, so everyone is evaluated once."""
    if SweepState.objects.filter(pk=1).exists():
        return
    with transaction.atomic():
        hold(CODES)
        if SweepState.objects.select_for_update().filter(pk=1).exists():
            return
        start = swept_to(now)
        do_reevaluate_everyone(start, cause=TIME, detail="时钟启动:记录每人的下次判定时间")
        SweepState.objects.create(pk=1, swept_to=start)


def _apply(due: Due, state: SweepState, now: datetime) -> Applied:
    """Everything due at one instant, in the caller's transaction (codes lock held)."""
    what = list(due.policies)
    what += [f"社区 {code} {'、'.join(words)}" for code, words in sorted(due.communities.items())]
    people: list[int] = []
    if due.people:
        people = list(NextChange.objects.filter(at__lte=due.at).values_list("person_id", flat=True))
        what.append(f"{len(people)}人到期重新判定")
    detail = ";".join(what)
    if due.policies:
        outcome = do_reevaluate_everyone(due.at, cause=TIME, detail=detail)
    else:
        residents = Person.objects.filter(community_id__in=list(due.communities))
        ids = people + list(residents.values_list("pk", flat=True))
        outcome = do_reevaluate(ids, due.at, cause=TIME, detail=detail) if ids else Outcome(0, 0)
    # An instant is consumed even if an evaluation as of a later clock left it in place.
    NextChange.objects.filter(person_id__in=people, at__lte=due.at).delete()
    if due.at > state.swept_to:
        state.swept_to = due.at
        state.save(update_fields=["swept_to"])
    applied = Applied(due.at, what, outcome.evaluated, outcome.changed, outcome.by_transition)
    record(None, "clock.sweep", "clock", due.at.isoformat(), applied.as_dict(), at=now)
    return applied


def wake(at: datetime | None) -> None:
    """Make sure a sweep runs at `at` (or earlier): for anything that creates a future instant.
    None: nothing to do."""
    if at is None:
        return
    from fangkong.clock.scheduling import schedule

    schedule(at)
