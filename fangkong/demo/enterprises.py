"""The resumption of work (复工复产) in 长春新区, replayed so that the dashboard of 20 April comes
out of the stored reports.

The press conference of 21 April (石威): "截至4月20日,全区195户规上工业企业,已复工182户,复工率
93.3%,复产率78%,在岗总人数15217人 … 新区复工汽车企业63户,返岗人员5157人,其中,天合富奥 … 产能
恢复30%;富维东阳 … 产能恢复33%。全区重点汽车配套企业产能恢复约在30%左右,基本满足一汽集团整车厂
生产需求." The district stands in as 220173 (长春高新技术产业开发区).

Nothing here writes a figure. The demo designs the *facts* — which enterprises are registered,
when each filed its plan (一企一策), was checked, approved and resumed, what each reported every
day — and records them through the product's own paths: the registry and the daily reports are
files loaded by `fangkong.ingest.actions.do_ingest`, the filings are the actions of
`fangkong.enterprises.actions`, the plant gate and its registrations those of
`fangkong.enterprises.gate`. The figures are then `fangkong.enterprises.stats.district_figures`
applied to the stored rows.

The timeline:
- 8 April, 09:00 — the registry is loaded: 中国第一汽车集团有限公司 (the vehicle maker, 220172),
  the 195 above-scale industrial enterprises of 220173 (66 of them automotive, all supplying
  一汽), and the demo's free-text employers (not above-scale) so the registry links them;
- 8–20 April — plans filed, checked on site, approved, resumed, more every day (`RESUMED_BY`):
  182 resumed by the end of 20 April, 63 of them automotive; two suspended on 14 April after an
  employee's positive screening and resumed on 16 April; of the 13 others some are approved,
  some checked or filed, some have not started;
- 10–20 April, 20:00 — one file of daily reports per day, one row for every enterprise resumed
  that day; the reports of 20 April are solved so that their sums and the capacity weighted by
  normal staff are the seed's;
- 26 April — at 天合富奥's plant gate (set up on 10 April), with some residents of 220173 as
  its staff (resident, closed-loop, returning), a delivery van disinfected and two returning
  workers registered: one with a negative PCR sampled within 48 hours, admitted (and in the
  buffer zone until a PCR after entry is negative); one without, refused with the reason.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np

from fangkong.demo import names
from fangkong.demo.april import at
from fangkong.demo.people import PHONE_PREFIXES, allocate

DISTRICT = "220173"  # 长春高新技术产业开发区, standing in for 长春新区
DISTRICT_NAME = "长春新区"
MAKER = "中国第一汽车集团有限公司"
MAKER_COUNTY = "220172"  # 长春汽车经济技术开发区
TIANHE = "天合富奥汽车安全系统(长春)有限公司"
FUWEI = "长春富维东阳汽车塑料零部件有限公司"
REGISTERED_AT = at(date(2022, 4, 8), 9)
FIRST_DAY, LAST_DAY = date(2022, 4, 8), date(2022, 4, 20)
REPORT_DAYS = tuple(date(2022, 4, d) for d in range(10, 21))
REPORTED_AT_HOUR = 20

# The seed's figures of 20 April, which the facts are designed to.
ABOVE_SCALE = 195
AUTOMOTIVE = 66
RESUMED = 182
AUTOMOTIVE_RESUMED = 63
STAFF_ON_DUTY = 15_217
AUTOMOTIVE_RETURNING = 5_157
PRODUCTION_TENTHS = 780  # 复产率 78.0 %, in tenths of a per cent
NAMED_CAPACITY = {TIANHE: 300, FUWEI: 330}  # tenths of a per cent
KEY_SUPPLIERS = 20  # the largest automotive suppliers of 一汽: 重点汽车配套企业

# Design choices (not in the seed): the above-scale enterprises by industry; resumed ones by the
# end of each day; the automotive staff on duty of 20 April besides the returning ones; how
# many of the 13 not resumed got how far; the capacity the others work at on average.
INDUSTRY_COUNTS = {
    "automotive": AUTOMOTIVE,
    "pharma": 28,
    "optoelectronics": 24,
    "equipment": 27,
    "food": 18,
    "materials": 14,
    "chemicals": 8,
    "energy": 5,
    "other": 5,
}
RESUMED_BY = {10: 18, 11: 35, 12: 56, 13: 78, 14: 98, 15: 118, 16: 136, 17: 152, 18: 165, 19: 175}
NAMED_RESUME_DAY = 11
AUTOMOTIVE_STAFF_ON_DUTY = 5_730  # of them 5 157 returning
NOT_RESUMED = (  # (outcome, automotive?) for the 13
    ("approved", True),
    ("filed", True),
    ("not_started", True),
    *(("approved", False),) * 4,
    *(("checked", False),) * 2,
    *(("filed", False),) * 1,
    *(("not_started", False),) * 3,
)
SUSPENDED = 2  # resumed by 12 April, suspended on 14 April, resumed again on 16 April
SUSPENDED_ON, RESUMED_AGAIN_ON = 14, 16
OTHERS_CAPACITY = 93  # per cent: what the non-automotive ones work at, about
GATE_DAY = date(2022, 4, 26)  # after the 24 April round's results are in (fangkong.demo.story)
GATE_NAME = "1号门(员工通道)"
GATE_STAFF = 12
REVIEWER = "district_xinqu"
ENTERPRISE_ACCOUNT = "tianhe"

assert sum(INDUSTRY_COUNTS.values()) == ABOVE_SCALE
assert len(NOT_RESUMED) == ABOVE_SCALE - RESUMED
assert sum(auto for _, auto in NOT_RESUMED) == AUTOMOTIVE - AUTOMOTIVE_RESUMED


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


INDUSTRY_WORDS = {
    "automotive": _words(
        "汽车零部件 汽车部件 汽车电子 汽车座椅 汽车饰件 汽车底盘 汽车轮毂 汽车线束 汽车冲压件 "
        "汽车空调 汽车灯具 汽车模具 汽车传动系统 汽车制动系统"
    ),
    "pharma": _words("生物制药 药业 生物科技 医疗器械 生物工程 中药"),
    "optoelectronics": _words("光电科技 光电信息 电子科技 光学仪器 激光技术 卫星技术"),
    "equipment": _words("机械制造 精密机械 装备制造 智能装备 轨道交通设备 数控机床"),
    "food": _words("食品 粮油 乳业 饮品 肉类食品"),
    "materials": _words("新材料 复合材料 建材 化纤 碳纤维"),
    "chemicals": _words("化工 精细化工 涂料 化学试剂"),
    "energy": _words("热力 新能源 燃气设备 电力设备"),
    "other": _words("印务 包装 家具 服装"),
}
PLACES = ("长春", "长春", "长春", "长春市", "吉林", "吉林省")
ROADS = (
    "硅谷大街",
    "超然街",
    "卫星路",
    "蔚山路",
    "飞跃路",
    "锦湖大路",
    "光谷大街",
    "创新路",
    "宜居路",
    "北远达大街",
    "长德路",
    "火炬路",
)
EMPLOYER_INDUSTRY = (  # a free-text employer's industry, by a word of its name
    ("汽车", "automotive"),
    ("医药", "pharma"),
    ("制药", "pharma"),
    ("光电", "optoelectronics"),
    ("电子", "optoelectronics"),
    ("机械", "equipment"),
    ("模具", "equipment"),
    ("食品", "food"),
    ("粮油", "food"),
    ("建材", "materials"),
    ("商砼", "materials"),
    ("热力", "energy"),
)
PROBLEMS = (
    "部分员工居住小区封控,暂不能返岗",
    "原材料运输受阻,库存仅够三天",
    "上游配套企业尚未复工",
    "防疫物资(抗原试剂)不足",
    "物流车辆通行证办理中",
    "外省零部件到货延迟",
)
NAMED_PROBLEMS = {
    TIANHE: "部分二级供应商未复工,安全气囊织物库存紧张",
    FUWEI: "外地员工返岗需隔离,仪表板总成产线仅开两班",
}
SUSPENSION = "员工核酸初筛阳性,停工全面消杀"
RESUMED_AGAIN = "全员核酸检测阴性,全场区消杀完成,经复查恢复生产"


# --- the plan (pure) -------------------------------------------------------------------------


@dataclass
class Firm:
    """One above-scale enterprise of 220173 and what it does from 8 to 20 April."""

    index: int
    name: str
    industry: str
    normal_staff: int
    key: bool = False  # a key automotive supplier (重点汽车配套企业)
    outcome: str = "resumed"  # or approved / checked / filed / not_started
    resume_day: int | None = None  # day of April
    suspended: bool = False
    minutes: tuple[int, ...] = (0, 0, 0, 0)  # offsets of its filing, check, approval, resumption
    closed_loop: bool = False
    capacity: int = 0  # 20 April, tenths of a per cent
    staff: int = 0  # 20 April
    returning: int = 0  # 20 April
    community_code: str = ""
    address: str = ""
    liaison: tuple[str, str] = ("", "")
    instructor: tuple[str, str] = ("", "")
    reports: dict[date, dict] = field(default_factory=dict)

    @property
    def uscc(self) -> str:
        return uscc(DISTRICT, 1000 + self.index)

    def resumed_at_end_of(self, day: int) -> bool:
        if self.resume_day is None or day < self.resume_day:
            return False
        return not (self.suspended and SUSPENDED_ON <= day < RESUMED_AGAIN_ON)


def uscc(county: str, serial: int) -> str:
    """A synthetic but valid unified social credit code (GB 32100): 9 (工商) 1 (企业), the
    county, an organisation code with its GB 11714 check character, the check character."""
    from stdnum.cn.uscc import calc_check_digit

    body = f"{(serial * 7_654_321 + 24_681_357) % 100_000_000:08d}"
    total = sum(int(d) * w for d, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    organisation = body + {10: "X", 11: "0"}.get(check, str(check))
    first17 = f"91{county}{organisation}"
    return first17 + calc_check_digit(first17)


def name_serial(name: str) -> int:
    """A free-text employer's serial, from its name (stable whatever the order of the list)."""
    return 10_000_000 + int(hashlib.sha256(name.encode()).hexdigest(), 16) % 80_000_000


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    weights = np.array([w for _, w in names.SURNAMES], np.float64)
    surnames = rng.choice(len(weights), n, p=weights / weights.sum())
    pools = (names.GIVEN_MALE + names.GIVEN_EITHER, names.GIVEN_FEMALE + names.GIVEN_EITHER)
    out = []
    for s in surnames:
        chars = pools[int(rng.random() < 0.45)]
        picks = rng.integers(0, len(chars), 1 + int(rng.random() < 0.7))
        out.append(names.SURNAMES[s][0] + "".join(chars[i] for i in picks))
    return out


