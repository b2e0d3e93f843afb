"""Read helpers over `Division` for the rest of the project."""

from __future__ import annotations

from django.db.models import QuerySet

from fangkong.places.models import Division, Level

CITY_CODE = "220100"


def counties() -> QuerySet[Division]:
    """The current county-level units of 长春市 (districts, counties, cities, zones), by code."""
    return Division.objects.filter(
        level=Level.COUNTY, parent_id=CITY_CODE, is_current=True
    ).order_by("code")


def county_name(code: str) -> str:
    """Name of the county-level unit a code (6 digits or longer) belongs to, historic ones
    included; the 6-digit code itself when it is unknown."""
    name = (
        Division.objects.filter(code=code[:6], level=Level.COUNTY)
        .values_list("name", flat=True)
        .first()
    )
    return name if name is not None else code
