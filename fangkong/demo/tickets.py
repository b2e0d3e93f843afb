"""The "1+5" task force of 长春新区 and the problems it solved, 8–20 April 2022, replayed so that
the daily dispatch (日调度) of 20 April comes out of the stored tickets.

The press conference of 21 April (石威): "建立“1+5”工作落实机制,成立长春新区规上工业企业复工复产
工作专班,组建综合协调组、员工返岗协调组、车辆交通协调组、疫情防控协调组、物资保障协调组5个组 …
比如,天合富奥请求解决返岗员工住宿问题,我们立即协调周边空闲楼宇妥善安置返岗员工380人 … 开通24小时
政策咨询服务热线,建立了“日调度、日研判”制度 … 先后帮助区内汽车企业、医药企业及规模较大的重点企业
解决问题183个 … 两天时间先后为区内企业职工返厂住宿协调到3所学校1080个床位。" The district stands in
as 220173, as in fangkong.demo.enterprises (which runs first: the registry and the accounts
`tianhe`, `hotline` and `district_xinqu` exist).

Nothing here writes a figure. The demo designs the tickets — which enterprise raised what, on
which day, by which channel, which group got it, when it was solved (some reopened and solved
again, some still open on the evening of 20 April) — and records every step through
`fangkong.tickets.actions`; the figures are `fangkong.tickets.stats.figures` of the stored steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np

from fangkong.demo.april import at
from fangkong.demo.enterprises import DISTRICT, DISTRICT_NAME, REVIEWER, TIANHE

FIRST_DAY, LAST_DAY = 8, 20
# Tickets raised each day of April (design, not in the seed): 195 in all, 183 of them solved by
# the end of 20 April, 12 still open (3 of them not yet assigned).
RAISED_PER_DAY = {
    8: 6,
    9: 9,
    10: 12,
    11: 15,
    12: 17,
    13: 18,
    14: 19,
    15: 18,
    16: 17,
    17: 16,
    18: 15,
    19: 16,
    20: 17,
}
SOLVED = 183
STILL_OPEN = 12
NOT_ASSIGNED = 3
REOPENED = 4
HOUSED = 380
SCHOOL_BEDS = (360, 380, 340)  # three schools, 1 080 beds, on 15 and 16 April
HOTLINE_ACCOUNT = "hotline"
ENTERPRISE_ACCOUNT = "tianhe"
assert sum(RAISED_PER_DAY.values()) == SOLVED + STILL_OPEN

# The five groups' demo accounts (Role.TASK_GROUP), one per group, each its group's lead.
GROUP_ACCOUNTS = (
    ("xinqu_zonghe", "coordination", "分派问题工单 /tickets/ ,日调度 /tickets/dispatch/"),
    ("xinqu_fangang", "staff_return", "办理员工返岗、住宿问题 /tickets/"),
    ("xinqu_jiaotong", "traffic", "办理车辆通行、物流问题 /tickets/"),
    ("xinqu_fangyi", "epidemic", "办理核酸检测、疫情防控问题 /tickets/"),
    ("xinqu_wuzi", "supplies", "办理生活物资、防疫物资问题 /tickets/"),
)

# What problems of each category said, and what was done (templates; {n} a number).
PROBLEMS = {
    "staff_return": (
        (
            "部分员工居住小区仍为封控区,{n}名员工暂不能返岗",
            "协调属地街道社区,核验后为{n}名员工办理返岗",
        ),
        ("外地返长员工{n}人需落实返岗核酸检测和闭环转运", "协调点对点转运车辆,{n}名员工闭环返岗"),
    ),
    "housing": (("返岗员工{n}人无处住宿,厂区不具备闭环条件", "协调周边酒店安置返岗员工{n}人"),),
    "pass": (("物流车辆{n}台通行证尚未办理,影响原材料进厂", "专人对接,{n}台车辆通行证当日发放"),),
    "logistics": (
        ("外省零部件到货受阻,{n}车货物滞留高速口", "协调交通部门设置绿色通道,{n}车货物当日入厂"),
        ("成品发往一汽主机厂的运输车辆不足", "协调区内物流企业增派运输车辆"),
    ),
    "testing": (
        ("闭环员工{n}人需每日抗原、定期核酸,检测力量不足", "协调第三方检测机构每日上门采样"),
        ("厂区消杀需专业队伍指导", "组织专业消杀队伍完成全场区消杀并现场核验"),
    ),
    "living_supplies": (
        ("闭环管理员工{n}人生活物资采购困难", "通过线上快速响应配送平台点对点配送生活物资"),
    ),
    "protective_supplies": (
        ("防疫物资(抗原试剂、防护服)储备不足,缺口{n}份", "免费调配防疫物资{n}份送达企业"),
    ),
    "supply_chain": (
        ("上游配套企业尚未复工,关键零部件仅够{n}天", "对接上游配套企业复工排产,保障供货"),
        ("产能安排需与一汽主机厂生产计划对接", "组织与一汽主机厂对接会,产能与计划匹配"),
    ),
    "policy": (
        ("咨询复工复产报备所需材料", "电话解答并发送《疫情形势下企业开复工指南及注意事项》"),
        ("咨询闭环生产期间员工核酸检测频次要求", "解答闭环管理检测频次要求并送达操作指引"),
    ),
}
CATEGORY_WEIGHTS = {
    "staff_return": 0.17,
    "housing": 0.06,
    "pass": 0.12,
    "logistics": 0.14,
    "testing": 0.13,
    "living_supplies": 0.11,
    "protective_supplies": 0.08,
    "supply_chain": 0.12,
    "policy": 0.07,
}
PRIORITY_WEIGHTS = {"urgent": 0.2, "high": 0.45, "normal": 0.35}
SOLVE_HOURS = {"urgent": (1, 5), "high": (3, 26), "normal": (6, 70)}
CONTACTS = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴")
GIVEN = ("伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰")

TIANHE_PROBLEM = "天合富奥请求解决返岗员工住宿问题:返岗员工380人,厂区宿舍不足,不具备闭环住宿条件"
TIANHE_SOLVED = "立即协调周边空闲楼宇,妥善安置返岗员工380人"
SCHOOL_PROBLEM = "复工人员较多,不具备闭环条件,返厂职工住宿困难"
SCHOOL_SOLVED = "统筹协调街道、社区,协调第{k}所学校宿舍{beds}个床位供企业职工返厂住宿"
BEDS = re.compile(r"宿舍(\d+)个床位")


@dataclass
class Planned:
    index: int
    day: int
    minute: int  # of the day (Beijing)
    enterprise: str
    category: str
    priority: str
    channel: str  # which account raises it: "enterprise", "hotline", "liaison"
    description: str
    resolution: str
    solve_after: int  # minutes after raising
    outcome: str = "solved"  # or "open", "unassigned"
    reopen: bool = False
    close: bool = False
    group: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def raised_at(self) -> datetime:
        return at(date(2022, 4, self.day), 0) + timedelta(minutes=self.minute)


# --- the plan (pure) -------------------------------------------------------------------------


def plan(seed: int, enterprises: list[str]) -> list[Planned]:
    """The tickets of 8–20 April, in the order they were raised. `enterprises`: the above-scale
    enterprises of the district (TIANHE among them), the first ones weighed more (the registry
    lists the automotive ones first)."""
    from fangkong.tickets.rules import SUGGESTED_GROUP

    rng = np.random.default_rng(seed + 1600)
    weights = np.linspace(3.0, 1.0, len(enterprises))
    weights /= weights.sum()
    categories = list(CATEGORY_WEIGHTS)
    cat_p = np.array([CATEGORY_WEIGHTS[c] for c in categories])
    cat_p /= cat_p.sum()
    priorities = list(PRIORITY_WEIGHTS)
    pr_p = np.array([PRIORITY_WEIGHTS[p] for p in priorities])
    out: list[Planned] = []
    for day, count in RAISED_PER_DAY.items():
        minutes = sorted(int(m) for m in rng.integers(8 * 60, 20 * 60, size=count))
        for minute in minutes:
            category = str(rng.choice(categories, p=cat_p))
            problem, solution = PROBLEMS[category][int(rng.integers(len(PROBLEMS[category])))]
            n = int(rng.integers(2, 60)) * (10 if category == "protective_supplies" else 1)
            priority = str(rng.choice(priorities, p=pr_p))
            low, high = SOLVE_HOURS[priority]
            channel = str(rng.choice(["hotline", "liaison"], p=[0.55, 0.45]))
            out.append(
                Planned(
                    index=len(out),
                    day=day,
                    minute=minute,
                    enterprise=str(rng.choice(enterprises, p=weights)),
                    category=category,
                    priority=priority,
                    channel=channel,
                    description=problem.format(n=n),
                    resolution=solution.format(n=n),
                    solve_after=int(rng.integers(low * 60, high * 60)),
                    group=SUGGESTED_GROUP[category],
                )
            )
    _named(out, enterprises, rng)
    _outcomes(out, rng)
    return out


def _named(out: list[Planned], enterprises: list[str], rng) -> None:
    """天合富奥's housing (12 April) and the three schools (15 and 16 April)."""
    tianhe = next(p for p in out if p.day == 12)
    tianhe.enterprise, tianhe.category, tianhe.priority = TIANHE, "housing", "urgent"
    tianhe.group, tianhe.channel = "staff_return", "enterprise"
    tianhe.description, tianhe.resolution = TIANHE_PROBLEM, TIANHE_SOLVED
    tianhe.solve_after, tianhe.close = 200, True
    tianhe.notes = ["已联系周边空闲楼宇业主,正在核验楼宇消杀和管理条件"]
    others = [e for e in enterprises if e != TIANHE]
    picks = [int(i) for i in rng.choice(len(others), size=len(SCHOOL_BEDS), replace=False)]
    days = (15, 15, 16)
    for k, (beds, day, pick) in enumerate(zip(SCHOOL_BEDS, days, picks, strict=True), start=1):
        p = next(
            p
            for p in out
            if p.day == day
            and p.category != "housing"
            and p.enterprise != TIANHE
            and not p.description.startswith(SCHOOL_PROBLEM)
        )
        p.enterprise, p.category, p.priority, p.group = (
            others[pick],
            "housing",
            "high",
            "staff_return",
        )
        p.description = f"{SCHOOL_PROBLEM},需安置{beds}人"
        p.resolution = SCHOOL_SOLVED.format(k=k, beds=beds)
        p.solve_after = 300 + 60 * k


