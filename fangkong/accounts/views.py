"""What every staff page shows around its content: the navigation a role is entitled to and the
names of the districts the user sees.

`render_staff` is `render` plus that context. Keeping it in one place means the top bar and the
role checks in the views read the same sets from `fangkong.accounts.scoping`.
"""

from __future__ import annotations

from django.shortcuts import render
from django.utils.functional import lazy

from fangkong.accounts.models import Role
from fangkong.accounts.scoping import (
    AUDIT_READERS,
    BULLETIN_EDITORS,
    CASE_KEEPERS,
    CHECKPOINT_VERIFIERS,
    CITY_WIDE,
    CODE_STATS_READERS,
    ENTERPRISE_READERS,
    FLAG_RESOLVERS,
    INGEST_ROLES,
    PERSON_READERS,
    POLICY_READERS,
    districts_of,
    role_of,
)
from fangkong.places.models import Division, Level
from fangkong.places.queries import CITY_CODE
from fangkong.testing.actions import SITE_READERS


def _desk_nav() -> tuple:
    """The resumption desk around the enterprise registry: vehicle passes, problem tickets and
    the daily dispatch, supply assurance (each app keeps its own role sets)."""
    from fangkong.passes import access as passes
    from fangkong.supplies import access as supplies
    from fangkong.tickets import access as tickets

    def section(app: str, *names: str) -> tuple[str, ...]:
        return tuple(f"{app}:{name}" for name in names)

    return (
        (
            "passes:queue",
            "车辆通行证",
            passes.READERS,
            section("passes", "queue", "apply", "detail", "decide", "revoke", "batches"),
        ),
        (
            "passes:stats",
            "通行证统计",
            passes.OFFICERS | {Role.DISTRICT_REVIEWER, Role.AUDITOR},
            section("passes", "stats"),
        ),
        (
            "tickets:list",
            "问题工单",
            tickets.READERS,
            section(
                "tickets",
                *("list", "new", "detail", "contact", "assign", "note", "solve", "reopen"),
                *("close", "task_force"),
            ),
        ),
        (
            "tickets:dispatch",
            "日调度",
            tickets.DISPATCH_READERS,
            section("tickets", "dispatch"),
        ),
        (
            "supplies:figures",
            "保供",
            supplies.READERS,
            section("supplies", "figures", "firms", "firm", "import", "resolve_flag", "housing"),
        ),
        (
            "supplies:requests",
            "物资需求",
            supplies.REQUESTERS | supplies.READERS,
            section("supplies", "requests", "request_new", "request", "confirm"),
        ),
    )


# (url name, label, who sees it: a set of roles or None for everyone signed in, the views that
# count as being in that section)
_NAV: tuple[tuple[str, str, frozenset[str] | None, tuple[str, ...]], ...] = (
    ("home", "首页", None, ("home",)),
    ("people:search", "居民查询", PERSON_READERS, ("people:search", "people:person")),
    (
        "ingest:batches",
        "导入批次",
        frozenset().union(*INGEST_ROLES.values()) | CITY_WIDE,
        ("ingest:batches", "ingest:batch", "ingest:upload", "ingest:docs"),
    ),
    ("ingest:flags", "待核记录", FLAG_RESOLVERS, ("ingest:flags", "ingest:flag")),
    (
        "ingest:sites",
        "采样点",
        SITE_READERS,
        (
            "ingest:sites",
            "ingest:site",
            "ingest:site_new",
            "ingest:site_edit",
            "ingest:site_close",
            "ingest:site_reopen",
        ),
    ),
    ("codes:overview", "健康码统计", CODE_STATS_READERS, ("codes:overview",)),
    (
        "policies:list",
        "赋码政策",
        POLICY_READERS,
        (
            "policies:list",
            "policies:versions",
            "policies:version",
            "policies:new",
            "policies:publish",
            "policies:help",
            "policies:withdraw_preview",
            "policies:withdraw",
        ),
    ),
    (
        "zones:list",
        "风险区划",
        CODE_STATS_READERS,
        (
            "zones:list",
            "zones:community",
            "zones:decisions",
            "zones:decision",
            "zones:decision_new",
            "zones:decision_approve",
            "zones:decision_reject",
            "zones:decision_publish",
            "zones:eligibility",
            "zones:map",
            "zones:exit_rules",
            "zones:default_exit_rules",
        ),
    ),
    ("clearances:queue", "解码审核", CODE_STATS_READERS, ("clearances:queue", "clearances:detail")),
    ("cases:list", "病例", CASE_KEEPERS | {Role.AUDITOR}, ("cases:list", "cases:case")),
    ("cases:desk", "疫情通报", BULLETIN_EDITORS | {Role.AUDITOR}, ("cases:desk",)),
    (
        "clearances:batches",
        "单位集中申请",
        frozenset({Role.EMPLOYER, Role.DISTRICT_REVIEWER, Role.COMMAND_CENTRE}),
        (
            "clearances:batches",
            "clearances:batch",
            "clearances:batch_new",
            "clearances:batch_task",
        ),
    ),
    (
        "clearances:hotline",
        "12345专席",
        frozenset({Role.HOTLINE, Role.COMMAND_CENTRE}),
        ("clearances:hotline", "clearances:hotline_caller"),
    ),
    (
        "clearances:figures",
        "解码统计",
        frozenset({Role.COMMAND_CENTRE, Role.ADMIN, Role.AUDITOR, Role.DISTRICT_REVIEWER}),
        ("clearances:figures",),
    ),
    (
        "checkpoints:list",
        "卡口核验",
        CHECKPOINT_VERIFIERS,
        ("checkpoints:list", "checkpoints:verify", "checkpoints:log"),
    ),
    (
        "enterprises:list",
        "企业复工",
        ENTERPRISE_READERS,
        tuple(
            f"enterprises:{name}"
            for name in (
                "list",
                "new",
                "detail",
                "edit",
                "file",
                "check",
                "decide",
                "resume",
                "suspend",
                "document",
                "report",
                "reminders",
                "buffer",
                "loop",
                "loop_overview",
                "gate",
            )
        ),
    ),
    ("enterprises:dashboard", "复工复产统计", ENTERPRISE_READERS, ("enterprises:dashboard",)),
    *_desk_nav(),
    ("audit:log", "审计日志", AUDIT_READERS, ("audit:log",)),
)


