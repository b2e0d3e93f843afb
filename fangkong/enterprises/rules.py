"""The rules of resumption of work, pure (no Django, no database): who may enter a plant, who
missed a closed-loop test, and the district's figures from the day's reports. Times are aware
datetimes; `now` is always an argument.

Semantics (docs/enterprises.md):
- Gate (返岗入厂): a green code; a negative PCR *sampled* within the last 48 hours (exactly 48 h
  still passes, 48 h 01 min does not); the place the worker came from not in a risk area
  (封控区, 管控区, 中风险区, 高风险区); the antigen test at the gate negative (positive: refused
  and reported; invalid: refused until retested); temperature below 37.3 ℃; a mask worn.
- Closed loop (闭环管理): in the morning of day D, a closed-loop employee has missed the antigen
  test if none was done in the last `antigen_every_days` days before D, and the PCR if no
  sampling was made in the last `pcr_every_days` days before D — counted only for days they
  were already in the loop.
- Figures (复工复产): over the registered above-scale enterprises (规上工业企业); 复工率 is those
  whose filing status is 已复工 at the end of the day over those registered; 复产率 is the
  capacity of the day's reports of resumed enterprises, weighted by each one's normal staff;
  staff on duty and returning staff are the sums of the day's reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")
PCR_WITHIN = timedelta(hours=48)
FEVER_FROM = Decimal("37.3")
RISK_LEVELS = {
    "lockdown": "封控区",
    "control": "管控区",
    "medium": "中风险区",
    "high": "高风险区",
}
COLOUR_LABELS = {"green": "绿码", "yellow": "黄码", "red": "红码"}


@dataclass(frozen=True)
class EntryCheck:
    admitted: bool
    reasons: tuple[str, ...]


def _local(at: datetime) -> str:
    return at.astimezone(LOCAL).strftime("%m-%d %H:%M")


def check_entry(
    *,
    colour: str,
    pcr_negative_sampled_at: datetime | None,
    origin_levels: Iterable[str],
    origin_name: str,
    antigen: str,
    temperature: Decimal,
    mask: bool,
    now: datetime,
) -> EntryCheck:
    """May this returning worker enter the plant now? Every failing requirement is named."""
    reasons = []
    if colour != "green":
        reasons.append(f"健康码为{COLOUR_LABELS.get(colour, '未知')},入厂须为绿码")
    if pcr_negative_sampled_at is None:
        reasons.append("无48小时内核酸阴性结果")
    elif now - pcr_negative_sampled_at > PCR_WITHIN:
        hours = (now - pcr_negative_sampled_at).total_seconds() / 3600
        reasons.append(
            f"无48小时内核酸阴性结果(最近一次阴性采样于{_local(pcr_negative_sampled_at)},"
            f"已过{hours:.1f}小时)"
        )
    risky = [RISK_LEVELS[level] for level in origin_levels if level in RISK_LEVELS]
    if risky:
        reasons.append(f"来自风险区({origin_name},{'、'.join(risky)}),严禁返厂")
    if antigen == "positive":
        reasons.append("入厂抗原检测阳性:不得入厂,须立即隔离并报告疾控")
    elif antigen == "invalid":
        reasons.append("入厂抗原检测结果无效,须重新检测")
    elif antigen != "negative":
        reasons.append("未做入厂抗原检测")
    if temperature >= FEVER_FROM:
        reasons.append(f"体温{temperature}℃,达到或超过{FEVER_FROM}℃")
    if not mask:
        reasons.append("未规范佩戴口罩")
    return EntryCheck(not reasons, tuple(reasons))


def local_day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL)


@dataclass(frozen=True)
class LoopMember:
    person_id: int
    since: datetime  # in the closed loop from
    antigen_at: tuple[datetime, ...] = ()  # antigen tests, any result
    pcr_sampled_at: tuple[datetime, ...] = ()  # PCR samplings


@dataclass(frozen=True)
class Missed:
    person_id: int
    antigen: bool
    pcr: bool


@dataclass(frozen=True)
class Compliance:
    day: date
    members: int
    missed: tuple[Missed, ...]

    @property
    def compliant(self) -> int:
        return self.members - len(self.missed)

    @property
    def rate(self) -> float | None:
        return round(self.compliant / self.members, 4) if self.members else None


def _missed_within(times: Iterable[datetime], since: datetime, day: date, days: int) -> bool:
    """True if a test was due in the `days` days before `day` and none was done in them. Not
    due if the person joined the loop after that window began (their first window is open)."""
    if days <= 0:
        return False
    end = local_day_start(day)
    start = end - timedelta(days=days)
    if since > start:
        return False
    return not any(start <= t < end for t in times)


def closed_loop_compliance(
    members: Iterable[LoopMember], day: date, *, pcr_every_days: int, antigen_every_days: int
) -> Compliance:
    """The morning check of day `day` for one plant."""
    members = list(members)
    missed = []
    for m in sorted(members, key=lambda m: m.person_id):
        antigen = _missed_within(m.antigen_at, m.since, day, antigen_every_days)
        pcr = _missed_within(m.pcr_sampled_at, m.since, day, pcr_every_days)
        if antigen or pcr:
            missed.append(Missed(m.person_id, antigen, pcr))
    return Compliance(day, len(members), tuple(missed))


def exit_breaks_loop(purpose: str, closed_loop: bool) -> bool:
    """除参加核酸检测和领取生活物资外不进不出."""
    return closed_loop and purpose not in ("testing", "supplies")


@dataclass(frozen=True)
class Firm:
    id: int
    industry: str
    normal_staff: int


@dataclass(frozen=True)
class Report:
    enterprise_id: int
    staff_on_duty: int
    returning_staff: int
    capacity_percent: Decimal


@dataclass
class Figures:
    registered: int = 0
    resumed: int = 0
    reported: int = 0
    staff_on_duty: int = 0
    returning_staff: int = 0
    weighted_capacity: Decimal = Decimal(0)
    weight: int = 0
    by_industry: dict[str, Figures] = field(default_factory=dict)

    @property
    def resumption_rate(self) -> float | None:
        return _ratio(Decimal(self.resumed), Decimal(self.registered))

    @property
    def production_rate(self) -> float | None:
        return _ratio(self.weighted_capacity / 100, Decimal(self.weight))


def _ratio(numerator: Decimal, denominator: Decimal) -> float | None:
    if not denominator:
        return None
    return float((numerator / denominator).quantize(Decimal("0.001"), ROUND_HALF_UP))


def figures(firms: Iterable[Firm], resumed: set[int], reports: Mapping[int, Report]) -> Figures:
    """The day's figures over `firms` (the registered above-scale enterprises in scope):
    `resumed` their ids whose status is 已复工, `reports` their standing reports of the day."""
    total = Figures()
    for firm in firms:
        industry = total.by_industry.setdefault(firm.industry, Figures())
        for f in (total, industry):
            f.registered += 1
        report = reports.get(firm.id)
        for f in (total, industry):
            if firm.id in resumed:
                f.resumed += 1
            if report is not None:
                f.reported += 1
                f.staff_on_duty += report.staff_on_duty
                f.returning_staff += report.returning_staff
                if firm.id in resumed and firm.normal_staff:
                    f.weighted_capacity += report.capacity_percent * firm.normal_staff
                    f.weight += firm.normal_staff
    return total