def phones(rng: np.random.Generator, n: int) -> list[str]:
    prefixes = PHONE_PREFIXES[rng.integers(0, len(PHONE_PREFIXES), n)]
    rests = rng.integers(0, 100_000_000, n)
    return [f"1{p:02d}{r:08d}" for p, r in zip(prefixes, rests, strict=True)]


def company_names(rng: np.random.Generator, taken: set[str]) -> list[tuple[str, str]]:
    """(name, industry) of the 195, the two named suppliers first; none of `taken`."""
    words = names.BRAND_WORDS
    out: list[tuple[str, str]] = [(TIANHE, "automotive"), (FUWEI, "automotive")]
    seen = {TIANHE, FUWEI, MAKER, *taken}
    for industry, count in INDUSTRY_COUNTS.items():
        wanted = count - (2 if industry == "automotive" else 0)
        kinds = INDUSTRY_WORDS[industry]
        while wanted:
            a, b = rng.integers(0, len(words), 2)
            if a == b:
                continue
            name = (
                PLACES[rng.integers(0, len(PLACES))]
                + words[a]
                + words[b]
                + kinds[rng.integers(0, len(kinds))]
                + names.LEGAL_FORMS[rng.integers(0, len(names.LEGAL_FORMS))]
            )
            if name not in seen:
                seen.add(name)
                out.append((name, industry))
                wanted -= 1
    return out


