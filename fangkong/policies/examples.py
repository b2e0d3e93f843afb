"""Policy files to start from in the editor: the shipped rules (fixtures/) and further examples
(examples/), each a complete file with comments saying what it means."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).parent
FOLDERS = (HERE / "fixtures", HERE / "examples")


@lru_cache(maxsize=1)
def _files() -> dict[str, Path]:
    return {path.stem: path for folder in FOLDERS for path in sorted(folder.glob("*.toml"))}


@lru_cache(maxsize=1)
def examples() -> tuple[dict, ...]:
    """(name, title, colour) of each example, in file order."""
    out = []
    for name, path in _files().items():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        out.append({"name": name, "title": data["title"], "colour": data["colour"]})
    return tuple(out)


def example_text(name: str) -> str | None:
    path = _files().get(name)
    return path.read_text(encoding="utf-8") if path else None
