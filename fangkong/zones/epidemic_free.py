"""无疫小区 / 无疫乡镇(街道): labels published in numbered batches, withdrawn (摘牌) with a reason.

Batches are numbered 1, 2, 3 … per kind (第十一批无疫小区 is the 11th of its kind). A label is
never deleted: withdrawing it records when, why and who (None: the system, when a criterion
lapsed). A division holds at most one standing label; it may be granted again in a later batch.

Eligibility: `do_publish_epidemic_free_batch` asks one function whether the divisions qualify —
its `check` argument, by default `fangkong.zones.eligibility.check_batch` once that module
provides it (see `default_check`). A check takes (kind, divisions, at) and returns
{division code: Chinese reason it does not qualify}; any entry stops the publication.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q

from fangkong.audit.actions import record
from fangkong.places.models import Division, Level
from fangkong.zones.models import EpidemicFreeBatch, EpidemicFreeKind, EpidemicFreeLabel

Check = Callable[[str, list[Division], datetime], dict[str, str]]
DEFAULT = object()  # `check`: whatever default_check() finds
KIND_LEVELS = {EpidemicFreeKind.COMMUNITY: Level.COMMUNITY, EpidemicFreeKind.TOWN: Level.STREET}
MAX_REASON = 200
MAX_DIVISIONS = 5000


def default_check() -> Check | None:
    """The eligibility rules publication applies: `check_batch` of fangkong.zones.eligibility
    when that module exists and defines it, else none."""
    if importlib.util.find_spec("fangkong.zones.eligibility") is None:
        return None
    return getattr(importlib.import_module("fangkong.zones.eligibility"), "check_batch", None)


def do_publish_epidemic_free_batch(
    user,
    kind: str,
    codes: list[str],
    at: datetime,
    *,
    note: str = "",
    check: Check | None | object = DEFAULT,
) -> EpidemicFreeBatch:
    """Publish the next batch of `kind` ("community" or "town") at `at`, labelling `codes`.
    `check=None` publishes without an eligibility check (the rules are not loaded)."""
    if kind not in EpidemicFreeKind.values:
        raise ValidationError("类别:应为 community(无疫小区)或 town(无疫乡镇(街道))")
    label = EpidemicFreeKind(kind).label
    codes = [str(c).strip() for c in codes]
    if not codes:
        raise ValidationError("名单:至少列出一个地区")
    if len(codes) > MAX_DIVISIONS:
        raise ValidationError(f"名单:一批不超过{MAX_DIVISIONS}个")
    found = Division.objects.in_bulk(codes)
    problems = []
    for row, code in enumerate(codes, 1):
        division = found.get(code)
        if division is None or division.level != KIND_LEVELS[kind]:
            noun = "社区/村" if kind == EpidemicFreeKind.COMMUNITY else "乡镇/街道"
            problems.append(f"名单第{row}项:没有代码为 {code or '(空)'} 的{noun}")
        elif codes.index(code) != row - 1:
            problems.append(f"名单第{row}项:{division.name}重复")
    if problems:
        raise ValidationError(problems)
    divisions = [found[c] for c in codes]
    check = default_check() if check is DEFAULT else check
    if check is not None:
        refused = check(kind, divisions, at)
        if refused:
            raise ValidationError(
                [f"{found[c].name}({c})不符合{label}条件:{why}" for c, why in refused.items()]
            )
    with transaction.atomic():
        # One batch of a kind at a time: numbers stay consecutive.
        list(EpidemicFreeBatch.objects.select_for_update().filter(kind=kind).values("pk"))
        standing = set(
            EpidemicFreeLabel.objects.filter(
                division_id__in=codes, withdrawn_at__isnull=True
            ).values_list("division_id", flat=True)
        )
        if standing:
            names = "、".join(found[c].name for c in codes if c in standing)
            raise ValidationError(f"名单:{names}已是{label},未摘牌")
        last = EpidemicFreeBatch.objects.filter(kind=kind).aggregate(Max("number"))
        batch = EpidemicFreeBatch.objects.create(
            kind=kind,
            number=(last["number__max"] or 0) + 1,
            published_at=at,
            recorded_at=at,
            published_by=user if getattr(user, "pk", None) else None,
            note=(note or "").strip()[:200],
        )
        EpidemicFreeLabel.objects.bulk_create(
            EpidemicFreeLabel(batch=batch, division=d, granted_at=at) for d in divisions
        )
        record(
            user,
            "epidemic_free.publish",
            "epidemic_free_batch",
            batch.pk,
            {"batch": batch.name, "count": len(divisions), "divisions": codes},
            at=at,
        )
    return batch


def do_withdraw_epidemic_free(division, at: datetime, reason: str, user=None) -> EpidemicFreeLabel:
    """摘牌: withdraw the division's standing label from `at`. `user` None: the system, because
    a criterion lapsed (the reason says which)."""
    code = division.code if isinstance(division, Division) else str(division)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("摘牌原因:请填写")
    if len(reason) > MAX_REASON:
        raise ValidationError(f"摘牌原因:不超过{MAX_REASON}字")
    with transaction.atomic():
        label = (
            EpidemicFreeLabel.objects.select_for_update()
            .select_related("batch", "division")
            .filter(division_id=code, withdrawn_at__isnull=True)
            .first()
        )
        if label is None:
            raise ValidationError("该地区当前没有无疫标识")
        if at < label.granted_at:
            raise ValidationError("摘牌时间:不能早于授牌时间")
        label.withdrawn_at = at
        label.withdraw_reason = reason
        label.withdrawn_by = user if getattr(user, "pk", None) else None
        label.withdrawn_recorded_at = at
        label.save(
            update_fields=[
                "withdrawn_at",
                "withdraw_reason",
                "withdrawn_by",
                "withdrawn_recorded_at",
            ]
        )
        record(
            user,
            "epidemic_free.withdraw",
            "epidemic_free_label",
            label.pk,
            {
                "division": code,
                "division_name": label.division.name,
                "batch": label.batch.name,
                "reason": reason,
            },
            at=at,
        )
    return label


def labels_in_force(at: datetime):
    """Labels standing at `at`: granted by then, not withdrawn by then."""
    return EpidemicFreeLabel.objects.filter(
        Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=at), granted_at__lte=at
    )


def totals(at: datetime) -> dict:
    """Labels in force at `at`, by county and for the city: {"city": {"community": n, "town":
    n}, "by_county": {county code: {...}}}, and the batches published by then."""
    rows = labels_in_force(at).values_list("batch__kind", "division__county_code")
    city: Counter = Counter()
    by_county: dict[str, Counter] = {}
    for kind, county in rows:
        city[kind] += 1
        by_county.setdefault(county, Counter())[kind] += 1
    kinds = EpidemicFreeKind.values
    return {
        "city": {k: city[k] for k in kinds},
        "by_county": {c: {k: n[k] for k in kinds} for c, n in sorted(by_county.items())},
        "batches": EpidemicFreeBatch.objects.filter(published_at__lte=at).count(),
    }
