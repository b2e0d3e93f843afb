"""Supply assurance (保供) in April 2022, replayed so that the figures of 20 April come out of the
stored registry, requests, deliveries and placements.

The press conference of 21 April: "目前全市两级保供企业共3067户,其他小超市达到910户" (the city);
for 长春新区 (220173, see fangkong.demo.enterprises): "截至目前已为42户企业无偿捐赠3批次10余吨蔬菜,
'点对点'为22家企业、21个工地配送30余万元生活物资 … 先后向企业发放防护服、口罩、消毒液等防护用品1万余
件(套),中药汤剂2万副,调配20万份试剂盒 … 协调周边空闲楼宇妥善安置返岗员工380人 (天合富奥) … 两天时间
先后为区内企业职工返厂住宿协调到3所学校1080个床位".

Nothing here writes a figure. The registry is four files loaded by
`fangkong.supplies.actions.do_import` (8, 15, 20 and 22 April), each row a firm's status from a
time: firms open, suspended after a positive screening, reopened, closed; small supermarkets
reopening. The design (below) makes 3 067 supply firms and 910 small supermarkets open as of the
end of 20 April, and more after it. Requests, deliveries, confirmations and placements are the
actions of `fangkong.supplies.actions`, by the demo's accounts: `district_xinqu` (the district
reviewer, the enterprises' liaison) requests and confirms, `supply_xinqu` (物资保障专员 of 220173)
delivers and keeps the housing, `tianhe` requests for 天合富奥 and confirms its own delivery.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np

from fangkong.demo.april import at
from fangkong.demo.enterprises import DISTRICT, DISTRICT_NAME, ENTERPRISE_ACCOUNT, REVIEWER, TIANHE

OFFICER = "supply_xinqu"
AS_OF = at(date(2022, 4, 21), 0)  # the end of 20 April: what the press conference counted
SUPPLY_FIRMS, SMALL_SUPERMARKETS = 3_067, 910  # the seed's, designed to below

# The supply firms' April (design): (how many, their rows as (file, status, day)).
# Files: 1 → 8 April, 2 → 15 April, 3 → 20 April, 4 → 22 April.
REOPENED_AFTER_CASE = 40  # open 8 Apr, suspended 14 Apr after a positive screening, reopen 18-19
STILL_SUSPENDED = 12  # suspended 14 Apr, not reopened by 20 April
CLOSED = 8  # suspended 14 Apr, closed 19 Apr
WAITING_OPENED_BY_15 = 150  # registered suspended on 8 Apr, opened 11-15 Apr
WAITING_OPENED_BY_20 = 40  # … opened 17-20 Apr
WAITING_OPENED_LATER = 10  # … opened 22 Apr
NEW_ON_15 = 80  # registered open in the file of 15 April
NEW_ON_22 = 30  # registered open on 22 April
ALWAYS_OPEN = SUPPLY_FIRMS - (
    REOPENED_AFTER_CASE + WAITING_OPENED_BY_15 + WAITING_OPENED_BY_20 + NEW_ON_15
)
SMALL_BY_15, SMALL_SUSPENDED, SMALL_LATER = 600, 15, 25
SMALL_BY_20 = SMALL_SUPERMARKETS - SMALL_BY_15
CITY_LEVEL_SHARE = 0.12
KINDS = {
    "农贸市场": 0.22,
    "大型商超": 0.08,
    "超市": 0.38,
    "物流配送": 0.12,
    "流动大篷车": 0.1,
    "电商平台": 0.04,
    "药房": 0.06,
}
FILE_TIMES = {
    1: at(date(2022, 4, 8), 18),
    2: at(date(2022, 4, 15), 18),
    3: at(date(2022, 4, 20), 18),
    4: at(date(2022, 4, 22), 18),
}

# 长春新区's deliveries.
VEGETABLE_FIRMS, ROUNDS = 42, (12, 15, 18)  # days of April of the three batches
VEGETABLES_PER_FIRM = Decimal("0.25")  # 吨
TIANHE_FIRST = Decimal("0.15")  # its batch arrives in two parts (rounds 1 and 2)
P2P_FIRMS, P2P_SITES = 22, 21
PROTECTED_FIRMS = 40
PROTECTIVE_PER_FIRM = (
    ("protective_suit", "套", 80),
    ("mask", "件", 160),
    ("disinfectant", "件", 15),
)
HERBAL_PER_FIRM, ANTIGEN_PER_FIRM = 500, 5_000
SCHOOLS = (
    ("长春新区第一实验学校", 18, 360),
    ("长春新区北湖学校", 18, 360),
    ("长春新区龙湖小学", 19, 360),
)
VACANT = ("长春新区天合富奥周边空闲楼宇", 17, 400)
TIANHE_HOUSED = 380
SCHOOL_PLACEMENTS = (200, 150, 180, 160, 170, 140)  # six other firms, two a school


# --- the registry (design: pure) -----------------------------------------------------------


def _kinds(rng: np.random.Generator, n: int) -> list[str]:
    names = list(KINDS)
    weights = np.array([KINDS[k] for k in names])
    return [names[i] for i in rng.choice(len(names), size=n, p=weights / weights.sum())]


def registry_files(seed: int, counties: list[tuple[str, str]]) -> dict[int, list[dict]]:
    """The four files of the registry (rows by file number), from the seed alone."""
    rng = np.random.default_rng([seed, 3067])
    files: dict[int, list[dict]] = {1: [], 2: [], 3: [], 4: []}
    serial = iter(range(1, 1_000_000))

    def firm(level: str, kind: str) -> dict:
        code, name = counties[int(rng.integers(len(counties)))]
        n = next(serial)
        prefix = "XC" if level == "小超市" else "BG"
        return {
            "登记编号": f"{prefix}{code}{n:05d}",
            "名称": f"{name}{kind}{n:04d}号",
            "级别": level,
            "类型": kind,
            "区县代码": code,
            "地址": f"{name}保供点{n}号",
        }

    def row(base: dict, file: int, status: str, day: int, hour: int, reason: str = "") -> None:
        files[file].append(
            base | {"状态": status, "生效时间": f"2022-04-{day:02d} {hour:02d}:00", "原因": reason}
        )

    groups = [
        ("always", ALWAYS_OPEN),
        ("case", REOPENED_AFTER_CASE),
        ("still", STILL_SUSPENDED),
        ("closed", CLOSED),
        ("w15", WAITING_OPENED_BY_15),
        ("w20", WAITING_OPENED_BY_20),
        ("wlater", WAITING_OPENED_LATER),
        ("new15", NEW_ON_15),
        ("new22", NEW_ON_22),
    ]
    total = sum(n for _, n in groups)
    kinds = _kinds(rng, total)
    levels = rng.random(total) < CITY_LEVEL_SHARE
    i = 0
    case = "从业人员核酸筛查异常,停业消杀"
    for group, n in groups:
        for _ in range(n):
            base = firm("市级" if levels[i] else "区级", kinds[i])
            i += 1
            day = int(rng.integers(4, 9))
            if group in ("always", "case", "still", "closed"):
                row(base, 1, "营业", day, 8)
            if group in ("case", "still", "closed"):
                row(base, 2, "暂停营业", 14, 9, case)
            if group == "case":
                row(base, 3, "营业", int(rng.integers(18, 20)), 8, "消杀完成,复核合格")
            if group == "closed":
                row(base, 3, "关闭", 19, 17, "经营者申请停止保供")
            if group in ("w15", "w20", "wlater"):
                row(base, 1, "暂停营业", 8, 9, "待防疫条件核验")
            if group == "w15":
                row(base, 2, "营业", int(rng.integers(11, 16)), 8, "防疫条件核验合格")
            if group == "w20":
                row(base, 3, "营业", int(rng.integers(17, 21)), 8, "防疫条件核验合格")
            if group == "wlater":
                row(base, 4, "营业", 22, 8, "防疫条件核验合格")
            if group == "new15":
                row(base, 2, "营业", int(rng.integers(12, 16)), 8)
            if group == "new22":
                row(base, 4, "营业", 22, 8)
    for file, n, days in (
        (2, SMALL_BY_15, (10, 16)),
        (3, SMALL_BY_20, (16, 21)),
        (2, SMALL_SUSPENDED, (10, 14)),
        (4, SMALL_LATER, (21, 23)),
    ):
        for k in range(n):
            base = firm("小超市", "小超市")
            row(base, file, "营业", int(rng.integers(*days)), 9, "恢复营业")
            if file == 2 and n == SMALL_SUSPENDED:
                row(base, 3, "暂停营业", 19, 9, "从业人员核酸筛查异常")
            del k
    return files


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    columns = ["登记编号", "名称", "级别", "类型", "区县代码", "地址", "状态", "生效时间", "原因"]
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


# --- replaying it ------------------------------------------------------------------------------


def _accounts() -> dict:
    from django.contrib.auth import get_user_model

    from fangkong.demo.accounts import create_staff, task_force_accounts

    create_staff([a for a in task_force_accounts() if a.username == OFFICER], [DISTRICT])
    users = get_user_model().objects.filter(username__in=[OFFICER, REVIEWER, ENTERPRISE_ACCOUNT])
    return {u.username: u for u in users}


def _day(day: int, hour: int, minute: int = 0) -> datetime:
    return at(date(2022, 4, day), hour) + timedelta(minutes=minute)


def _request(user, note: str, now: datetime, **kwargs):
    from fangkong.supplies.actions import do_request
    from fangkong.supplies.models import SupplyRequest

    found = SupplyRequest.objects.filter(note=note).first()
    if found is not None:
        return found, False
    return do_request(user, note=note, now=now, **kwargs), True


def _deliver(user, supply_request, lines: dict, when: datetime, **kwargs):
    """Deliver what is left of the given items (idempotent: nothing left, nothing done)."""
    from fangkong.supplies.actions import delivered_so_far, do_deliver

    done = delivered_so_far(supply_request)
    items = {i.item: i for i in supply_request.items.all()}
    wanted = {}
    for item, amount in lines.items():
        row = items[item]
        left = row.quantity - done.get(row.pk, Decimal(0))
        if left > 0:
            wanted[row.pk] = min(Decimal(amount), left) if amount is not None else left
    if not wanted:
        return None
    return do_deliver(user, supply_request, lines=wanted, delivered_at=when, now=when, **kwargs)


def _confirm(user, delivery, when: datetime) -> int:
    from fangkong.supplies.actions import do_confirm

    if delivery is None or delivery.confirmed_at is not None:
        return 0
    do_confirm(user, delivery, now=when)
    return 1


def replay_supplies(seed: int = 7) -> dict:
    """Load the registry, request, deliver, confirm and house (see the module's docstring);
    what was replayed before is not replayed again. Returns the summary with the figures as
    `fangkong.supplies.stats` computes them."""
    from fangkong.enterprises.models import Enterprise
    from fangkong.places.queries import counties
    from fangkong.supplies.actions import do_import
    from fangkong.supplies.stats import figures

    users = _accounts()
    county_list = list(counties().values_list("code", "name"))
    files = registry_files(seed, county_list)
    uploads = []
    for number, rows in files.items():
        upload = do_import(
            None, _csv(rows), f"保供企业名录-第{number}批.csv", now=FILE_TIMES[number]
        )
        uploads.append(
            {
                "file": number,
                "rows": upload.rows,
                "errors": len(upload.errors),
                "repeated": upload.repeated,
            }
        )
    firms = list(Enterprise.objects.filter(county_code=DISTRICT, above_scale=True).order_by("uscc"))
    rng = np.random.default_rng([seed, 42])
    order = [firms[i] for i in rng.permutation(len(firms))]
    tianhe = next(e for e in firms if e.name == TIANHE)
    order.remove(tianhe)
    vegetable_firms = [tianhe, *order[: VEGETABLE_FIRMS - 1]]
    p2p_firms = order[VEGETABLE_FIRMS - 1 : VEGETABLE_FIRMS - 1 + P2P_FIRMS]
    made = {"requests": 0, "deliveries": 0, "confirmed": 0}
    _vegetables(users, vegetable_firms, made)
    _point_to_point(users, p2p_firms, rng, made)
    _protective(users, vegetable_firms[:PROTECTED_FIRMS], made)
    housing = _housing(users, tianhe, order[-len(SCHOOL_PLACEMENTS) :])
    shown = figures(AS_OF)
    district = figures(AS_OF, [DISTRICT])
    summary = {
        "replayed": True,
        "uploads": uploads,
        "made": made,
        "housing": housing,
        "city": shown,
        "district": district,
        "schools": _schools(AS_OF),
    }
    summary["text"] = story_text(summary)
    return summary


def _vegetables(users, firms, made: dict) -> None:
    """Three batches of donated vegetables to 42 closed-loop firms; 天合富奥 asks itself and its
    batch comes in two parts, confirmed by its own account; the liaison confirms the others."""
    reviewer, officer, tianhe_user = users[REVIEWER], users[OFFICER], users.get(ENTERPRISE_ACCOUNT)
    for n, firm in enumerate(firms):
        round_no = n % len(ROUNDS) + 1
        day = ROUNDS[round_no - 1]
        asker = tianhe_user if firm.name == TIANHE and tianhe_user else reviewer
        supply_request, new = _request(
            asker,
            f"闭环管理生活物资(蔬菜)·{firm.uscc}",
            _day(day - 1, 10, n),
            enterprise=firm,
            category="living",
            items=[("vegetables", "吨", VEGETABLES_PER_FIRM)],
        )
        made["requests"] += new
        kwargs = {"supplier": "长春新区物资保障协调组", "funding": "donated", "value_yuan": "0"}
        parts = [(None, round_no, day)]
        if firm.name == TIANHE:
            parts = [(TIANHE_FIRST, 1, ROUNDS[0]), (None, 2, ROUNDS[1])]
        for amount, part_round, part_day in parts:
            delivery = _deliver(
                officer,
                supply_request,
                {"vegetables": amount},
                _day(part_day, 9, n),
                round=part_round,
                **kwargs,
            )
            made["deliveries"] += delivery is not None
            confirmer = asker
            made["confirmed"] += _confirm(confirmer, delivery, _day(part_day, 15, n))


def _point_to_point(users, firms, rng, made: dict) -> None:
    """Living supplies bought for 22 firms and 21 building sites, delivered point to point."""
    from fangkong.supplies.actions import do_register_site
    from fangkong.supplies.models import Site

    reviewer, officer = users[REVIEWER], users[OFFICER]
    receivers = [("enterprise", f) for f in firms]
    for k in range(1, P2P_SITES + 1):
        name = f"{DISTRICT_NAME}重点项目第{k}标段工地"
        site = Site.objects.filter(name=name).first() or do_register_site(
            reviewer,
            name=name,
            county_code=DISTRICT,
            contractor=f"中建{k % 8 + 1}局长春分公司",
            workers=60 + 5 * k,
            now=_day(12, 9, k),
        )
        receivers.append(("site", site))
    values = 7_000 + rng.integers(0, 400, size=len(receivers))
    for n, (kind, receiver) in enumerate(receivers):
        day = 13 + n % 8
        key = receiver.uscc if kind == "enterprise" else receiver.name
        supply_request, new = _request(
            reviewer,
            f"点对点配送生活物资·{key}",
            _day(day - 1, 11, n),
            category="living",
            items=[("grain_oil", "千克", 200), ("daily_goods", "份", 80 + n)],
            **{kind: receiver},
        )
        made["requests"] += new
        delivery = _deliver(
            officer,
            supply_request,
            {"grain_oil": None, "daily_goods": None},
            _day(day, 10, n),
            supplier="新区快速响应配送平台",
            funding="paid",
            value_yuan=str(values[n]),
            courier_name="王建国",
            courier_phone="13904318800",
        )
        made["deliveries"] += delivery is not None
        made["confirmed"] += _confirm(reviewer, delivery, _day(day, 16, n))


def _protective(users, firms, made: dict) -> None:
    """Protective wear, herbal medicine (one to one by 敖东大药房) and antigen kits, free."""
    reviewer, officer = users[REVIEWER], users[OFFICER]
    for n, firm in enumerate(firms):
        items = [
            *PROTECTIVE_PER_FIRM,
            ("herbal", "副", HERBAL_PER_FIRM),
            ("antigen", "份", ANTIGEN_PER_FIRM),
        ]
        supply_request, new = _request(
            reviewer,
            f"复工复产防护物资·{firm.uscc}",
            _day(10, 14, n),
            enterprise=firm,
            category="protective",
            items=items,
        )
        made["requests"] += new
        wear = {item: None for item, _, _ in PROTECTIVE_PER_FIRM} | {"antigen": None}
        first = _deliver(
            officer,
            supply_request,
            wear,
            _day(11, 9, n),
            supplier="长春新区物资保障协调组",
            funding="donated",
        )
        second = _deliver(
            officer,
            supply_request,
            {"herbal": None},
            _day(11, 14, n),
            supplier="敖东大药房",
            funding="donated",
        )
        made["deliveries"] += (first is not None) + (second is not None)
        for delivery in (first, second):
            made["confirmed"] += _confirm(reviewer, delivery, _day(11, 18, n))


def _housing(users, tianhe, firms) -> dict:
    from fangkong.supplies.actions import do_open_housing, do_place
    from fangkong.supplies.models import HousingSite, Placement

    officer = users[OFFICER]
    sites = []
    for (name, day, beds), kind in [*((s, "school") for s in SCHOOLS), (VACANT, "vacant")]:
        site = HousingSite.objects.filter(name=name).first() or do_open_housing(
            officer,
            name=name,
            kind=kind,
            county_code=DISTRICT,
            beds=beds,
            opened_at=_day(day, 8),
            now=_day(day, 8),
        )
        sites.append(site)
    placed = 0
    plan = [(sites[3], tianhe, TIANHE_HOUSED, 17)]
    for n, (firm, people) in enumerate(zip(firms, SCHOOL_PLACEMENTS, strict=True)):
        plan.append((sites[n // 2], firm, people, 18 + n // 4))
    for site, firm, people, day in plan:
        if Placement.objects.filter(site=site, enterprise=firm).exists():
            continue
        do_place(officer, site, firm, people=people, placed_at=_day(day, 18), now=_day(day, 18))
        placed += 1
    return {"sites": len(sites), "placements": placed}


def _schools(as_of: datetime) -> dict:
    from django.db.models import Count, Sum

    from fangkong.supplies.models import HousingSite

    return HousingSite.objects.filter(
        county_code=DISTRICT, kind="school", opened_at__lte=as_of
    ).aggregate(schools=Count("pk"), beds=Sum("beds"))


def story_text(summary: dict) -> str:
    city, district, schools = summary["city"], summary["district"], summary["schools"]
    items = {(r["item"], r["unit"]): r["delivered"] for r in district["by_item"]}
    protective = sum(
        items.get(k, 0) for k in (("protective_suit", "套"), ("mask", "件"), ("disinfectant", "件"))
    )
    vegetable_firms = _vegetable_firms(AS_OF)
    paid = _paid_receivers(AS_OF)
    return (
        f"截至4月20日,全市两级保供企业共{city['supply_firms']:,}户,其他小超市达到"
        f"{city['small_supermarkets']:,}户。{DISTRICT_NAME}为{vegetable_firms}户企业无偿捐赠"
        f"{_rounds(AS_OF)}批次{items.get(('vegetables', '吨'), 0)}吨蔬菜,"
        f"“点对点”为{paid['firms']}家企业、{paid['sites']}个工地配送生活物资,"
        f"货值{district['value_yuan'] / 10_000:.1f}万元;发放防护服、口罩、消毒液等防护用品"
        f"{protective:,}件(套),中药汤剂{items.get(('herbal', '副'), 0):,}副,抗原试剂盒"
        f"{items.get(('antigen', '份'), 0):,}份;为企业职工协调到{schools['schools'] or 0}所学校"
        f"{schools['beds'] or 0:,}个床位,住宿安置点已安置{district['beds_used']:,}人。"
    )


def _paid_receivers(as_of: datetime) -> dict:
    from fangkong.supplies.models import Delivery

    paid = Delivery.objects.filter(
        delivered_at__lte=as_of, funding="paid", request__county_code=DISTRICT
    )
    return {
        "firms": paid.exclude(request__enterprise=None)
        .values("request__enterprise")
        .distinct()
        .count(),
        "sites": paid.exclude(request__site=None).values("request__site").distinct().count(),
    }


def _vegetable_firms(as_of: datetime) -> int:
    from fangkong.supplies.models import Delivery

    return (
        Delivery.objects.filter(
            delivered_at__lte=as_of,
            funding="donated",
            lines__item__item="vegetables",
            request__county_code=DISTRICT,
        )
        .values("request__enterprise")
        .distinct()
        .count()
    )


def _rounds(as_of: datetime) -> int:
    from fangkong.supplies.models import Delivery

    return (
        Delivery.objects.filter(
            delivered_at__lte=as_of, lines__item__item="vegetables", request__county_code=DISTRICT
        )
        .exclude(round=None)
        .values("round")
        .distinct()
        .count()
    )
