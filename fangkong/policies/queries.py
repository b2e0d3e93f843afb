"""Which policy versions are in force."""

from __future__ import annotations

from datetime import datetime

from fangkong.engine.policies import Policy
from fangkong.policies.models import PolicyVersion

# Versions are published, never edited: each is parsed once per process. A version is known by
# the columns below, read on every call (a few short rows); its rules text is read and parsed
# only the first time.
_KEY = (
    "id",
    "policy_id",
    "version",
    "published_at",
    "effective_from",
    "colour",
    "title",
    "continues_from",
    "withdrawn",
)
_parsed: dict[tuple, Policy] = {}


def forget() -> None:
    """Drop the parsed versions: after a rolled-back publication (whose row id SQLite may give
    to the next one), and between tests."""
    _parsed.clear()


def published_policies(as_of: datetime) -> list[Policy]:
    """For each policy id, its latest version published by `as_of`: a new version replaces the
    old one from its publication on, and a withdrawal ends the policy."""
    latest: dict[str, tuple] = {}
    for key in (
        PolicyVersion.objects.filter(published_at__lte=as_of)
        .order_by("policy_id", "version")
        .values_list(*_KEY)
    ):
        latest[key[1]] = key
    latest = {pid: key for pid, key in latest.items() if not key[-1]}
    missing = [key for key in latest.values() if key not in _parsed]
    if missing:
        if len(_parsed) > 10_000:
            _parsed.clear()
        for version in PolicyVersion.objects.filter(pk__in=[key[0] for key in missing]):
            _parsed[tuple(getattr(version, f) for f in _KEY)] = version.as_engine()
    return [_parsed[key] for key in latest.values()]
