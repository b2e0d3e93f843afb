"""Previewing, publishing and withdrawing policies. Each adds a version; nothing is ever edited.

Publishing is all-or-nothing: the new version, the recomputed codes and the audit record are one
transaction, so a version is in force only if every code was recomputed with it.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max

from fangkong.accounts.models import Role
from fangkong.audit.actions import record
from fangkong.clock.actions import wake
from fangkong.clock.instants import policy_times
from fangkong.codes.actions import Outcome, do_recompute
from fangkong.codes.loading import load_population
from fangkong.codes.models import CodeChange
from fangkong.engine.batch import evaluate_batch
from fangkong.engine.policies import COLOURS, Policy, PolicyError, parse_policy
from fangkong.places.models import Division
from fangkong.policies.models import PolicyVersion
from fangkong.policies.queries import forget, published_policies
from fangkong.policies.seals import version_seal
from fangkong.policies.source import read_source

PUBLISHERS = frozenset({Role.COMMAND_CENTRE, Role.ADMIN})
MIN_REASON = 5


def _require_publisher(user) -> None:
    if user is not None:
        from fangkong.accounts.scoping import role_of

        if role_of(user) not in PUBLISHERS:
            raise PermissionDenied("只有指挥部可以发布或撤回政策")


@contextmanager
def _forgotten_on_failure():
    """A publication that rolls back must not leave its parsed version cached."""
    try:
        yield
    except BaseException:
        forget()
        raise


def _latest(policy_id: str) -> PolicyVersion | None:
    return PolicyVersion.objects.filter(policy_id=policy_id).order_by("-version").first()


def draft(text: str, now: datetime) -> tuple[dict, Policy]:
    """The policy a text would publish at `now`: checked, numbered, and continuing the version
    it replaces when it keeps that version's trigger, scope and clears (docs/policies.md)."""
    data = read_source(text)
    divisions = set(Division.objects.filter(is_current=True).values_list("code", flat=True))
    policy = parse_policy(data, published_at=now, divisions=divisions)
    previous = _latest(policy.id)
    version = (previous.version if previous else 0) + 1
    continues: dict = {}
    if previous is not None and not previous.withdrawn and not policy.restart:
        before = previous.as_engine()
        if policy.same_rule_as(before):
            continues = {
                "continues_from": before.first_version,
                "continues_since": before.continues_since or before.published_at,
            }
    return data, parse_policy(data, version=version, published_at=now, **continues)


@dataclass
class Impact:
    policy: Policy
    people: int
    # county code -> {"green->yellow": n, ...}
    by_county: dict[str, dict[str, int]]
    totals: dict[str, int]
    # People who had met a clear of the version in force (or hold an approved clearance for it)
    # and whom this version would hold again: a new decision, not a rewording.
    retriggered: int = 0
    withdrawal: bool = False


def _impact(policy: Policy, proposed: list[Policy], now: datetime, *, withdrawal=False) -> Impact:
    current = published_policies(now)
    population = load_population()
    before = evaluate_batch(current, population.columns, now)
    after = evaluate_batch(proposed, population.columns, now)
    changed = np.flatnonzero(before.severity != after.severity)
    by_county: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    if len(changed):
        county = population.county_at(now)[changed]
        keys = county * 9 + before.severity[changed] * 3 + after.severity[changed]
        values, counts = np.unique(keys, return_counts=True)
        for value, count in zip(values.tolist(), counts.tolist(), strict=True):
            code, rest = divmod(value, 9)
            transition = f"{COLOURS[rest // 3]}->{COLOURS[rest % 3]}"
            by_county.setdefault(f"{code:06d}", {})[transition] = count
            totals[transition] = totals.get(transition, 0) + count
    retriggered = 0
    if policy.id in before.held and policy.id in after.active:
        cleared = before.held[policy.id] & ~before.active[policy.id]
        retriggered = int(np.count_nonzero(cleared & after.active[policy.id]))
    people = len(population.person_ids)
    return Impact(policy, people, by_county, totals, retriggered, withdrawal)


def preview(text: str, now: datetime) -> Impact:
    """How many people would change colour, by district, if this policy were published now."""
    _, policy = draft(text, now)
    proposed = [p for p in published_policies(now) if p.id != policy.id] + [policy]
    return _impact(policy, proposed, now)


def preview_withdrawal(policy_id: str, now: datetime) -> Impact:
    """How many people would change colour if the policy were withdrawn now."""
    in_force = {p.id: p for p in published_policies(now)}
    if policy_id not in in_force:
        raise PolicyError([f"{policy_id}: 当前没有已发布且未撤回的版本"])
    proposed = [p for p in in_force.values() if p.id != policy_id]
    return _impact(in_force[policy_id], proposed, now, withdrawal=True)


def do_publish(text: str, *, user, now: datetime) -> tuple[PolicyVersion, Outcome]:
    """Publish a policy file as the next version of its id and recompute every code with it."""
    _require_publisher(user)
    data, policy = draft(text, now)
    with _forgotten_on_failure(), transaction.atomic():
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
            continues_from=policy.continues_from,
            continues_since=policy.continues_since,
        )
        outcome = do_recompute(
            now, cause=CodeChange.Cause.PUBLISH, detail=f"{policy.id} v{policy.version}"
        )
        # Last, so the audit chain is not held while everyone is evaluated.
        record(
            user,
            "policy.publish",
            "policy",
            f"{policy.id}@{policy.version}",
            {
                "title": policy.title,
                "colour": policy.colour,
                "continues_from": policy.continues_from,
                "changed": outcome.changed,
                "seal": version_seal(version),
            },
        )
    # A window opening or closing later is applied then by the clock; bring its sweep forward.
    wake(min((at for at, _ in policy_times(version.as_engine())), default=None))
    return version, outcome


def do_withdraw(
    policy_id: str, *, user, now: datetime, reason: str
) -> tuple[PolicyVersion, Outcome]:
    """Withdraw a policy from `now` on: a version of its own, with the reason, then every code
    recomputed without it. Its earlier versions stay on record and still explain past codes."""
    _require_publisher(user)
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise PolicyError([f"撤回理由: 至少{MIN_REASON}个字,说明为什么撤回"])
    with _forgotten_on_failure(), transaction.atomic():
        latest = (
            PolicyVersion.objects.select_for_update()
            .filter(policy_id=policy_id, published_at__lte=now)
            .order_by("-version")
            .first()
        )
        if latest is None or latest.withdrawn:
            raise PolicyError([f"{policy_id}: 没有可撤回的已发布版本"])
        number = PolicyVersion.objects.filter(policy_id=policy_id).aggregate(v=Max("version"))
        version = PolicyVersion.objects.create(
            policy_id=policy_id,
            version=number["v"] + 1,
            title=latest.title,
            colour=latest.colour,
            message=latest.message,
            source="",
            data=latest.data,
            effective_from=latest.effective_from,
            effective_until=latest.effective_until,
            published_at=now,
            published_by=user,
            withdrawn=True,
            reason=reason[:500],
        )
        outcome = do_recompute(
            now, cause=CodeChange.Cause.WITHDRAW, detail=f"{policy_id} v{version.version}"
        )
        record(
            user,
            "policy.withdraw",
            "policy",
            f"{policy_id}@{version.version}",
            {
                "title": latest.title,
                "withdrawn_version": latest.version,
                "reason": reason,
                "seal": version_seal(version),
            },
        )
    return version, outcome
