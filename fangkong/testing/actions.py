"""Managing testing sites (采样点) from the staff pages: create, edit, close and reopen.

Each change runs in one transaction, keeps the values it replaces as a `TestingSiteRevision`
and writes an audit entry. Site lists loaded as files go through fangkong.ingest (kind `sites`),
which follows the same rules: a changed row is a flag for a person unless it is a correction.

Who: the command centre and admins everywhere, district reviewers in their districts
(`SITE_MANAGERS`); samplers and labs read the sites of their districts (`SITE_READERS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import INGEST_ROLES, in_scope, role_of
from fangkong.audit.actions import record
from fangkong.places.models import Division, Level
from fangkong.testing.models import SiteKind, SiteStatus, TestingSite, TestingSiteRevision

SITE_MANAGERS = INGEST_ROLES["sites"]
SITE_READERS = SITE_MANAGERS | {Role.SAMPLER, Role.LAB}
MAX_REASON = 200


@dataclass(frozen=True)
class SiteDetails:
    """What a person may set on a site (the code is fixed once created)."""

    name: str
    community_code: str
    address: str
    kind: str

    @classmethod
    def of(cls, site: TestingSite) -> SiteDetails:
        return cls(site.name, site.community_id, site.address, site.kind)


def can_manage(user, site: TestingSite | None = None) -> bool:
    if role_of(user) not in SITE_MANAGERS:
        return False
    return site is None or in_scope(user, site.county_code)


def do_create_site(user, code: str, details: SiteDetails, now: datetime) -> TestingSite:
    """A new open site. Raises PermissionDenied (role, district) or ValidationError."""
    if not can_manage(user):
        raise PermissionDenied("您的角色无权管理采样点")
    code = (code or "").strip()
    if not code or len(code) > 32 or any(c.isspace() for c in code):
        raise ValidationError("采样点编码应为1至32个字符,不含空格")
    community = _checked(user, details)
    with transaction.atomic():
        if TestingSite.objects.filter(code=code).exists():
            raise ValidationError(f"采样点编码{code}已存在")
        site = TestingSite.objects.create(
            code=code, **_fields(details, community), status=SiteStatus.OPEN
        )
        record(user, "site.create", "testing_site", site.pk, _described(site), at=now)
    return site


def do_update_site(
    user, site: TestingSite, details: SiteDetails, reason: str, now: datetime
) -> TestingSite:
    """Change a site's name, community, address or kind; the old values are kept."""
    reason = _reason(reason)
    community = _checked(user, details)
    with transaction.atomic():
        site = _locked(user, site)
        before = _described(site)
        if SiteDetails.of(site) == details:
            raise ValidationError("没有修改任何内容")
        _keep_revision(site, user, reason, now)
        for name, value in _fields(details, community).items():
            setattr(site, name, value)
        site.save()
        after = _described(site)
        changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        record(
            user,
            "site.update",
            "testing_site",
            site.pk,
            {"code": site.code, "changes": changes, "reason": reason},
            at=now,
        )
    return site


def do_close_site(user, site: TestingSite, reason: str, now: datetime) -> TestingSite:
    """Close a site from `now`: samplings at it after that are refused; earlier ones stay."""
    return _set_status(user, site, SiteStatus.CLOSED, reason, now)


def do_reopen_site(user, site: TestingSite, reason: str, now: datetime) -> TestingSite:
    return _set_status(user, site, SiteStatus.OPEN, reason, now)


def _set_status(user, site: TestingSite, status: str, reason: str, now: datetime) -> TestingSite:
    reason = _reason(reason)
    with transaction.atomic():
        site = _locked(user, site)
        if site.status == status:
            raise ValidationError(f"该采样点已是{SiteStatus(status).label}状态")
        _keep_revision(site, user, reason, now)
        site.status = status
        site.closed_at = now if status == SiteStatus.CLOSED else None
        site.save(update_fields=["status", "closed_at"])
        action = "site.close" if status == SiteStatus.CLOSED else "site.reopen"
        record(user, action, "testing_site", site.pk, {"code": site.code, "reason": reason}, at=now)
    return site


def _locked(user, site: TestingSite) -> TestingSite:
    """The site's row, locked, after the role and district checks: two people editing at once
    each keep the other's values in a revision."""
    if not can_manage(user, site):
        raise PermissionDenied("该采样点不在您负责的区县")
    return TestingSite.objects.select_for_update().get(pk=site.pk)


def _checked(user, details: SiteDetails) -> Division:
    """The community, once the details are valid and the user may place a site there."""
    if not details.name.strip() or len(details.name.strip()) > 128:
        raise ValidationError("名称应为1至128个字符")
    if len(details.address.strip()) > 200:
        raise ValidationError("地址不超过200个字符")
    if details.kind not in SiteKind.values:
        raise ValidationError("类型应为" + "、".join(SiteKind.labels) + "之一")
    community = Division.objects.filter(
        code=details.community_code.strip(), level=Level.COMMUNITY, is_current=True
    ).first()
    if community is None:
        raise ValidationError("未知社区代码:应为长春市现行社区/村的12位代码")
    if not in_scope(user, community.county_code):
        raise PermissionDenied("该社区不在您负责的区县")
    return community


def _fields(details: SiteDetails, community: Division) -> dict:
    return {
        "name": details.name.strip(),
        "community": community,
        "county_code": community.county_code,
        "address": details.address.strip(),
        "kind": details.kind,
    }


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("请填写原因")
    if len(reason) > MAX_REASON:
        raise ValidationError(f"原因不超过{MAX_REASON}字")
    return reason


def _keep_revision(site: TestingSite, user, reason: str, now: datetime) -> None:
    TestingSiteRevision.objects.create(
        site=site,
        name=site.name,
        community_code=site.community_id,
        address=site.address,
        kind=site.kind,
        status=site.status,
        valid_until=now,
        recorded_by=user if getattr(user, "pk", None) else None,
        reason=reason,
    )


def _described(site: TestingSite) -> dict:
    return {
        "code": site.code,
        "name": site.name,
        "community": site.community_id,
        "county": site.county_code,
        "address": site.address,
        "kind": site.kind,
    }
