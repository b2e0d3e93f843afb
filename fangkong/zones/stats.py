"""`zones stats`: what is in force at a time, as counted for the city (README, JSON contract)."""

from __future__ import annotations

from datetime import datetime

from fangkong.zones.epidemic_free import totals
from fangkong.zones.queries import level_counts

ZONE_KEYS = ("lockdown", "control", "prevention")
RISK_KEYS = ("high", "medium", "low")


def zone_stats(as_of: datetime) -> dict:
    """Communities standing at each level at `as_of`, labels in force then, batches published
    by then."""
    levels = level_counts(as_of)
    free = totals(as_of)
    return {
        "as_of": as_of.isoformat(),
        "zones": {key: levels[key] for key in ZONE_KEYS},
        "risk_areas": {key: levels[key] for key in RISK_KEYS},
        "epidemic_free": {
            "communities": free["city"]["community"],
            "towns": free["city"]["town"],
            "batches": free["batches"],
        },
    }