def _resume_days(rng: np.random.Generator, firms: list[Firm]) -> None:
    """Who resumes on which day: key suppliers, medicine and food first; 天合富奥 and 富维东阳 on
    11 April; `RESUMED_BY` many by the end of each day; two suspended and resumed again."""
    resumed = [f for f in firms if f.outcome == "resumed"]
    early = {"pharma": 0.3, "food": 0.3}
    score = {
        f.index: rng.random() - (0.4 if f.key else early.get(f.industry, 0.0)) for f in resumed
    }
    order = sorted(
        (f for f in resumed if f.name not in NAMED_CAPACITY), key=lambda f: score[f.index]
    )
    cumulative = [*RESUMED_BY.items(), (LAST_DAY.day, RESUMED)]
    named = [f for f in resumed if f.name in NAMED_CAPACITY]
    start = RESUMED_BY[NAMED_RESUME_DAY - 1]
    order[start:start] = named
    done = 0
    for day, by_then in cumulative:
        for firm in order[done:by_then]:
            firm.resume_day = day
        done = by_then
    candidates = [
        f
        for f in order
        if f.resume_day <= SUSPENDED_ON - 2 and f.industry != "automotive" and f.name not in named
    ]
    for i in rng.choice(len(candidates), SUSPENDED, replace=False):
        candidates[i].suspended = True


