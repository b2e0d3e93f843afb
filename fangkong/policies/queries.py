"""Which policy versions are in force."""

from __future__ import annotations

from datetime import datetime

from fangkong.engine.policies import Policy
from fangkong.policies.models import PolicyVersion


def published_policies(as_of: datetime) -> list[Policy]:
    """For each policy id, its latest version published by `as_of`: a new version replaces the
    old one from its publication on."""
    latest: dict[str, PolicyVersion] = {}
    for version in PolicyVersion.objects.filter(published_at__lte=as_of).order_by(
        "policy_id", "version"
    ):
        latest[version.policy_id] = version
    return [v.as_engine() for v in latest.values()]