def can_ingest_any(user) -> bool:
    role = role_of(user)
    return role is not None and any(role in roles for roles in INGEST_ROLES.values())


def nav_items(request) -> list[dict]:
    role = role_of(request.user)
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    items = []
    for name, label, roles, section in _NAV:
        if roles is not None and role not in roles:
            continue
        items.append({"url_name": name, "label": label, "active": current in section})
    if getattr(request.user, "is_staff", False):
        items.append({"url_name": "admin:index", "label": "管理后台", "active": False})
    return items


def county_names(codes=None) -> dict[str, str]:
    """County-level names by code (historic ones included), in one query."""
    qs = Division.objects.filter(level=Level.COUNTY)
    if codes is not None:
        qs = qs.filter(code__in=sorted(set(codes)))
    return dict(qs.values_list("code", "name"))


def district_label(user) -> str:
    """Every district the user sees, by name (for pages that say what they count)."""
    scope = districts_of(user)
    if scope is None:
        return "全市"
    if not scope:
        return "未分配区县"
    names = county_names(scope)
    return "、".join(names.get(code, code) for code in sorted(scope))


# More district names than this do not fit a phone's top bar above the verifier.
SCOPE_NAMES_SHOWN = 3


def scope_label(user) -> str:
    """What the top bar says the user works on, in a few characters: 全市, a few district
    names, or an employer liaison's organisation (their lists are scoped by it, not by
    district)."""
    if role_of(user) == Role.EMPLOYER:
        enterprise = user.staff.enterprise  # the registry's name, when the account is linked
        name = enterprise.name if enterprise else user.staff.organisation
        return (name or "").strip() or "未登记单位"
    scope = districts_of(user)
    if scope is None:
        return "全市"
    if not scope:
        return "未分配区县"
    rows = Division.objects.filter(level=Level.COUNTY).values_list(
        "code", "name", "is_current", "parent_id"
    )
    names, current = {}, set()
    for code, name, is_current, parent in rows:
        names[code] = name
        if is_current and parent == CITY_CODE:
            current.add(code)
    if current <= scope:
        return "全市"
    shown = [names.get(code, code) for code in sorted(scope)]
    if len(shown) <= SCOPE_NAMES_SHOWN:
        return "、".join(shown)
    return f"{shown[0]}等{len(shown)}个区县"


def staff_context(request) -> dict:
    user = request.user
    if not getattr(user, "is_authenticated", False):
        return {}
    return {
        "staff_nav": nav_items(request),
        # Read by the few pages that name what they count: worked out only there.
        "staff_districts": lazy(district_label, str)(user),
        "staff_scope": scope_label(user),
    }


def render_staff(request, template: str, context: dict | None = None, status: int = 200):
    # The top bar comes from the context processor (fangkong.accounts.context.staff).
    return render(request, template, context or {}, status=status)
