"""Checkpoint types from fixtures/checkpoint_types.toml into the database (idempotent)."""

import tomllib
from pathlib import Path

from fangkong.engine.gate_rules import parse_requirements

FIXTURE = Path(__file__).parent / "fixtures" / "checkpoint_types.toml"


def read_types() -> list[dict]:
    types = tomllib.loads(FIXTURE.read_text(encoding="utf-8"))["type"]
    for entry in types:
        requirements = {k: v for k, v in entry.items() if k not in ("code", "name")}
        parse_requirements(requirements)  # a bad fixture fails loudly, here
        entry["requirements"] = requirements
    return types


def load_checkpoint_types(model=None) -> int:
    if model is None:
        from fangkong.checkpoints.models import CheckpointType as model
    for entry in read_types():
        model.objects.update_or_create(
            code=entry["code"],
            defaults={"name": entry["name"], "requirements": entry["requirements"]},
        )
    return model.objects.count()
