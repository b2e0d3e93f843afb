"""The bulletin's text from a day's figures, in the wording of bulletin.toml (pure)."""

from __future__ import annotations

import tomllib
from datetime import date
from functools import cache
from pathlib import Path

from fangkong.cases.figures import Figures

TEMPLATE = Path(__file__).with_name("bulletin.toml")


@cache
def template() -> dict[str, str]:
    return tomllib.loads(TEMPLATE.read_text(encoding="utf-8"))


def bulletin_text(day: date, figures: Figures, wording: dict[str, str] | None = None) -> str:
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
    return "".join(part.format(**values) for part in parts)
