"""The pure rules of vehicle passes: plate and validity checks, the 24-hour handling clock
(全天候专人处置) and the figures. No Django, no database (import-linted)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")
HANDLING_LIMIT = timedelta(hours=24)
LONGEST_VALIDITY = timedelta(days=14)
# An application may ask for a pass starting at most this far ahead.
LATEST_START = timedelta(days=7)

PHONE = re.compile(r"^1[3-9][0-9]{9}$")


class PassError(ValueError):
    """Bad input; the message names the field and the reason, in Chinese."""


def check_validity(valid_from: datetime, valid_until: datetime, now: datetime) -> None:
    if valid_until <= valid_from:
        raise PassError("有效期至:应晚于有效期自")
    if valid_until - valid_from > LONGEST_VALIDITY:
        raise PassError(f"有效期:最长{LONGEST_VALIDITY.days}天")
    if valid_until <= now:
        raise PassError("有效期至:已经过去")
    if valid_from > now + LATEST_START:
        raise PassError(f"有效期自:最多提前{LATEST_START.days}天申请")


def handling(applied_at: datetime, decided_at: datetime | None, now: datetime) -> timedelta:
    """Elapsed time on the clock: from the application to the decision, or to now while it is
    pending. Elapsed, not working hours: a night counts like a day."""
    return (decided_at or now) - applied_at


def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def overdue(applied_at: datetime, decided_at: datetime | None, now: datetime) -> bool:
    return handling(applied_at, decided_at, now) >= HANDLING_LIMIT


def clock_text(delta: timedelta) -> str:
    """3小时05分, 1天2小时 — what the officers' queue shows."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 0:
        minutes = 0
    days, rest = divmod(minutes, 1440)
    h, m = divmod(rest, 60)
    if days:
        return f"{days}天{h}小时{m:02d}分"
    return f"{h}小时{m:02d}分"


def handling_figures(durations: Iterable[timedelta]) -> dict:
    """Median handling hours and the share decided within 24 hours, of decided applications."""
    spans = [hours(d) for d in durations]
    if not spans:
        return {"median_handling_hours": None, "within_24h": None}
    within = sum(1 for h in spans if h < hours(HANDLING_LIMIT))
    return {
        "median_handling_hours": round(median(spans), 2),
        "within_24h": round(within / len(spans), 4),
    }


def local_day(moment: datetime) -> str:
    return moment.astimezone(LOCAL).date().isoformat()
