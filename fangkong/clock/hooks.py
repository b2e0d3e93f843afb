"""Work that follows each sweep, registered by apps the clock may not import.

The clock sits below the desks in the layers (pyproject.toml: the import-linter contract), yet
some of their work belongs on its beat — the zones' eligibility assessment must answer a new
positive with a 封控 proposal without anyone running a command. Such an app registers a function
here from its AppConfig.ready(); the sweep task and `fangkong clock --once` call them after
applying what was due.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

_AFTER_SWEEP: list[Callable[[datetime], object]] = []


def after_sweep(function: Callable[[datetime], object]) -> Callable[[datetime], object]:
    """Register `function(now)` to run after every sweep (once, however often registered)."""
    if function not in _AFTER_SWEEP:
        _AFTER_SWEEP.append(function)
    return function


def run_after_sweep(now: datetime) -> dict[str, object]:
    """Run the registered functions in order; what each returned, by its qualified name."""
    return {f"{f.__module__}.{f.__qualname__}": f(now) for f in _AFTER_SWEEP}