def _solve_capacities(rng: np.random.Generator, firms: list[Firm]) -> None:
    """Capacities of 20 April (tenths of a per cent): the automotive ones about 30 %, the two
    named as the seed says; the others about `OTHERS_CAPACITY`, then adjusted one by one so the
    capacity weighted by normal staff over the resumed ones is `PRODUCTION_TENTHS`."""
    resumed = [f for f in firms if f.outcome == "resumed"]
    for f in resumed:
        if f.name in NAMED_CAPACITY:
            f.capacity = NAMED_CAPACITY[f.name]
        elif f.industry == "automotive":
            f.capacity = int(rng.integers(270, 345) if f.key else rng.integers(180, 460))
        else:
            low = 900 if f.industry in ("pharma", "food") else 840
            f.capacity = int(rng.integers(low, 1000))
    others = sorted(
        (f for f in resumed if f.industry != "automotive"), key=lambda f: (-f.normal_staff, f.index)
    )
    weight = sum(f.normal_staff for f in resumed)
    residual = PRODUCTION_TENTHS * weight - sum(f.capacity * f.normal_staff for f in resumed)
    for f in others:
        step = round(residual / f.normal_staff)
        step = min(max(step, 600 - f.capacity), 1000 - f.capacity)
        f.capacity += step
        residual -= step * f.normal_staff
    if abs(residual) * 20 >= weight:  # off by 0.05 % or more: the design cannot be met
        raise ValueError("capacities cannot be solved to the production rate")


def _solve_staff(rng: np.random.Generator, firms: list[Firm]) -> None:
    """Staff on duty and returning staff of 20 April: the sums are the seed's."""
    resumed = [f for f in firms if f.outcome == "resumed"]
    auto = [f for f in resumed if f.industry == "automotive"]
    others = [f for f in resumed if f.industry != "automotive"]
    for group, total in (
        (auto, AUTOMOTIVE_STAFF_ON_DUTY),
        (others, STAFF_ON_DUTY - AUTOMOTIVE_STAFF_ON_DUTY),
    ):
        weights = np.array([f.normal_staff for f in group]) * rng.uniform(0.7, 1.3, len(group))
        for f, n in zip(group, allocate(total, weights), strict=True):
            f.staff = max(int(n), 1)
    returning = allocate(AUTOMOTIVE_RETURNING, np.array([f.staff for f in auto]))
    for f, n in zip(auto, returning, strict=True):
        f.returning = int(n)
    for f in others:
        f.returning = int(round(f.staff * rng.uniform(0.5, 0.85)))
    if sum(f.staff for f in resumed) != STAFF_ON_DUTY:
        raise ValueError("staff on duty cannot be solved")


def _reports(rng: np.random.Generator, firms: list[Firm]) -> None:
    """Each resumed enterprise's report for every day it is resumed: 20 April as solved, the
    days before lower (capacity from 55 %, staff from 60 % of 20 April's)."""
    for f in firms:
        if f.outcome != "resumed":
            continue
        for day in REPORT_DAYS:
            if not f.resumed_at_end_of(day.day):
                continue
            if day == LAST_DAY:
                staff, returning, capacity = f.staff, f.returning, f.capacity
            else:
                back = LAST_DAY.day - day.day
                staff = max(1, round(f.staff * (1 - 0.04 * back)))
                returning = min(staff, round(f.returning * staff / f.staff))
                capacity = max(10, round(f.capacity * (1 - 0.045 * back)))
            problems = ""
            if day == LAST_DAY and f.name in NAMED_PROBLEMS:
                problems = NAMED_PROBLEMS[f.name]
            elif rng.random() < 0.2:
                problems = PROBLEMS[rng.integers(0, len(PROBLEMS))]
            f.reports[day] = {
                "staff_on_duty": staff,
                "returning_staff": returning,
                "capacity_percent": f"{capacity // 10}.{capacity % 10}",
                "closed_loop": f.closed_loop,
                "problems": problems,
            }


