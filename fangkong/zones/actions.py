"""Setting a community's zone level (封控区 / 管控区 / 防范区).

A change is a new `places.CommunityZone` row; nothing is edited or deleted, so the history is
the table itself. Releasing a community from control is setting it to 防范区, as 长春 did with
reopened compounds in April 2022. The full zone workflow (proposal, approval, publication) comes
later; for now district staff set the level directly and the change applies at once: the codes
of the community's residents are re-evaluated in the same request, so zone-level policies
(trigger `zone_level`) take effect immediately.

Start times: a level may be recorded up to `MAX_BACKDATE` after it was decided (a decision
taken at the command centre and entered next morning), never for the future — a future start
would need a scheduler to re-evaluate codes when it arrives, and there is none yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import in_scope, role_of
from fangkong.audit.actions import record
from fangkong.codes.actions import Outcome, do_reevaluate
from fangkong.codes.models import CodeChange
from fangkong.people.models import Person
from fangkong.places.models import CommunityZone, Division, Level, ZoneLevel
from fangkong.zones.queries import LEVEL_LABELS, current_zone

SETTERS = frozenset({Role.DISTRICT_REVIEWER, Role.COMMAND_CENTRE, Role.ADMIN})
MAX_BACKDATE = timedelta(days=7)
# Clocks of the browser and the server differ; a start this far ahead of now is "now".
CLOCK_LEEWAY = timedelta(minutes=2)
MAX_REASON = 200


@dataclass
class ZoneChange:
    zone: CommunityZone
    codes: Outcome


def can_set(user, community: Division) -> bool:
    return role_of(user) in SETTERS and in_scope(user, community.county_code)


def decider_of(user) -> str:
    profile = getattr(user, "staff", None)
    return ((profile.organisation if profile else "") or user.get_username())[:64]


def do_set_zone_level(
    user, community_code: str, level: str, start_at: datetime, reason: str, now: datetime
) -> ZoneChange:
    """Place a community in a zone level from `start_at`, audit it, re-evaluate its residents.

    Raises PermissionDenied (role or district) and ValidationError (with a Chinese message)."""
    community = Division.objects.filter(code=community_code, level=Level.COMMUNITY).first()
    if community is None:
        raise ValidationError("没有这个社区/村")
    if role_of(user) not in SETTERS:
        raise PermissionDenied("您的角色无权调整风险区划")
    if not in_scope(user, community.county_code):
        raise PermissionDenied("该社区不在您负责的区县")
    if level not in ZoneLevel.values:
        raise ValidationError("级别应为封控区、管控区或防范区")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请填写调整依据")
    if len(reason) > MAX_REASON:
        raise ValidationError(f"调整依据不超过{MAX_REASON}字")
    if start_at > now + CLOCK_LEEWAY:
        raise ValidationError("起始时间不能晚于现在(暂不支持预约调整)")
    if start_at < now - MAX_BACKDATE:
        raise ValidationError(f"起始时间不能早于{MAX_BACKDATE.days}天前")
    start_at = min(start_at, now)
    with transaction.atomic():
        # One change of a community at a time: the checks below read what the other wrote.
        Division.objects.select_for_update().filter(code=community.code).first()
        standing = current_zone(community.code, now)
        if standing is not None:
            if standing.level == level:
                raise ValidationError(f"该社区当前已是{LEVEL_LABELS[level]}")
            if start_at < standing.since:
                raise ValidationError("起始时间不能早于当前级别的起始时间")
        zone = CommunityZone.objects.create(
            community=community,
            level=level,
            start_at=start_at,
            recorded_at=now,
            decided_by=decider_of(user),
        )
        record(
            user,
            "zone.set",
            "community_zone",
            zone.pk,
            {
                "community": community.code,
                "community_name": community.name,
                "level": level,
                "previous": standing.level if standing else None,
                "start_at": start_at,
                "reason": reason,
            },
            at=now,
        )
    residents = Person.objects.filter(community_id=community.code).values_list("pk", flat=True)
    outcome = do_reevaluate(
        list(residents),
        now,
        cause=CodeChange.Cause.FACTS,
        detail=f"风险区划调整:{community.name}为{LEVEL_LABELS[level]}",
    )
    return ZoneChange(zone, outcome)
