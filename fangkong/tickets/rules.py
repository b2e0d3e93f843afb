"""The life of a problem ticket (问题工单), as a pure state machine, and the dispatch figures.

    new ──assign──▶ assigned ──solve──▶ solved ──close──▶ closed
                     ▲   │ assign (改派)      │
                     │   └──────────┘         │
                     └──────────reopen────────┘
    note: in every state but closed, the status does not change.

Who (the side the actor takes, `fangkong.tickets.access.sides_of`):
- "coordinator" — the 综合协调组 of the ticket's district or the command centre: assigns (and
  reassigns) to one of the five groups, with a priority and a due time;
- "group" — a member of the group the ticket is assigned to: solves it, with what was done;
- "raiser" — the enterprise, the hotline operator or the liaison who raised it, and "district" —
  the district that keeps the enterprise: reopen a solved ticket (with the reason) or close it;
- anyone of these adds notes (append-only).

Invariants the property tests check: the status is always one of STATES; an assigned, solved or
closed ticket has a group, a priority and a due time; a solved or closed ticket has a resolution;
time never runs backwards; closed is final. Overdue iff open (new or assigned) and past due at
`now`. Django-free: the tickets app stores the steps and writes their audit records.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")

NEW = "new"
ASSIGNED = "assigned"
SOLVED = "solved"
CLOSED = "closed"
STATES = (NEW, ASSIGNED, SOLVED, CLOSED)
STATUS_LABELS = {NEW: "待分派", ASSIGNED: "办理中", SOLVED: "已解决", CLOSED: "已关闭"}
OPEN = frozenset({NEW, ASSIGNED})
DONE = frozenset({SOLVED, CLOSED})

RAISE = "raise"
ASSIGN = "assign"
NOTE = "note"
SOLVE = "solve"
REOPEN = "reopen"
CLOSE = "close"
ACTIONS = (ASSIGN, NOTE, SOLVE, REOPEN, CLOSE)
ACTION_LABELS = {
    RAISE: "提出问题",
    ASSIGN: "分派",
    NOTE: "补充记录",
    SOLVE: "办结",
    REOPEN: "重新打开",
    CLOSE: "确认关闭",
}

COORDINATOR = "coordinator"
GROUP = "group"
RAISER = "raiser"
DISTRICT = "district"
SIDES = (COORDINATOR, GROUP, RAISER, DISTRICT)
SIDE_LABELS = {
    COORDINATOR: "综合协调组或指挥部",
    GROUP: "承办组成员",
    RAISER: "提出方",
    DISTRICT: "所属区县",
}

# action: (from statuses, to status (None: unchanged), sides that may, text required)
TRANSITIONS = {
    ASSIGN: (frozenset({NEW, ASSIGNED}), ASSIGNED, frozenset({COORDINATOR}), False),
    NOTE: (frozenset({NEW, ASSIGNED, SOLVED}), None, frozenset(SIDES), True),
    SOLVE: (frozenset({ASSIGNED}), SOLVED, frozenset({GROUP}), True),
    REOPEN: (frozenset({SOLVED}), ASSIGNED, frozenset({RAISER, DISTRICT}), True),
    CLOSE: (frozenset({SOLVED}), CLOSED, frozenset({RAISER, DISTRICT}), False),
}
TEXT_NAMES = {NOTE: "记录内容", SOLVE: "办理结果", REOPEN: "重新打开的原因"}

# The five groups of the "1+5" task force (复工复产工作专班), as data.
COORDINATION = "coordination"
GROUPS = (
    (COORDINATION, "综合协调组"),
    ("staff_return", "员工返岗协调组"),
    ("traffic", "车辆交通协调组"),
    ("epidemic", "疫情防控协调组"),
    ("supplies", "物资保障协调组"),
)
GROUP_LABELS = dict(GROUPS)

# What a problem is about, and the group it usually goes to (a suggestion: the coordinator
# decides).
CATEGORIES = (
    ("staff_return", "员工返岗", "staff_return"),
    ("housing", "员工住宿", "staff_return"),
    ("pass", "车辆通行证", "traffic"),
    ("logistics", "物流运输", "traffic"),
    ("testing", "核酸检测与疫情防控", "epidemic"),
    ("living_supplies", "生活物资", "supplies"),
    ("protective_supplies", "防疫物资", "supplies"),
    ("supply_chain", "产业链配套", COORDINATION),
    ("policy", "政策咨询", COORDINATION),
    ("other", "其他", COORDINATION),
)
CATEGORY_LABELS = {value: label for value, label, _ in CATEGORIES}
SUGGESTED_GROUP = {value: group for value, _, group in CATEGORIES}

URGENT, HIGH, NORMAL = "urgent", "high", "normal"
PRIORITIES = ((URGENT, "紧急"), (HIGH, "较急"), (NORMAL, "一般"))
PRIORITY_LABELS = dict(PRIORITIES)
# How long the group has, from the raising of the ticket, by priority (overridable).
DUE_HOURS = {URGENT: 4, HIGH: 24, NORMAL: 72}


class TransitionError(ValueError):
    """A step the ticket cannot take; the message says why, in Chinese."""


def due_at(raised_at: datetime, priority: str) -> datetime:
    if priority not in DUE_HOURS:
        raise TransitionError(f"优先级:未知的优先级 {priority!r}")
    return raised_at + timedelta(hours=DUE_HOURS[priority])


def is_overdue(status: str, due: datetime | None, now: datetime) -> bool:
    """Open (not yet solved) and past its due time at `now`."""
    return status in OPEN and due is not None and now > due


@dataclass(frozen=True)
class Step:
    action: str
    status: str  # after the step
    actor: str
    at: datetime
    text: str = ""
    group: str = ""  # after the step
    priority: str = ""
    due: datetime | None = None


@dataclass(frozen=True)
class Ticket:
    status: str
    raised_by: str
    raised_at: datetime
    group: str = ""
    priority: str = ""
    due: datetime | None = None
    resolution: str = ""
    steps: tuple[Step, ...] = ()

    @property
    def at(self) -> datetime:
        return self.steps[-1].at if self.steps else self.raised_at

    def overdue(self, now: datetime) -> bool:
        return is_overdue(self.status, self.due, now)


def raise_ticket(raised_by: str, now: datetime, description: str, priority: str = "") -> Ticket:
    if not raised_by:
        raise TransitionError("提出人:不能为空")
    if not description.strip():
        raise TransitionError("问题描述:不能为空")
    if priority and priority not in DUE_HOURS:
        raise TransitionError(f"优先级:未知的优先级 {priority!r}")
    due = due_at(now, priority) if priority else None
    step = Step(RAISE, NEW, raised_by, now, description.strip(), "", priority, due)
    return Ticket(NEW, raised_by, now, "", priority, due, "", (step,))


def transition(
    ticket: Ticket,
    action: str,
    *,
    actor: str,
    sides: frozenset[str] | set[str],
    now: datetime,
    text: str = "",
    group: str = "",
    priority: str = "",
    due: datetime | None = None,
) -> Ticket:
    """The ticket after `actor`, on the `sides` they take for it, takes `action`."""
    if action not in TRANSITIONS:
        raise TransitionError(f"未知的操作: {action}")
    sources, target, allowed, needs_text = TRANSITIONS[action]
    label = ACTION_LABELS[action]
    if ticket.status == CLOSED:
        raise TransitionError(f"工单已关闭,不能再{label}")
    if ticket.status not in sources:
        raise TransitionError(f"工单{STATUS_LABELS[ticket.status]}时不能{label}")
    if not allowed & set(sides):
        names = "、".join(SIDE_LABELS[s] for s in SIDES if s in allowed)
        raise TransitionError(f"只有{names}可以{label}")
    text = text.strip()
    if needs_text and not text:
        raise TransitionError(f"{TEXT_NAMES[action]}:{label}须填写{TEXT_NAMES[action]}")
    if now < ticket.at:
        raise TransitionError("时间早于上一步,请检查系统时钟")
    changes: dict = {}
    if action == ASSIGN:
        if group not in GROUP_LABELS:
            raise TransitionError("承办组:请选择五个工作组之一")
        priority = priority or ticket.priority or NORMAL
        if priority not in DUE_HOURS:
            raise TransitionError(f"优先级:未知的优先级 {priority!r}")
        due = due or due_at(ticket.raised_at, priority)
        if due <= ticket.raised_at:
            raise TransitionError("办结时限:应晚于问题提出的时间")
        changes = {"group": group, "priority": priority, "due": due}
    elif action == SOLVE:
        changes = {"resolution": text}
    elif action == REOPEN:
        changes = {"resolution": ""}
    status = target or ticket.status
    after = replace(ticket, status=status, **changes)
    step = Step(action, status, actor, now, text, after.group, after.priority, after.due)
    return replace(after, steps=(*ticket.steps, step))


# --- the daily dispatch (日调度) -----------------------------------------------------------------


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL)


def day_end(day: date) -> datetime:
    """The end of a Beijing day: the start of the next (exclusive)."""
    return day_start(day + timedelta(days=1))


@dataclass(frozen=True)
class Event:
    """One stored step, as the figures read it: `ticket` is the ticket's id."""

    ticket: int
    action: str
    at: datetime
    status: str
    group: str
    due: datetime | None


