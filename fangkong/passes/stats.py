"""Figures of vehicle passes as of a moment: what was recorded by then (the JSON contract of
`fangkong passes stats --json` and GET /api/passes/stats)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from fangkong.passes.models import Decision, PassBatch, VehiclePass
from fangkong.passes.rules import HANDLING_LIMIT, LOCAL, handling_figures, local_day


def figures(as_of: datetime, districts: frozenset[str] | None = None) -> dict:
    """applied, issued, rejected, pending …, by batch, district and day. `districts` None is
    the whole city. Every count is of rows recorded by `as_of`."""
    qs = VehiclePass.objects.filter(applied_at__lte=as_of)
    if districts is not None:
        qs = qs.filter(county_code__in=sorted(districts))
    rows = list(
        qs.values(
            "pk",
            "county_code",
            "applied_at",
            "decision",
            "decided_at",
            "issued_at",
            "revoked_at",
            "batch__number",
            "previous_id",
        )
    )
    decided = [r for r in rows if r["decided_at"] is not None and r["decided_at"] <= as_of]
    decided_ids = {r["pk"] for r in decided}
    issued = [r for r in rows if r["issued_at"] is not None and r["issued_at"] <= as_of]
    pending = [r for r in rows if r["pk"] not in decided_ids]
    batches = defaultdict(int)
    for r in issued:
        batches[r["batch__number"]] += 1
    closed = PassBatch.objects.filter(closed_at__lte=as_of, number__in=list(batches))
    by_district = defaultdict(lambda: defaultdict(int))
    by_day = defaultdict(lambda: defaultdict(int))
    for r in rows:
        by_district[r["county_code"]]["applied"] += 1
        by_day[local_day(r["applied_at"])]["applied"] += 1
    for r in decided:
        key = "approved" if r["decision"] == Decision.APPROVED else "rejected"
        by_district[r["county_code"]][key] += 1
        by_day[local_day(r["decided_at"])][key] += 1
    for r in issued:
        by_district[r["county_code"]]["issued"] += 1
        by_day[local_day(r["issued_at"])]["issued"] += 1
    for r in pending:
        by_district[r["county_code"]]["pending"] += 1
    from fangkong.places.models import Division

    names = dict(Division.objects.filter(pk__in=list(by_district)).values_list("code", "name"))
    counts = ("applied", "approved", "rejected", "issued", "pending")
    return {
        "as_of": as_of.astimezone(LOCAL).isoformat(),
        "applied": len(rows),
        "reapplied": sum(1 for r in rows if r["previous_id"] is not None),
        "decided": len(decided),
        "approved": sum(1 for r in decided if r["decision"] == Decision.APPROVED),
        "rejected": sum(1 for r in decided if r["decision"] == Decision.REJECTED),
        "issued": len(issued),
        "revoked": sum(1 for r in rows if r["revoked_at"] is not None and r["revoked_at"] <= as_of),
        "pending": len(pending),
        "overdue_pending": sum(1 for r in pending if as_of - r["applied_at"] >= HANDLING_LIMIT),
        "batches": [
            {
                "number": b.number,
                "issued": batches[b.number],
                "closed_at": b.closed_at.astimezone(LOCAL).isoformat(),
            }
            for b in closed.order_by("number")
        ],
        **handling_figures(r["decided_at"] - r["applied_at"] for r in decided),
        "by_district": [
            {"county_code": code, "name": names.get(code, code), **{k: d[k] for k in counts}}
            for code, d in sorted(by_district.items())
        ],
        "by_day": [
            {"date": day, **{k: d[k] for k in counts if k != "pending"}}
            for day, d in sorted(by_day.items())
        ],
    }
