"""The code before the change, served beside the current code in the same run: a revision
exported from the repository (`git archive`, which changes nothing in the working tree) into the
benchmark's folder, run by the same interpreter and packages.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from common import ROOT

# The last commit before issue 13.
DEFAULT_REVISION = "b34c395"


def export(revision: str, data: Path) -> tuple[Path, str]:
    """The tree of `revision` under `data`, and its full commit id."""
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{revision}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    folder = data / f"before-{commit[:10]}"
    folder.mkdir(parents=True, exist_ok=True)
    archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", commit], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(folder)], stdin=archive.stdout, check=True)
    archive.stdout.close()
    if archive.wait() != 0:
        raise SystemExit(f"git archive {revision} failed")
    return folder, commit
