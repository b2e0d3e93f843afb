"""The demo's staff accounts: one per staff role and a second one of the command centre (a
manual override needs two people there), all with the printed demo password; and the table of
logins `fangkong demo` prints — what each account is for, who opens the audit log."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from fangkong.demo.enterprises import TIANHE
from fangkong.demo.geography import load_geography

DEMO_PASSWORD = "fangkong-demo-2022"  # noqa: S105 (printed for the demo on purpose)
ALL_DISTRICTS = "*"


@dataclass(frozen=True)
class StaffAccount:
    username: str
    role: str
    districts: tuple[str, ...] | str  # county codes, or ALL_DISTRICTS
    organisation: str
    duty: str = ""  # what to try with it, printed with the logins


def staff_accounts(employer: str = "") -> tuple[StaffAccount, ...]:
    """One demo account per staff role (the resident role has no staff account), and a second
    command-centre account: a manual override needs two people of the command centre."""
    from fangkong.accounts.models import Role

    return (
        StaffAccount(
            "command",
            Role.COMMAND_CENTRE,
            (),
            "长春市疫情防控工作领导小组指挥部",
            "发布防控规则 /policies/ ,赋码统计 /codes/ ,全市解码审核 /clearances/ ;"
            "在居民页提出人工复核",
        ),
        StaffAccount(
            "command2",
            Role.COMMAND_CENTRE,
            (),
            "长春市疫情防控工作领导小组指挥部",
            "指挥部另一名工作人员:批准 command 提出的人工复核(提出人不能批准自己的)",
        ),
        StaffAccount(
            "district_nanguan",
            Role.DISTRICT_REVIEWER,
            ("220102",),
            "南关区疫情防控指挥部",
            "南关区的解码审核 /clearances/ 、居民查询 /people/search/ ;可提出人工复核",
        ),
        StaffAccount(
            "district_chaoyang",
            Role.DISTRICT_REVIEWER,
            ("220104",),
            "朝阳区疫情防控指挥部",
            "朝阳区的解码审核(只看得到本区)",
        ),
        StaffAccount(
            "district_xinqu",
            Role.DISTRICT_REVIEWER,
            ("220173",),
            "长春新区疫情防控指挥部",
            "新区企业复工复产:企业名录与报备审批 /enterprises/ ,复工复产看板(4月20日)",
        ),
        StaffAccount(
            "hotline",
            Role.HOTLINE,
            ALL_DISTRICTS,
            "12345市长公开电话赋码工作专席",
            "12345专席 /clearances/hotline/",
        ),
        StaffAccount(
            "lab",
            Role.LAB,
            ALL_DISTRICTS,
            "长春金域医学检验所",
            "导入检测结果 /ingest/upload/results/",
        ),
        StaffAccount(
            "sampler",
            Role.SAMPLER,
            ("220102",),
            "南关区南岭街道第1采样点",
            "导入采样记录 /ingest/upload/samplings/ ,采样点扫码 /checkpoints/",
        ),
        StaffAccount(
            "checkpoint", Role.CHECKPOINT, ALL_DISTRICTS, "长春市交通卡口", "卡口核验 /checkpoints/"
        ),
        StaffAccount(
            "employer",
            Role.EMPLOYER,
            ALL_DISTRICTS,  # its workers live all over the city
            employer or "企业联络员",
            "单位批量申请解码 /clearances/batches/",
        ),
        StaffAccount(
            "tianhe",
            Role.EMPLOYER,
            ("220173",),
            # The enterprise account speaks for this registered enterprise: the registry links
            # it by name when the demo registers it (fangkong.enterprises.linking).
            TIANHE,
            "天合富奥的企业联络员:填报企业日报、厂门登记与缓冲区 /enterprises/",
        ),
        *task_force_accounts(),
        StaffAccount(
            "auditor", Role.AUDITOR, (), "长春市疫情防控审计组", "审计日志 /audit/ 及其校验、导出"
        ),
        StaffAccount(
            "admin", Role.ADMIN, (), "系统管理员", "管理后台 /admin/(is_staff + is_superuser)"
        ),
    )


def task_force_accounts() -> tuple[StaffAccount, ...]:
    """长春新区's "1+5" task force: its five groups (fangkong.tickets), the vehicle-pass officer
    (fangkong.passes) and the supply officer (fangkong.supplies). Their demos create them."""
    from fangkong.accounts.models import Role
    from fangkong.demo.enterprises import DISTRICT, DISTRICT_NAME
    from fangkong.demo.tickets import GROUP_ACCOUNTS
    from fangkong.tickets.rules import GROUP_LABELS

    task_force = f"{DISTRICT_NAME}规上工业企业复工复产工作专班"
    return (
        *(
            StaffAccount(
                username, Role.TASK_GROUP, (DISTRICT,), f"{task_force}·{GROUP_LABELS[kind]}", duty
            )
            for username, kind, duty in GROUP_ACCOUNTS
        ),
        StaffAccount(
            "pass_xinqu",
            Role.PASS_OFFICER,
            (DISTRICT,),
            f"{DISTRICT_NAME}复工复产专班车辆交通协调组",
            "车辆通行证审批、批次发放、吊销 /passes/",
        ),
        StaffAccount(
            "supply_xinqu",
            Role.SUPPLY_OFFICER,
            (DISTRICT,),
            f"{DISTRICT_NAME}复工复产专班物资保障协调组",
            "新区保供:物资需求与配送、住宿安置 /supplies/",
        ),
    )


def create_staff(accounts: Iterable[StaffAccount], county_codes: list[str]) -> list[str]:
    """get_or_create each account; a new one gets the demo password. Returns the usernames."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from fangkong.accounts.models import Role, StaffProfile

    user_model = get_user_model()
    password = None
    names = []
    for account in accounts:
        admin = account.role == Role.ADMIN
        user, created = user_model.objects.get_or_create(
            username=account.username, defaults={"is_staff": admin, "is_superuser": admin}
        )
        if created:
            password = password or make_password(DEMO_PASSWORD)  # hashed once: argon2 is slow
            user.password = password
            user.save(update_fields=["password"])
        districts = county_codes if account.districts == ALL_DISTRICTS else account.districts
        StaffProfile.objects.update_or_create(
            user=user,
            defaults={
                "role": account.role,
                "districts": list(districts),
                "organisation": account.organisation,
            },
        )
        names.append(account.username)
    return names


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def print_logins(stream: TextIO, host: str = "127.0.0.1", port: int = 8000) -> None:
    """The demo accounts as a table (username, role, districts, organisation), what to try with
    each, who opens the audit log and how the two-person override is done."""
    from fangkong.accounts.models import Role, StaffProfile
    from fangkong.accounts.scoping import AUDIT_READERS

    try:
        from django.urls import reverse

        path = reverse("accounts:login")
    except Exception:  # the login page belongs to another part of the project
        path = "/accounts/login/"
    accounts = staff_accounts()
    geo = load_geography()
    county_name = dict(zip(geo.county_codes, geo.county_names, strict=True))
    organisations = dict(
        StaffProfile.objects.filter(user__username__in=[a.username for a in accounts]).values_list(
            "user__username", "organisation"
        )
    )
    rows = [("用户名", "角色", "负责区县", "单位")]
    for account in accounts:
        if account.districts == ALL_DISTRICTS:
            scope = "全市各区县"
        elif not account.districts:
            scope = "全市(角色不限区县)"
        else:
            scope = "、".join(f"{county_name.get(c, c)}({c})" for c in account.districts)
        organisation = organisations.get(account.username, account.organisation)
        rows.append((account.username, Role(account.role).label, scope, organisation))
    base = f"http://{host}:{port}"
    print(f"\n演示账号 — 登录地址 {base}{path} ,密码均为 {DEMO_PASSWORD}", file=stream)
    _print_columns(stream, rows)
    print(f"各账号可以做的事(地址前加 {base}):", file=stream)
    _print_columns(stream, [(a.username, a.duty) for a in accounts])
    readers = "、".join(a.username for a in accounts if a.role in AUDIT_READERS)
    print(f"审计日志:{base}/audit/ ,用账号 {readers} 打开(其他账号无权查看)", file=stream)
    command = [a.username for a in accounts if a.role == Role.COMMAND_CENTRE]
    print(
        f"人工复核(双人):{command[0]} 在居民页 {base}/people/search/ 找到黄码居民、提出人工复核,"
        f"{command[1]} 在 {base}/clearances/ 打开该申请并批准",
        file=stream,
    )


def _print_columns(stream: TextIO, rows: list[tuple[str, ...]]) -> None:
    """Rows aligned in columns (Chinese characters are two columns wide); the last unpadded."""
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [_pad(cell, w) for cell, w in zip(row, widths, strict=False)]
        print("  " + "  ".join([*cells, row[-1]]), file=stream)
