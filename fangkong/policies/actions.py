"""Previewing and publishing policies. Publishing adds a version; nothing is ever edited."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max

from fangkong.accounts.models import Role
from fangkong.audit.actions import record
from fangkong.codes.actions import Outcome, do_recompute
from fangkong.codes.loading import load_population
from fangkong.codes.models import CodeChange
from fangkong.engine.batch import evaluate_batch
from fangkong.engine.policies import COLOURS, Policy, PolicyError, parse_policy
from fangkong.policies.models import PolicyVersion
from fangkong.policies.queries import published_policies

PUBLISHERS = frozenset({Role.COMMAND_CENTRE, Role.ADMIN})


def read_source(text: str) -> dict:
    """A policy file: TOML, or JSON (a text starting with `{`)."""
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise PolicyError([f"无法解析政策文件:{exc}"]) from exc
    return _plain(data)


def _plain(value):
    """TOML's datetimes as ISO text, so the stored mapping is plain JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def draft(text: str, now: datetime) -> tuple[dict, Policy]:
    data = read_source(text)
    version = (
        PolicyVersion.objects.filter(policy_id=data.get("id", "")).aggregate(v=Max("version"))["v"]
        or 0
    ) + 1
    return data, parse_policy(data, version=version, published_at=now)


@dataclass
class Impact:
    policy: Policy
    people: int
    # county code -> {"green->yellow": n, ...}
    by_county: dict[str, dict[str, int]]
    totals: dict[str, int]


def preview(text: str, now: datetime) -> Impact:
    """How many people would change colour, by district, if this policy were published now."""
    _, policy = draft(text, now)
    current = published_policies(now)
    proposed = [p for p in current if p.id != policy.id] + [policy]
    population = load_population()
    before = evaluate_batch(current, population.columns, now).severity
    after = evaluate_batch(proposed, population.columns, now).severity
    changed = np.flatnonzero(before != after)
    by_county: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    if len(changed):
        keys = population.county[changed] * 9 + before[changed] * 3 + after[changed]
        values, counts = np.unique(keys, return_counts=True)
        for value, count in zip(values.tolist(), counts.tolist(), strict=True):
            county, rest = divmod(value, 9)
            transition = f"{COLOURS[rest // 3]}->{COLOURS[rest % 3]}"
            by_county.setdefault(f"{county:06d}", {})[transition] = count
            totals[transition] = totals.get(transition, 0) + count
    return Impact(policy, len(population.person_ids), by_county, totals)


def do_publish(text: str, *, user, now: datetime) -> tuple[PolicyVersion, Outcome]:
    """Publish a policy file as the next version of its id, then recompute every code."""
    if user is not None:
        from fangkong.accounts.scoping import role_of

        if role_of(user) not in PUBLISHERS:
            raise PermissionDenied("只有指挥部可以发布政策")
    data, policy = draft(text, now)
    with transaction.atomic():
        version = PolicyVersion.objects.create(
            policy_id=policy.id,
            version=policy.version,
            title=policy.title,
            colour=policy.colour,
            message=policy.message,
            source=text,
            data=data,
            effective_from=policy.effective_from,
            effective_until=policy.effective_until,
            published_at=now,
            published_by=user,
        )
        record(
            user,
            "policy.publish",
            "policy",
            f"{policy.id}@{policy.version}",
            {"title": policy.title, "colour": policy.colour},
        )
    outcome = do_recompute(
        now, cause=CodeChange.Cause.PUBLISH, detail=f"{policy.id} v{policy.version}"
    )
    return version, outcome
