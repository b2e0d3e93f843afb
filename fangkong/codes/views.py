"""The command centre's overview: how many green, yellow and red codes each district has as of a
chosen moment, as a stacked bar chart (server-drawn SVG) and a table."""

from __future__ import annotations

import math

from django.contrib.auth.decorators import login_required
from django.utils import timezone

from fangkong.accounts.scoping import districts_of, has_role, require_role
from fangkong.accounts.views import CODE_STATS_READERS, POLICY_READERS, render_staff
from fangkong.base.display import num
from fangkong.codes.queries import stats_by_county
from fangkong.policies.forms import AsOfForm, local_input_value
from fangkong.policies.queries import published_policies

COLOURS = ("green", "yellow", "red")
COLOUR_LABELS = {"green": "绿码", "yellow": "黄码", "red": "红码"}

# Chart geometry, in SVG user units (the SVG scales to the page width).
CHAR_WIDTH = 13.5  # one Chinese character of a district name at the chart's font size
BAR_WIDTH = 560
NOTE_WIDTH = 170
ROW_HEIGHT = 26
BAR_HEIGHT = 16
AXIS_HEIGHT = 22
MIN_SEGMENT = 2  # a non-zero count stays visible however small


def nice_step(value: float) -> int:
    """The smallest 1, 2, 2.5 or 5 × 10^k at or above value (at least 1), for axis ticks."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return max(1, int(step * power))
    return 10 * power


def bar_chart(rows: list[dict]) -> dict:
    """Geometry of a stacked horizontal bar per district; lengths are proportional to counts on
    one scale for all districts."""
    largest = max((r["total"] for r in rows), default=0)
    step = nice_step(largest / 5)
    top = max(step, math.ceil(largest / step) * step)
    scale = BAR_WIDTH / top
    label_width = round(CHAR_WIDTH * max((len(r["name"]) for r in rows), default=4) + 14)
    bars = []
    for i, row in enumerate(rows):
        y = AXIS_HEIGHT + i * ROW_HEIGHT
        x = label_width
        segments = []
        for colour in COLOURS:
            count = row[colour]
            if not count:
                continue
            width = max(count * scale, MIN_SEGMENT)
            segments.append(
                {
                    "colour": colour,
                    "x": round(x, 2),
                    "width": round(width, 2),
                    "title": f"{row['name']} {COLOUR_LABELS[colour]} {num(count)}人",
                }
            )
            x += width
        note = f"黄 {num(row['yellow'])} · 红 {num(row['red'])}"
        bars.append(
            {
                "name": row["name"],
                "y": y,
                "bar_y": y + (ROW_HEIGHT - BAR_HEIGHT) / 2,
                "text_y": y + ROW_HEIGHT / 2 + 5,
                "segments": segments,
                "note": note,
                "note_x": round(x + 6, 2),
            }
        )
    ticks = [
        {"x": round(label_width + value * scale, 2), "label": num(value)}
        for value in range(0, top + 1, step)
    ]
    height = AXIS_HEIGHT + ROW_HEIGHT * len(rows) + 6
    return {
        "width": label_width + BAR_WIDTH + NOTE_WIDTH,
        "height": height,
        "bars": bars,
        "ticks": ticks,
        "label_x": label_width - 8,
        "bar_height": BAR_HEIGHT,
        "axis_y": AXIS_HEIGHT - 8,
        "grid_bottom": height - 6,
    }


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


@login_required
def overview(request):
    require_role(request.user, CODE_STATS_READERS)
    form = AsOfForm(request.GET or None)
    now = timezone.now()
    as_of = now
    if form.is_bound and form.is_valid() and form.cleaned_data["at"] is not None:
        as_of = form.cleaned_data["at"]
    rows = stats_by_county(as_of)
    scope = districts_of(request.user)
    if scope is not None:
        rows = [r for r in rows if r["code"] in scope]
    for row in rows:
        row["total"] = row["green"] + row["yellow"] + row["red"]
        row["yellow_share"] = _share(row["yellow"], row["total"])
        row["red_share"] = _share(row["red"], row["total"])
    totals = {c: sum(r[c] for r in rows) for c in COLOURS}
    totals["total"] = sum(totals.values())
    totals["yellow_share"] = _share(totals["yellow"], totals["total"])
    totals["red_share"] = _share(totals["red"], totals["total"])
    policies = sorted(
        (p for p in published_policies(as_of) if p.in_force(as_of)),
        key=lambda p: ({"red": 0, "yellow": 1}.get(p.colour, 2), p.id),
    )
    return render_staff(
        request,
        "codes/overview.html",
        {
            "form": form,
            "at_value": local_input_value(as_of),
            "as_of": as_of,
            "is_now": as_of is now,
            "rows": rows,
            "totals": totals,
            "chart": bar_chart(rows),
            "city_wide": scope is None,
            "policies": policies,
            "can_read_policies": has_role(request.user, POLICY_READERS),
        },
    )