def _outcomes(out: list[Planned], rng) -> None:
    """The last raised stay open (the very last ones not yet assigned); some solved ones are
    reopened by the raiser and solved again; about a third are closed after solving."""
    for p in out[-NOT_ASSIGNED:]:
        p.outcome = "unassigned"
    for p in out[-STILL_OPEN:-NOT_ASSIGNED]:
        p.outcome = "open"
    end = at(date(2022, 4, LAST_DAY), 23) + timedelta(minutes=30)
    solved = [p for p in out if p.outcome == "solved"]
    for p in solved:
        latest = int((end - p.raised_at).total_seconds() // 60)
        p.solve_after = max(40, min(p.solve_after, latest))
    plain = [p for p in solved if p.enterprise != TIANHE and "学校" not in p.resolution]
    for i in rng.choice(len(plain), size=REOPENED, replace=False):
        if plain[int(i)].day <= 17:
            plain[int(i)].reopen = True
    for p in solved:
        if rng.random() < 0.35 and not p.reopen:
            p.close = True


# --- replaying it (the shell) ------------------------------------------------------------------


def replay_tickets(seed: int = 7) -> dict:
    """Set up 长春新区's task force with its accounts and replay the tickets of 8–20 April through
    fangkong.tickets.actions; what was replayed before is not replayed again. Returns the summary
    with the dispatch figures of 20 April 24:00 as fangkong.tickets.stats computes them."""
    from fangkong.enterprises.models import Enterprise
    from fangkong.tickets.actions import do_add_member, do_create_task_force

    formed = at(date(2022, 4, FIRST_DAY), 8)
    groups = {g.kind: g for g in do_create_task_force(None, DISTRICT, now=formed)}
    accounts = _accounts()
    users = _users()
    for username, kind, _ in GROUP_ACCOUNTS:
        do_add_member(None, groups[kind], users[username], lead=True, now=formed)
    names = list(
        Enterprise.objects.filter(county_code=DISTRICT, above_scale=True)
        .order_by("industry", "name")  # automotive first
        .values_list("name", flat=True)
    )
    names.sort(key=lambda n: n != TIANHE)
    created = _replay(plan(seed, names), users)
    summary = summary_of(date(2022, 4, LAST_DAY))
    return {
        "replayed": True,
        **summary,
        "created": created,
        "accounts": accounts,
        "text": story_text(summary),
    }


def _accounts() -> list[dict]:
    """The five groups' accounts (fangkong.demo.accounts.task_force_accounts)."""
    from fangkong.accounts.models import Role
    from fangkong.demo.accounts import create_staff, task_force_accounts

    wanted = [a for a in task_force_accounts() if a.role == Role.TASK_GROUP]
    create_staff(wanted, [DISTRICT])
    return [
        {"username": a.username, "role": a.role, "organisation": a.organisation, "duty": a.duty}
        for a in wanted
    ]


def _users() -> dict:
    """The accounts that raise and handle tickets; the story's own ones if it made them."""
    from django.contrib.auth import get_user_model

    from fangkong.demo.accounts import create_staff, staff_accounts
    from fangkong.places.queries import counties

    wanted = {REVIEWER, HOTLINE_ACCOUNT, ENTERPRISE_ACCOUNT}
    missing = wanted - set(
        get_user_model().objects.filter(username__in=wanted).values_list("username", flat=True)
    )
    if missing:
        codes = list(counties().values_list("code", flat=True))
        create_staff([a for a in staff_accounts(TIANHE) if a.username in missing], codes)
    names = wanted | {u for u, _, _ in GROUP_ACCOUNTS}
    return {
        u.username: u
        for u in get_user_model().objects.filter(username__in=names).select_related("staff")
    }


def _replay(planned: list[Planned], users: dict) -> int:
    from fangkong.enterprises.models import Enterprise
    from fangkong.tickets import actions as act
    from fangkong.tickets.models import Ticket

    enterprises = {
        e.name: e for e in Enterprise.objects.filter(name__in={p.enterprise for p in planned})
    }
    done = set(
        Ticket.objects.filter(county_code=DISTRICT).values_list("enterprise__name", "raised_at")
    )
    coordinator = users["xinqu_zonghe"]
    by_group = {kind: users[u] for u, kind, _ in GROUP_ACCOUNTS}
    tianhe = users[ENTERPRISE_ACCOUNT]
    own = getattr(getattr(tianhe, "staff", None), "enterprise", None)
    created = 0
    for p in planned:
        enterprise = enterprises[p.enterprise]
        if (p.enterprise, p.raised_at) in done:
            continue
        raiser = {
            "hotline": users[HOTLINE_ACCOUNT],
            "liaison": users[REVIEWER],
            "enterprise": tianhe
            if own is not None and own.pk == enterprise.pk
            else users[REVIEWER],
        }[p.channel]
        contact = CONTACTS[p.index % len(CONTACTS)] + GIVEN[p.index % len(GIVEN)]
        t = p.raised_at
        ticket = act.do_raise_ticket(
            raiser,
            enterprise,
            category=p.category,
            description=p.description,
            contact_name=contact,
            contact_phone=f"1390431{p.index:04d}",
            now=t,
        )
        created += 1
        if p.outcome == "unassigned":
            continue
        t += timedelta(minutes=10 + p.index % 25)
        ticket = act.do_assign(coordinator, ticket, p.group, priority=p.priority, now=t)
        member = by_group[p.group]
        for note in p.notes:
            t += timedelta(minutes=30)
            ticket = act.do_note(member, ticket, note, now=t)
        if p.outcome == "open":
            continue
        solved_at = max(p.raised_at + timedelta(minutes=p.solve_after), t + timedelta(minutes=5))
        if p.reopen:
            first = p.raised_at + timedelta(minutes=max(30, p.solve_after // 3))
            first = max(first, t + timedelta(minutes=5))
            ticket = act.do_solve(member, ticket, "已电话答复企业,待落实", now=first)
            ticket = act.do_reopen(
                raiser,
                ticket,
                "企业反映问题尚未实际解决,请继续协调",
                now=first + timedelta(hours=2),
            )
            solved_at = max(solved_at, first + timedelta(hours=6))
        ticket = act.do_solve(member, ticket, p.resolution, now=solved_at)
        if p.close:
            closer = raiser if raiser.username != HOTLINE_ACCOUNT else users[REVIEWER]
            act.do_close(closer, ticket, "企业确认问题已解决", now=solved_at + timedelta(hours=1))
    return created


# --- the figures ---------------------------------------------------------------------------------


def summary_of(day: date) -> dict:
    """The dispatch figures of the district at the end of `day`, and the named tickets' stored
    resolutions."""
    from fangkong.tickets import rules
    from fangkong.tickets.models import Ticket
    from fangkong.tickets.stats import dispatch, figures

    end = rules.day_end(day)
    shown = figures(end, county=DISTRICT)
    today = dispatch([day], end, county=DISTRICT)[0]["total"]
    done = Ticket.objects.filter(
        county_code=DISTRICT, steps__action=rules.SOLVE, steps__at__lt=end
    ).distinct()
    tianhe = (
        done.filter(enterprise__name=TIANHE, category="housing", status__in=sorted(rules.DONE))
        .values_list("resolution", flat=True)
        .first()
    )
    housing = done.filter(category="housing", status__in=sorted(rules.DONE))
    beds = [
        int(m.group(1))
        for r in housing.values_list("resolution", flat=True)
        for m in [BEDS.search(r)]
        if m
    ]
    return {
        "as_of": shown["as_of"],
        "raised": shown["raised"],
        "solved": shown["solved"],
        "open": shown["open"],
        "overdue": shown["overdue"],
        "unassigned": shown["unassigned"],
        "by_group": [
            {"group": g["group"], "group_label": g["group_label"], "solved": g["solved"]}
            for g in shown["by_group"]
        ],
        "day": today,
        "tianhe": tianhe or "",
        "schools": len(beds),
        "beds": sum(beds),
    }


def story_text(f: dict) -> str:
    groups = "、".join(f"{g['group_label']}{g['solved']}个" for g in f["by_group"])
    return (
        f"\n4月8日至20日问题工单(按办理记录计算,fangkong tickets stats --as-of 2022-04-20T24:00 "
        f"--county {DISTRICT}):{DISTRICT_NAME}“1+5”工作专班累计受理企业问题{f['raised']}个,"
        f"已解决{f['solved']}个({groups}),未解决{f['open']}个(其中超期{f['overdue']}个);"
        f"4月20日当日新增{f['day']['new']}个、解决{f['day']['solved']}个。天合富奥请求解决返岗员工"
        f"住宿问题:{f['tianhe']};两天时间为区内企业职工返厂住宿协调到{f['schools']}所学校"
        f"{f['beds']}个床位。"
    )