def plan(seed: int, taken: Iterable[str] = (), communities: list[str] | None = None) -> list[Firm]:
    """The 195 above-scale enterprises of 220173 and their April, from the seed alone."""
    rng = np.random.default_rng([seed, 220173])
    named = company_names(rng, set(taken))
    normal = np.clip(rng.lognormal(np.log(220), 0.75, len(named)), 40, 3000).round()
    firms = [
        Firm(index=i, name=name, industry=industry, normal_staff=int(n))
        for i, ((name, industry), n) in enumerate(zip(named, normal, strict=True))
    ]
    by_name = {f.name: f for f in firms}
    by_name[TIANHE].normal_staff, by_name[FUWEI].normal_staff = 1150, 860
    auto = sorted(
        (f for f in firms if f.industry == "automotive"), key=lambda f: (-f.normal_staff, f.index)
    )
    for f in auto[:KEY_SUPPLIERS]:
        f.key = True
    by_name[TIANHE].key = by_name[FUWEI].key = True
    # The 13 not resumed: never the named or key ones.
    pool = {
        True: [f for f in auto if not f.key],
        False: [f for f in firms if f.industry != "automotive"],
    }
    for outcome, automotive in NOT_RESUMED:
        candidates = [f for f in pool[automotive] if f.outcome == "resumed"]
        candidates[rng.integers(0, len(candidates))].outcome = outcome
    _resume_days(rng, firms)
    # The automotive ones' normal staff is set so that the others work at about
    # OTHERS_CAPACITY when the district's weighted capacity is the seed's (at ~30 % they weigh
    # about a quarter).
    resumed = [f for f in firms if f.outcome == "resumed"]
    a = sum(f.normal_staff for f in resumed if f.industry == "automotive")
    o = sum(f.normal_staff for f in resumed if f.industry != "automotive")
    scale = (OTHERS_CAPACITY - PRODUCTION_TENTHS / 10) * o / ((PRODUCTION_TENTHS / 10 - 31) * a)
    for f in auto:
        if f.name not in NAMED_CAPACITY:
            f.normal_staff = max(60, round(f.normal_staff * scale))
    _solve_capacities(rng, firms)
    _solve_staff(rng, firms)
    for f in firms:
        f.closed_loop = f.industry == "automotive" or bool(rng.random() < 0.45)
        f.minutes = tuple(int(m) for m in rng.integers(0, 180, 4))
    _reports(rng, firms)
    officers = person_names(rng, 70)
    officer_phones = phones(rng, 70)
    for f in firms:
        liaison, instructor = f.index % 40, 40 + f.index % 30
        f.liaison = (officers[liaison], officer_phones[liaison])
        f.instructor = (officers[instructor], officer_phones[instructor])
        f.address = f"{DISTRICT_NAME}{ROADS[f.index % len(ROADS)]}{100 + 7 * f.index % 3900}号"
        if communities:
            f.community_code = communities[int(rng.integers(0, len(communities)))]
    return firms


def registry_row(f: Firm, maker_uscc: str) -> dict:
    return {
        "uscc": f.uscc,
        "name": f.name,
        "county_code": DISTRICT,
        "community_code": f.community_code,
        "address": f.address,
        "industry": f.industry,
        "above_scale": "true",
        "normal_staff": str(f.normal_staff),
        "liaison_name": f.liaison[0],
        "liaison_phone": f.liaison[1],
        "instructor_name": f.instructor[0],
        "instructor_phone": f.instructor[1],
        "pcr_every_days": "3",
        "antigen_every_days": "1",
        "supplies_to": maker_uscc if f.industry == "automotive" else "",
    }


def employer_industry(name: str) -> str:
    return next((industry for word, industry in EMPLOYER_INDUSTRY if word in name), "other")


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # file / check / approve / resume / suspend / resume_again
    firm: Firm


