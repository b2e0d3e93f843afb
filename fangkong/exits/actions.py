"""Issuing exit passes (易行码) and publishing the rules they are issued under.

A resident asks; the facts are gathered here (zone level now, live code colour, latest
negative PCR, passes the household was issued today), the pure rule check decides
(fangkong.engine.gate_rules.check_exit), and a granted request becomes an `ExitPass` row and a
signed token of kind `fk-exit` shown as a QR. Opening the page again shows the same pass with a
fresh token: it is not a second pass and does not count twice.

Every grant and every denial is audited; the actor of a resident's request is the resident
("居民#<person number>"), who is not a staff user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import in_scope, role_of
from fangkong.audit.actions import record
from fangkong.codes.tokens import live_colour
from fangkong.engine import tokens
from fangkong.engine.gate_rules import (
    COLOUR_LABELS,
    LOCAL,
    ZONE_LABELS,
    Decision,
    RuleError,
    check_exit,
    exit_pass_window,
    start_of_local_day,
    testing_claims,
)
from fangkong.engine.id_numbers import mask, mask_name
from fangkong.exits.models import ExitPass, ExitRuleSet
from fangkong.exits.rules import (
    RulesInForce,
    check_rules,
    default_rules_text,
    read_rules,
    rules_for,
)
from fangkong.people.models import Person
from fangkong.places.models import Division, Level
from fangkong.signing import keys
from fangkong.testing.queries import person_testing_state
from fangkong.zones.queries import current_level

# A resident who is out when the pass's window ends must still get home: the page then shows a
# token for the return that is valid this long (the gate records the return, late or not).
RETURN_GRACE = timedelta(minutes=30)
# Who publishes rules: a community's rules, district reviewers of its district and the
# city-wide roles below; the city default, only those.
CITY_RULE_PUBLISHERS = frozenset({Role.COMMAND_CENTRE, Role.ADMIN})
RULE_PUBLISHERS = CITY_RULE_PUBLISHERS | {Role.DISTRICT_REVIEWER}
CLOCK_LEEWAY = timedelta(minutes=2)
# The city default of the fixture is in effect from before the April 2022 story the demo tells.
DEFAULT_EFFECTIVE_FROM = datetime(2022, 3, 1, tzinfo=LOCAL)


def household_of(person: Person) -> str:
    """The household key a person's passes count against: an empty 户号 is a household of one."""
    return person.household or f"p{person.pk}"


def resident_actor(person: Person) -> SimpleNamespace:
    """The audit actor for a resident's own request (residents are not staff users)."""
    return SimpleNamespace(username=f"居民#{person.pk}", pk=None)


# -- reading ---------------------------------------------------------------------------------


def household_passes_today(household: str, now: datetime):
    """The household's passes issued today (Beijing day), cancelled ones not counted."""
    return (
        ExitPass.objects.filter(
            household=household, issued_at__gte=start_of_local_day(now), issued_at__lte=now
        )
        .exclude(status=ExitPass.Status.CANCELLED)
        .select_related("person")
        .order_by("issued_at")
    )


def current_pass(person: Person, now: datetime) -> ExitPass | None:
    """The person's pass in use: out (whenever it was issued), or issued and not yet expired."""
    return (
        ExitPass.objects.filter(person=person)
        .filter(
            Q(status=ExitPass.Status.OUT)
            | Q(status=ExitPass.Status.ISSUED, valid_until__gt=now, issued_at__lte=now)
        )
        .order_by("-issued_at")
        .first()
    )


@dataclass(frozen=True)
class Assessment:
    """What a request now would be decided on, and the decision."""

    in_force: RulesInForce
    zone_level: str | None
    colour: str
    claims: dict
    household: str
    household_passes_today: int
    decision: Decision


def assess(person: Person, now: datetime) -> Assessment:
    in_force = rules_for(person.community_id, now)
    zone_level = current_level(person.community_id, now)
    colour = live_colour(person.pk)
    claims = testing_claims(person_testing_state(person.pk, now), None)
    household = household_of(person)
    used = household_passes_today(household, now).count()
    decision = check_exit(
        in_force.rules,
        zone_level=zone_level,
        colour=colour,
        claims=claims,
        household_passes_today=used,
        now=now,
    )
    return Assessment(in_force, zone_level, colour, claims, household, used, decision)


def still_usable_for_exit(exit_pass: ExitPass, now: datetime) -> list[str]:
    """Why an issued pass may no longer be used to go out (empty: it may): the community was
    placed under control since, or the holder's code is no longer the colour the rules want."""
    reasons = []
    level = current_level(exit_pass.community_id, now)
    if level in ("lockdown", "control"):
        reasons.append(f"小区已调整为{ZONE_LABELS[level]},通行码停用")
    rules = (
        exit_pass.rule_set.as_rules()
        if exit_pass.rule_set
        else rules_for(exit_pass.community_id, now).rules
    )
    colour = live_colour(exit_pass.person_id)
    if colour not in rules.colours:
        reasons.append(f"健康码已转为{COLOUR_LABELS.get(colour, '未知')},通行码停用")
    return reasons


def pass_token(exit_pass: ExitPass, person: Person, now: datetime) -> str:
    """A fresh token for a pass. Valid for the pass's window; for a pass that is out, also for
    `RETURN_GRACE` from now, so its holder can always be let back in."""
    valid_until = exit_pass.valid_until
    if exit_pass.status == ExitPass.Status.OUT:
        valid_until = max(valid_until, now + RETURN_GRACE)
    claims = {
        "v": 1,
        "sub": keys.person_ref(person.pk),
        "iat": int(now.timestamp()),
        "nbf": int(exit_pass.valid_from.timestamp()),
        "exp": int(valid_until.timestamp()),
        "pid": exit_pass.pk,
        "com": exit_pass.community_id,
        "nm": mask_name(person.name),
        "idm": mask(person.id_number),
    }
    return keys.issue(tokens.EXIT, claims, now)