@dataclass(frozen=True)
class State:
    status: str
    group: str
    due: datetime | None
    raised_at: datetime


def states_at(events: list[Event], moment: datetime) -> dict[int, State]:
    """Each ticket raised before `moment` (exclusive), as it stood then. `events` in the order
    they happened."""
    raised: dict[int, datetime] = {}
    states: dict[int, State] = {}
    for e in events:
        if e.at >= moment:
            continue
        if e.action == RAISE:
            raised[e.ticket] = e.at
        if e.ticket in raised:
            states[e.ticket] = State(e.status, e.group, e.due, raised[e.ticket])
    return states


UNASSIGNED = ""


def totals(states: dict[int, State], moment: datetime) -> dict:
    """raised, solved, open, overdue of the tickets as they stood at `moment`."""
    raised = len(states)
    solved = sum(s.status in DONE for s in states.values())
    open_ = sum(s.status in OPEN for s in states.values())
    overdue = sum(is_overdue(s.status, s.due, moment) for s in states.values())
    return {"raised": raised, "solved": solved, "open": open_, "overdue": overdue}


def by_group(states: dict[int, State], moment: datetime) -> dict[str, dict]:
    """The same per group (the group the ticket stood with then; "" not yet assigned)."""
    out: dict[str, dict] = {}
    for key in [g for g, _ in GROUPS] + [UNASSIGNED]:
        mine = {k: s for k, s in states.items() if s.group == key}
        out[key] = totals(mine, moment)
    return out