def events(firms: list[Firm]) -> list[Event]:
    """Every filing step of 8–20 April, in time order."""
    out = []
    for f in firms:
        file_m, check_m, approve_m, resume_m = f.minutes
        if f.outcome == "resumed":
            day = f.resume_day
            filed, checked = max(day - 2, FIRST_DAY.day), max(day - 1, FIRST_DAY.day + 1)
            approved, resumed = checked, day
        elif f.outcome == "approved":
            filed, checked, approved, resumed = 17 + f.index % 2, 18 + f.index % 2, 19, None
        elif f.outcome == "checked":
            filed, checked, approved, resumed = 18, 19, None, None
        elif f.outcome == "filed":
            filed, checked, approved, resumed = 19 + f.index % 2, None, None, None
        else:
            continue
        out.append(Event(_april(filed, 9, 30 + file_m), "file", f))
        if checked:
            out.append(Event(_april(checked, 9, 30 + check_m), "check", f))
        if approved:
            out.append(Event(_april(approved, 15, 30 + approve_m // 2), "approve", f))
        if resumed:
            out.append(Event(_april(resumed, 7, 30 + resume_m // 2), "resume", f))
        if f.suspended:
            out.append(Event(_april(SUSPENDED_ON, 10, 30), "suspend", f))
            out.append(Event(_april(RESUMED_AGAIN_ON, 8, resume_m // 4), "resume_again", f))
    return sorted(out, key=lambda e: (e.at, e.firm.index))


def _april(day: int, hour: int, minute: int) -> datetime:
    return at(date(2022, 4, day), hour) + timedelta(minutes=minute)


# --- replaying it (the shell) ------------------------------------------------------------------


def replay_enterprises(seed: int = 7) -> dict:
    """Register, file, report and open the gate (see the module's docstring) through the
    product's own paths; what was replayed before is not replayed again. Returns the summary
    with the figures of 20 April as `fangkong.enterprises.stats` computes them."""
    from fangkong.enterprises.models import Enterprise

    communities = _communities()
    employers = _employers()
    firms = plan(seed, taken=employers, communities=communities)
    loaded = _register(firms, employers)
    enterprises = {e.name: e for e in Enterprise.objects.filter(name__in=[f.name for f in firms])}
    steps, reports = _replay_filings_and_reports(firms, enterprises)
    gate = _gate(enterprises[TIANHE], seed)
    summary = figures_of(LAST_DAY, firms)
    return {
        "replayed": True,
        **summary,
        "loaded": loaded,
        "steps": steps,
        "reports": reports,
        "gate": gate,
        "text": story_text(summary),
    }


def _communities() -> list[str]:
    from fangkong.places.models import Division, Level

    return list(
        Division.objects.filter(county_code=DISTRICT, level=Level.COMMUNITY, is_current=True)
        .order_by("code")
        .values_list("code", flat=True)
    )


def _employers() -> dict[str, tuple[str, int]]:
    """The demo's free-text employers: the county where most of their employees live, and how
    many employees the demo has."""
    from django.db.models import Count
    from django.db.models.functions import Trim

    from fangkong.people.models import Person

    counts: dict[str, Counter] = defaultdict(Counter)
    rows = (
        Person.objects.annotate(trimmed=Trim("employer"))
        .exclude(trimmed="")
        .values_list("trimmed", "county_code")
        .annotate(n=Count("id"))
    )
    for name, county, n in rows:
        counts[name][county] += n
    return {
        name: (min(c.items(), key=lambda item: (-item[1], item[0]))[0], sum(c.values()))
        for name, c in sorted(counts.items())
    }


def _load(kind: str, rows: list[dict], now: datetime, filename: str):
    from fangkong.ingest.actions import do_ingest

    if not rows:
        return None
    report = do_ingest(
        kind, rows=rows, user=None, source="demo", now=now, filename=filename, enforce_role=False
    )
    if report.failure or report.rejected:
        raise RuntimeError(f"{filename}: {report.failure or report.errors[:5]}")
    return report


def _register(firms: list[Firm], employers: dict[str, tuple[str, int]]) -> dict:
    """The registry files of 8 April (一汽 first: the suppliers name it), then the links of
    residents, accounts and employer lists to the enterprises by name."""
    from fangkong.accounts.models import StaffProfile
    from fangkong.clearances.models import EmployerBatch
    from fangkong.enterprises.linking import link_by_name
    from fangkong.enterprises.models import Employee, Enterprise
    from fangkong.people.models import Person

    have = set(Enterprise.objects.values_list("name", flat=True))
    maker_uscc = uscc(MAKER_COUNTY, 1)
    maker = {
        "uscc": maker_uscc,
        "name": MAKER,
        "county_code": MAKER_COUNTY,
        "address": "长春汽车经济技术开发区东风大街8899号",
        "industry": "automotive",
        "above_scale": "true",
        "normal_staff": "42000",
        "pcr_every_days": "3",
        "antigen_every_days": "1",
    }
    employer_rows = [
        {
            "uscc": uscc(county, name_serial(name)),
            "name": name,
            "county_code": county,
            "industry": employer_industry(name),
            "above_scale": "false",
            "normal_staff": str(max(staff, 1)),
        }
        for name, (county, staff) in employers.items()
        if name not in have
    ]
    files = (
        ("企业名录-一汽集团.csv", [maker] if MAKER not in have else []),
        (
            "企业名录-新区规上工业企业.csv",
            [registry_row(f, maker_uscc) for f in firms if f.name not in have],
        ),
        ("企业名录-用工单位.csv", employer_rows),
    )
    loaded = {}
    for filename, rows in files:
        report = _load("enterprises", rows, REGISTERED_AT, filename)
        loaded[filename] = report.inserted if report else 0
    links = link_by_name(Enterprise, Employee, Person, StaffProfile, EmployerBatch)
    return {**loaded, "links": links}


def _replay_filings_and_reports(firms: list[Firm], enterprises: dict) -> tuple[int, int]:
    """The filing steps and the day's report files, in time order; skipped for enterprises with
    steps already, and reports already stored."""
    from django.contrib.auth import get_user_model

    from fangkong.enterprises import actions
    from fangkong.enterprises.models import DailyReport, ResumptionStep

    users = get_user_model().objects
    reviewer = users.filter(username=REVIEWER).first()
    own = users.filter(username=ENTERPRISE_ACCOUNT, staff__enterprise__name=TIANHE).first()
    started = set(
        ResumptionStep.objects.filter(
            enterprise_id__in=[e.pk for e in enterprises.values()]
        ).values_list("enterprise_id", flat=True)
    )
    todo = [e for e in events(firms) if enterprises[e.firm.name].pk not in started]
    reported = set(
        DailyReport.objects.filter(
            enterprise_id__in=[e.pk for e in enterprises.values()], day__in=REPORT_DAYS
        ).values_list("enterprise_id", "day")
    )
    loads = [(at(day, REPORTED_AT_HOUR), day) for day in REPORT_DAYS]
    steps = reports = 0
    timeline = sorted(
        [(e.at, 0, e) for e in todo] + [(t, 1, day) for t, day in loads], key=lambda x: x[:2]
    )
    for when, what, item in timeline:
        if what == 1:
            rows = [
                {"uscc": f.uscc, "day": item.isoformat(), **_strings(f.reports[item])}
                for f in firms
                if item in f.reports and (enterprises[f.name].pk, item) not in reported
            ]
            report = _load("daily_reports", rows, when, f"企业日报-{item:%m%d}.csv")
            reports += report.inserted if report else 0
            continue
        enterprise = enterprises[item.firm.name]
        filer = own if item.firm.name == TIANHE else None
        if item.kind == "file":
            actions.do_file_plan(
                filer,
                enterprise,
                note="复工复产方案及疫情防控承诺书(一企一策):闭环管理、点对点通勤、"
                "每日抗原、三天一次核酸,设置缓冲区",
                now=when,
            )
        elif item.kind == "check":
            actions.do_record_check(
                reviewer,
                enterprise,
                check_team=f"新区复工复产现场检查组第{1 + item.firm.index % 8}组",
                findings="防疫物资储备充足,员工台账齐全,缓冲区设置符合要求",
                disinfected=True,
                now=when,
            )
        elif item.kind == "approve":
            actions.do_approve(reviewer, enterprise, now=when, note="同意复工复产")
        elif item.kind == "suspend":
            actions.do_suspend(reviewer, enterprise, reason=SUSPENSION, now=when)
        elif item.kind == "resume_again":
            actions.do_resume(reviewer, enterprise, now=when, note=RESUMED_AGAIN)
        else:
            actions.do_resume(filer, enterprise, now=when)
        steps += 1
    return steps, reports


def _strings(report: dict) -> dict:
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in report.items()}


def _gate(enterprise, seed: int) -> dict:
    """天合富奥's plant gate, residents of 220173 as its staff, and two returning workers at
    the gate on 26 April, picked by their testing facts: one with a negative PCR sampled in
    the last 48 hours (admitted), one without (refused)."""
    from fangkong.codes.tokens import live_colour
    from fangkong.enterprises import gate as gates
    from fangkong.enterprises.models import Employee, PlantGate
    from fangkong.zones.queries import current_levels

    opened = at(GATE_DAY, 8)
    plant_gate = PlantGate.objects.filter(enterprise=enterprise).order_by("pk").first()
    if plant_gate is None:
        plant_gate, _key = gates.do_create_plant_gate(
            None, enterprise, name=GATE_NAME, now=at(date(2022, 4, 10), 16)
        )
    people = _candidates(seed)
    states = gates.testing_states([p.pk for p in people], opened)
    levels = current_levels(sorted({p.community_id for p in people}), opened)

    def fit(person, within: bool) -> bool:
        """Green, not from a risk area, and a negative PCR sampled well within the 48 hours
        (`within`) or none in them."""
        if live_colour(person.pk) != "green":
            return False
        if any(s.level in RISK for s in levels.get(person.community_id, {}).values()):
            return False
        sampled = gates.latest_negative_sampled_at(states[person.pk])
        if within:
            return sampled is not None and opened - sampled < timedelta(hours=40)
        return sampled is None or opened - sampled > timedelta(hours=48)

    admitted = next((p for p in people if fit(p, True)), None)
    refused = next((p for p in people if fit(p, False)), None)
    if admitted is None or refused is None:
        return {"gate": plant_gate.pk, "entries": 0}
    chosen = [admitted, refused, *(p for p in people if p not in (admitted, refused))]
    chosen = chosen[:GATE_STAFF]
    held = set(
        Employee.objects.filter(enterprise=enterprise).values_list("person__id_number", flat=True)
    )
    roles = ["returning", "returning", *["closed_loop"] * 5, *["resident"] * 5]
    since = {
        "returning": at(GATE_DAY, 8),
        "closed_loop": at(date(2022, 4, NAMED_RESUME_DAY), 7),
        "resident": at(date(2022, 4, 1), 8),
    }
    rows = [
        {"uscc": enterprise.uscc, "id_number": p.id_number, "role": role}
        | {"since": since[role].isoformat()}
        for p, role in zip(chosen, roles, strict=False)
        if p.id_number not in held
    ]
    _load("employees", rows, at(date(2022, 4, 25), 17), "天合富奥-员工名单.csv")
    verdicts = []
    for n, person in enumerate((admitted, refused)):
        when = opened + timedelta(minutes=7 * n)
        verdict = gates.do_register_entry(
            plant_gate,
            now=when,
            antigen="negative",
            temperature="36.5",
            mask=True,
            id_number=person.id_number,
            scan_id=uuid.uuid5(uuid.NAMESPACE_URL, f"fangkong-demo:{seed}:{person.id_number}"),
        )
        verdicts.append({"admitted": verdict.admitted, "reasons": list(verdict.reasons)})
    names_rng = np.random.default_rng([seed, 2204260])
    driver, disinfector = person_names(names_rng, 2)
    vehicle, _created = gates.do_record_vehicle(
        plant_gate,
        now=opened - timedelta(minutes=20),
        plate="吉AD37215",
        method="车身、车轮及驾驶室喷洒含氯消毒液",
        disinfected_by=disinfector,
        driver_name=driver,
        entry_id=uuid.uuid5(uuid.NAMESPACE_URL, f"fangkong-demo:{seed}:vehicle"),
    )
    return {
        "gate": plant_gate.pk,
        "staff": len(chosen),
        "entries": verdicts,
        "vehicles": [vehicle.plate],
    }


RISK = ("lockdown", "control", "medium", "high")


def _candidates(seed: int) -> list:
    """Adults of working age living in 220173 with no employer, in an order set by the seed."""
    from fangkong.people.models import Person

    people = [
        p
        for p in Person.objects.filter(county_code=DISTRICT, employer="").only(
            "pk", "id_number", "community_id"
        )
        if 1958 <= int(p.id_number[6:10]) <= 2003
    ]
    return sorted(
        people,
        key=lambda p: hashlib.sha256(f"{seed}:{p.id_number}".encode()).hexdigest(),
    )[:400]


def figures_of(day: date, firms: list[Firm] | None = None) -> dict:
    """The day's figures of 220173 as `fangkong.enterprises.stats` computes them from the
    stored rows, with the named suppliers' and the key suppliers' capacity."""
    from fangkong.enterprises.models import Enterprise
    from fangkong.enterprises.queries import standing_reports
    from fangkong.enterprises.stats import district_figures, end_of_day

    figures = district_figures(day, county=DISTRICT)
    automotive = next(
        (row for row in figures["by_industry"] if row["industry"] == "automotive"), {}
    )
    known = end_of_day(day)
    ids = dict(
        Enterprise.objects.filter(
            county_code=DISTRICT, above_scale=True, industry="automotive"
        ).values_list("name", "pk")
    )
    reports = standing_reports(day, known, ids.values())
    named = {
        name: float(reports[ids[name]].capacity_percent)
        for name in NAMED_CAPACITY
        if name in ids and ids[name] in reports
    }
    key = [f.name for f in firms or () if f.key]
    weights = dict(Enterprise.objects.filter(name__in=key).values_list("pk", "normal_staff"))
    weighted = sum(reports[pk].capacity_percent * w for pk, w in weights.items() if pk in reports)
    weight = sum(w for pk, w in weights.items() if pk in reports)
    return {
        "day": day.isoformat(),
        "county": DISTRICT,
        "registered": figures["registered"],
        "resumed": figures["resumed"],
        "resumption_rate": figures["resumption_rate"],
        "production_rate": figures["production_rate"],
        "staff_on_duty": figures["staff_on_duty"],
        "automotive": {
            "registered": automotive.get("registered", 0),
            "resumed": automotive.get("resumed", 0),
            "returning_staff": automotive.get("returning_staff", 0),
            "staff_on_duty": automotive.get("staff_on_duty", 0),
        },
        "named_capacity": named,
        "key_suppliers": {
            "count": len(weights),
            "capacity": float(round(weighted / weight, 1)) if weight else None,
        },
    }


def story_text(f: dict) -> str:
    def pct(rate) -> str:
        return "—" if rate is None else f"{Decimal(str(rate)) * 100:.1f}%"

    named = f["named_capacity"]
    auto = f["automotive"]
    key = f["key_suppliers"]
    return (
        f"\n4月20日企业复工复产(按企业日报计算,fangkong enterprises stats --date 2022-04-20 "
        f"--county {DISTRICT}):{DISTRICT_NAME}{f['registered']}户规上工业企业,已复工"
        f"{f['resumed']}户,复工率{pct(f['resumption_rate'])},复产率{pct(f['production_rate'])},"
        f"在岗总人数{f['staff_on_duty']:,}人;复工汽车企业{auto['resumed']}户,返岗人员"
        f"{auto['returning_staff']:,}人,其中天合富奥产能恢复{named.get(TIANHE, 0):.0f}%,"
        f"富维东阳产能恢复{named.get(FUWEI, 0):.0f}%;{key['count']}户重点汽车配套企业产能平均恢复"
        f"{key['capacity'] or 0:.1f}%,为一汽集团整车厂配套。"
    )