# -- requesting a pass -----------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    exit_pass: ExitPass | None
    token: str | None
    existing: bool = False  # the pass was issued before; this is a fresh token for it


def show_current(person: Person, now: datetime) -> Outcome | None:
    """The person's pass in use with a fresh token, or the reasons it may no longer be used to
    go out; None when they have none."""
    exit_pass = current_pass(person, now)
    if exit_pass is None:
        return None
    if exit_pass.status == ExitPass.Status.ISSUED:
        reasons = still_usable_for_exit(exit_pass, now)
        if reasons:
            return Outcome(Decision.of(reasons), exit_pass, None, existing=True)
    return Outcome(Decision.of([]), exit_pass, pass_token(exit_pass, person, now), existing=True)


def _lock_household(household: str) -> None:
    """Two members of a household asking at once must not both get the last pass of the day.
    (SQLite runs write transactions one at a time: settings use IMMEDIATE transactions.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(7347002, hashtext(%s))", [household])


def do_request_exit_pass(person: Person, now: datetime) -> Outcome:
    """Grant or deny an exit pass now. A person with a pass in use gets that pass again."""
    shown = show_current(person, now)
    if shown is not None:
        return shown
    household = household_of(person)
    with transaction.atomic():
        _lock_household(household)
        # Under the lock: a second tap of the button may have been granted a moment ago.
        raced = current_pass(person, now) is not None
        if not raced:
            found = assess(person, now)
            exit_pass = _grant_or_deny(person, household, found, now)
    if raced:
        return show_current(person, now)
    if exit_pass is None:
        return Outcome(found.decision, None, None)
    return Outcome(found.decision, exit_pass, pass_token(exit_pass, person, now))


def _grant_or_deny(
    person: Person, household: str, found: Assessment, now: datetime
) -> ExitPass | None:
    detail = {
        "person": person.pk,
        "community": person.community_id,
        "household": household,
        "zone_level": found.zone_level,
        "colour": found.colour,
        "household_passes_today": found.household_passes_today,
    }
    if not found.decision.passed:
        record(
            resident_actor(person),
            "exit_pass.deny",
            "person",
            person.pk,
            {**detail, "reasons": list(found.decision.reasons)},
            at=now,
        )
        return None
    valid_from, valid_until = exit_pass_window(found.in_force.rules, now)
    exit_pass = ExitPass.objects.create(
        person=person,
        community_id=person.community_id,
        household=household,
        rule_set=found.in_force.row,
        issued_at=now,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    record(
        resident_actor(person),
        "exit_pass.issue",
        "exit_pass",
        exit_pass.pk,
        {**detail, "valid_from": valid_from, "valid_until": valid_until},
        at=now,
    )
    return exit_pass


# -- publishing rules ------------------------------------------------------------------------


def can_publish_rules(user, community: Division | None) -> bool:
    role = role_of(user)
    if community is None:
        return role in CITY_RULE_PUBLISHERS
    return role in RULE_PUBLISHERS and in_scope(user, community.county_code)


def do_publish_rules(
    user,
    community_code: str | None,
    rules: str | Mapping,
    now: datetime,
    *,
    effective_from: datetime | None = None,
    note: str = "",
) -> ExitRuleSet:
    """Publish exit rules for a community (or, without one, the city default): TOML or JSON
    text, or the same mapping from the rules form. Raises PermissionDenied, or ValidationError
    with the problem in Chinese."""
    community = None
    if community_code:
        community = Division.objects.filter(code=community_code, level=Level.COMMUNITY).first()
        if community is None:
            raise ValidationError("没有这个社区/村")
    if not can_publish_rules(user, community):
        raise PermissionDenied("您无权发布该范围的出入规则")
    try:
        data, _ = read_rules(rules) if isinstance(rules, str) else check_rules(rules)
    except RuleError as exc:
        raise ValidationError(str(exc)) from exc
    effective_from = effective_from or now
    if effective_from < now - CLOCK_LEEWAY:
        raise ValidationError("生效时间不能早于现在")
    effective_from = max(effective_from, now)
    with transaction.atomic():
        row = ExitRuleSet.objects.create(
            community=community,
            rules=data,
            effective_from=effective_from,
            recorded_at=now,
            recorded_by=user if getattr(user, "pk", None) else None,
            note=note[:200],
        )
        record(
            user,
            "exit_rules.publish",
            "exit_rules",
            row.pk,
            {
                "community": community.code if community else None,
                "rules": data,
                "effective_from": effective_from,
                "note": row.note,
            },
            at=now,
        )
    return row


def load_default_rules(now: datetime | None = None) -> ExitRuleSet:
    """The city default rules of fixtures/default_rules.toml, once (the demo calls this). The
    row is dated to when the rules came in, before the demo's April 2022, so a demo run at any
    (frozen) time sees it."""
    existing = (
        ExitRuleSet.objects.filter(community__isnull=True).order_by("effective_from", "id").first()
    )
    if existing is not None:
        return existing
    data, _ = read_rules(default_rules_text())
    at = min(DEFAULT_EFFECTIVE_FROM, now) if now else DEFAULT_EFFECTIVE_FROM
    with transaction.atomic():
        row = ExitRuleSet.objects.create(
            community=None,
            rules=data,
            effective_from=at,
            recorded_at=at,
            note="全市默认规则(fixtures/default_rules.toml)",
        )
        record(
            None,
            "exit_rules.publish",
            "exit_rules",
            row.pk,
            {"community": None, "rules": data, "effective_from": at, "note": row.note},
            at=now,
        )
    return row
