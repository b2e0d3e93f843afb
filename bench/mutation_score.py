"""The score of `make mutate`: how many of the engine's mutants its tests killed.

mutmut (pinned in requirements-dev.txt) changes one thing at a time in fangkong/engine — an
operator, a constant, a comparison — and runs the engine's tests against each change; a change
the tests do not notice "survived". This prints the counts and exits 1 below the target.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TARGET = 0.90


def main() -> int:
    stats = json.loads(Path("mutants/mutmut-cicd-stats.json").read_text())
    # Mutants no test reaches are survivors too: nothing would notice them.
    tried = stats["killed"] + stats["survived"] + stats["no_tests"] + stats["timeout"]
    killed = stats["killed"] + stats["timeout"]
    score = killed / tried if tried else 0.0
    print(
        f"engine mutants: {tried} tried, {killed} killed, {stats['survived']} survived, "
        f"{stats['no_tests']} reached by no test — {score:.1%} killed (target {TARGET:.0%})"
    )
    if stats["suspicious"] or stats["segfault"]:
        print(f"suspicious: {stats['suspicious']}, segfault: {stats['segfault']}")
    print("survivors: .venv/bin/mutmut results; one of them: .venv/bin/mutmut show NAME")
    return 0 if score >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
