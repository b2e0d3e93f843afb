"""The bulletin's text from a day's figures, in the wording of bulletin.toml (pure). The figures
make the first paragraph; the zones' figures, when given, a second one."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from fangkong.cases.figures import Figures

TEMPLATE = Path(__file__).with_name("bulletin.toml")


@cache
def template() -> dict[str, str]:
    return tomllib.loads(TEMPLATE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ZoneFigures:
    """The zones' figures a bulletin cites, read by the caller (the zones app) as plain values:
    the medium-risk areas standing at the end of `day`, the epidemic-free communities and towns
    (streets) published and in force."""

    day: date
    medium_risk: int
    epidemic_free_communities: int
    epidemic_free_towns: int


def zone_sentence(zones: ZoneFigures, wording: dict[str, str] | None = None) -> str:
    w = wording or template()
    return w["zones"].format(
        day=zones.day.day,
        medium_risk=zones.medium_risk,
        epidemic_free_communities=zones.epidemic_free_communities,
        epidemic_free_towns=zones.epidemic_free_towns,
    )


def bulletin_text(
    day: date,
    figures: Figures,
    wording: dict[str, str] | None = None,
    zones: ZoneFigures | None = None,
) -> str:
    """The figures' paragraph, word for word as published; with `zones`, the zone sentence
    follows as a second paragraph (after a line break)."""
    w = wording or template()
    values = {
        **figures.published(),
        "found_in_community": figures.found_in_community,
        "date": w["date"].format(month=day.month, day=day.day),
    }
    if figures.new_confirmed or figures.new_asymptomatic:
        conversions = w["conversions"] if figures.of_which_conversions else ""
        parts = [w["new_cases"].replace("{conversions}", conversions)]
        if figures.new_infections:
            # Conversions alone are no new infection: nobody to say where they were found.
            found = w["some_in_community"] if figures.found_in_community else w["all_in_control"]
            parts.append(found)
    else:
        parts = [w["no_new_cases"]]
    parts.append(w["recoveries"])
    text = "".join(part.format(**values) for part in parts)
    return text if zones is None else f"{text}\n{zone_sentence(zones, w)}"