def dispatch_day(events: list[Event], day: date, as_of: datetime) -> dict[str, dict]:
    """The dispatch of one day per group, as known at `as_of`: new (raised that day), solved
    (solved that day and still solved or closed at the end of it: a ticket reopened and solved
    again on a later day counts on that day too), open and overdue at the end of the day;
    `as_of` before the end of the day stops the day there."""
    start, end = day_start(day), min(day_end(day), as_of)
    states = states_at(events, end)
    solved_today = {e.ticket for e in events if e.action == SOLVE and start <= e.at < end}
    rows: dict[str, dict] = {}
    for key in [g for g, _ in GROUPS] + [UNASSIGNED]:
        mine = {k: s for k, s in states.items() if s.group == key}
        rows[key] = {
            "new": sum(1 for s in mine.values() if start <= s.raised_at < end),
            "solved": sum(1 for k, s in mine.items() if s.status in DONE and k in solved_today),
            "open": sum(s.status in OPEN for s in mine.values()),
            "overdue": sum(is_overdue(s.status, s.due, end) for s in mine.values()),
        }
    return rows


# Choices for the models (value, label).
CATEGORIES_CHOICES = tuple((value, label) for value, label, _ in CATEGORIES)
STATUS_CHOICES = tuple((s, STATUS_LABELS[s]) for s in STATES)
ACTION_CHOICES = tuple((a, ACTION_LABELS[a]) for a in (RAISE, *ACTIONS))
