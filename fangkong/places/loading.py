"""Load the shipped division data (places/data/*.csv) into `Division`, idempotently."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from django.db import transaction

from fangkong.places.models import Division, Level

DATA_DIR = Path(__file__).resolve().parent / "data"
DIVISIONS_CSV = DATA_DIR / "changchun_divisions.csv"
HISTORIC_CSV = DATA_DIR / "changchun_historic_counties.csv"
CENSUS_CSV = DATA_DIR / "changchun_census_2020.csv"

CITY_CODE = "220100"
DEVELOPMENT_ZONES = frozenset({"220171", "220172", "220173", "220174"})

UPDATE_FIELDS = [
    "name",
    "level",
    "parent",
    "county_code",
    "is_current",
    "is_development_zone",
    "population_2020",
    "note",
]


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        yield from csv.DictReader(line for line in f if not line.startswith("#"))


def census_2020() -> dict[str, int]:
    """常住人口 by code (长春市 and its county-level units), from the shipped census file."""
    return {row["code"]: int(row["population"]) for row in _rows(CENSUS_CSV)}


def division_objects() -> list[Division]:
    """Every Division described by the shipped files, parents before children."""
    population = census_2020()
    objects = []
    for row in _rows(DIVISIONS_CSV):
        code, level = row["code"], int(row["level"])
        objects.append(
            Division(
                code=code,
                name=row["name"],
                level=level,
                parent_id=row["parent_code"] or None,
                county_code=code[:6] if level >= Level.COUNTY else "",
                is_current=True,
                is_development_zone=code in DEVELOPMENT_ZONES,
                population_2020=population.get(code),
                note="",
            )
        )
    for row in _rows(HISTORIC_CSV):
        # Kept under 长春市 whatever prefecture they belonged to (公主岭市 220381 was under
        # 四平市): that is the city whose staff handle the people who carry them. county_code is
        # the successor, so someone whose ID number says 九台市 220181 lands with 九台区 staff.
        objects.append(
            Division(
                code=row["code"],
                name=row["name"],
                level=Level.COUNTY,
                parent_id=CITY_CODE,
                county_code=row["successor_code"] or row["code"],
                is_current=False,
                is_development_zone=False,
                population_2020=None,
                note=row["note"][: Division._meta.get_field("note").max_length],
            )
        )
    objects.sort(key=lambda d: (d.level, d.is_current is False, d.code))
    return objects


def load_divisions(stdout: TextIO | None = None) -> int:
    """Insert or update all shipped divisions; returns how many rows the files describe.

    Running it again changes nothing; it also repairs rows edited by hand. Rows that are not
    in the files are left alone.
    """
    objects = division_objects()
    with transaction.atomic():
        Division.objects.bulk_create(
            objects,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=UPDATE_FIELDS,
        )
    if stdout is not None:
        current = sum(1 for d in objects if d.is_current)
        stdout.write(
            f"行政区划: {current} current divisions, {len(objects) - current} historic codes\n"
        )
    return len(objects)
