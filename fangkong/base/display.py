"""Template filters every page uses (registered as builtins in settings: no `{% load %}`).

`when`: a time as residents and staff read it, in Beijing time — "4月23日 00:00" within the
current year, "2022年4月23日 00:00" in any other, so that a date read years later is not
mistaken for this year's. `day` is the same for a date alone. `num`: a count with thousands
separators ("12,345"); ids and codes are not counts and stay as they are.
"""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import timezone

register = template.Library()


def _this_year() -> int:
    return timezone.localtime().year


@register.filter
def when(value) -> str:
    if not isinstance(value, datetime):
        return "" if value is None else str(value)
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    text = f"{local.month}月{local.day}日 {local:%H:%M}"
    return text if local.year == _this_year() else f"{local.year}年{text}"


@register.filter
def day(value) -> str:
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    if not isinstance(value, date):
        return "" if value is None else str(value)
    text = f"{value.month}月{value.day}日"
    return text if value.year == _this_year() else f"{value.year}年{text}"


@register.filter
def num(value) -> str:
    """12345 → "12,345"; anything that is not a number is shown as it is."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"
    try:
        return f"{int(str(value)):,}"
    except ValueError:
        return str(value)
