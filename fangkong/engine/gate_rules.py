"""What a checkpoint or a compound gate requires, as data, and the decision for one person.

Checkpoint types and community exit rules are published data (TOML in the apps' fixtures); the
decisions here are pure and read only token claims (or the same facts online), so the offline
verifier (static/fangkong/verifier/rules.js mirrors this file) and the server agree.

Claims of a health-code token (see docs/tokens.md): `col` colour; `pcr` the sampling time of the
latest negative PCR result; `ag` the time of the latest negative antigen self-test; `tst` the
testing status (fangkong.engine.testing_state). Times are Unix seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fangkong.engine.tokens import CODE, EXIT, VEHICLE

LOCAL = ZoneInfo("Asia/Shanghai")
COLOURS = ("green", "yellow", "red")
COLOUR_LABELS = {"green": "绿码", "yellow": "黄码", "red": "红码"}
ZONE_LABELS = {"lockdown": "封控区", "control": "管控区", "prevention": "防范区"}


class RuleError(ValueError):
    pass


@dataclass(frozen=True)
class Decision:
    passed: bool
    reasons: tuple[str, ...]

    @classmethod
    def of(cls, reasons: list[str]) -> Decision:
        return cls(not reasons, tuple(reasons))


@dataclass(frozen=True)
class Requirements:
    """What a checkpoint type asks of whoever passes."""

    kinds: tuple[str, ...] = (CODE,)
    colours: tuple[str, ...] = ("green",)
    pcr_negative_within_hours: int | None = None
    antigen_negative_today: bool = False
    records_sampling: bool = False


@dataclass(frozen=True)
class ExitRules:
    """A community's exit-pass rules (易行码规则)."""

    zone_levels: tuple[str, ...] = ("prevention",)
    allow_unzoned: bool = True  # a community never placed in a zone, or released from one
    per_household_per_day: int = 1
    opens: time = time(6, 0)
    closes: time = time(20, 0)
    colours: tuple[str, ...] = ("green",)
    pcr_negative_within_hours: int | None = 48
    pass_minutes: int = 240


def _strict(cls, data: Mapping, convert) -> dict:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise RuleError(f"未知的规则项: {', '.join(unknown)}")
    return {k: convert(k, v) for k, v in data.items()}


def _convert(name: str, value):
    if name in ("kinds", "colours", "zone_levels"):
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise RuleError(f"{name} 应为字符串列表")
        allowed = {
            "kinds": (CODE, EXIT, VEHICLE),
            "colours": COLOURS,
            "zone_levels": tuple(ZONE_LABELS),
        }[name]
        bad = [v for v in value if v not in allowed]
        if bad:
            raise RuleError(f"{name} 含未知取值: {', '.join(bad)}")
        return tuple(value)
    if name in ("opens", "closes"):
        try:
            return time.fromisoformat(value) if isinstance(value, str) else value
        except ValueError:
            raise RuleError(f"{name} 应为 HH:MM") from None
    if name in ("antigen_negative_today", "records_sampling", "allow_unzoned"):
        if not isinstance(value, bool):
            raise RuleError(f"{name} 应为 true/false")
        return value
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise RuleError(f"{name} 应为非负整数")
    return value


def parse_requirements(data: Mapping) -> Requirements:
    return Requirements(**_strict(Requirements, data, _convert))


def parse_exit_rules(data: Mapping) -> ExitRules:
    rules = ExitRules(**_strict(ExitRules, data, _convert))
    if rules.opens >= rules.closes:
        raise RuleError("opens 应早于 closes")
    return rules


def _local(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).astimezone(LOCAL).strftime("%m-%d %H:%M")


def _testing_reasons(claims: Mapping, now: datetime, within_hours: int | None) -> list[str]:
    if within_hours is None:
        return []
    pcr = claims.get("pcr")
    if not isinstance(pcr, int):
        return [f"无{within_hours}小时内核酸阴性记录"]
    hours = (now.timestamp() - pcr) / 3600
    if hours > within_hours:
        return [
            f"无{within_hours}小时内核酸阴性记录(最近一次阴性采样于{_local(pcr)},"
            f"距今{int(hours)}小时)"
        ]
    return []


def start_of_local_day(now: datetime) -> datetime:
    local = now.astimezone(LOCAL)
    return datetime.combine(local.date(), time(0), tzinfo=LOCAL)


def check_code(
    req: Requirements, claims: Mapping, now: datetime, live_colour: str | None = None
) -> Decision:
    """Pass or deny a health code at a checkpoint. Online, `live_colour` (the stored code now)
    overrides the colour the token was issued with."""
    reasons = []
    colour = live_colour or claims.get("col")
    if colour not in req.colours:
        wanted = "或".join(COLOUR_LABELS[c] for c in req.colours)
        reasons.append(f"健康码为{COLOUR_LABELS.get(colour, '未知')},此处要求{wanted}")
    reasons += _testing_reasons(claims, now, req.pcr_negative_within_hours)
    if req.antigen_negative_today:
        antigen = claims.get("ag")
        if not isinstance(antigen, int) or antigen < start_of_local_day(now).timestamp():
            reasons.append("今日无抗原自测阴性记录")
    return Decision.of(reasons)


def check_exit(
    rules: ExitRules,
    *,
    zone_level: str | None,
    colour: str,
    claims: Mapping,
    household_passes_today: int,
    now: datetime,
) -> Decision:
    """May this resident be issued an exit pass now? `claims` are the testing claims a health
    code token would carry (`pcr`)."""
    reasons = []
    if zone_level is None:
        if not rules.allow_unzoned:
            reasons.append("所在小区尚未划定为防范区")
    elif zone_level not in rules.zone_levels:
        reasons.append(f"所在小区为{ZONE_LABELS[zone_level]},暂不能外出")
    if colour not in rules.colours:
        wanted = "或".join(COLOUR_LABELS[c] for c in COLOURS if c in rules.colours)
        reasons.append(f"健康码为{COLOUR_LABELS.get(colour, '未知')},需为{wanted}")
    reasons += _testing_reasons(claims, now, rules.pcr_negative_within_hours)
    local = now.astimezone(LOCAL).time()
    if not rules.opens <= local < rules.closes:
        reasons.append(f"外出时段为{rules.opens:%H:%M}-{rules.closes:%H:%M},当前不在时段内")
    if household_passes_today >= rules.per_household_per_day:
        reasons.append(f"每户每天限{rules.per_household_per_day}人次外出,今日名额已用完")
    return Decision.of(reasons)


def exit_pass_window(rules: ExitRules, now: datetime) -> tuple[datetime, datetime]:
    """A pass is valid from issue for `pass_minutes`, but never past today's closing time."""
    closes = datetime.combine(now.astimezone(LOCAL).date(), rules.closes, tzinfo=LOCAL)
    return now, min(now + timedelta(minutes=rules.pass_minutes), closes)


def check_exit_pass(claims: Mapping, *, community_code: str, zone_level: str | None) -> Decision:
    """At the compound gate: the pass must be for this community, and (online) the community
    must not have been placed under control since the pass was issued."""
    reasons = []
    if claims.get("com") != community_code:
        reasons.append("此通行码不属于本小区")
    if zone_level in ("lockdown", "control"):
        reasons.append(f"小区已调整为{ZONE_LABELS[zone_level]},通行码停用")
    return Decision.of(reasons)


VEHICLE_REVOKED = "通行证已吊销"
NOT_THE_DRIVER = "健康码不是通行证登记的驾驶员本人"


def check_vehicle_pass(
    claims: Mapping,
    now: datetime,
    *,
    driver_colour: str | None,
    plate: str | None = None,
    revoked: bool = False,
) -> Decision:
    """A vehicle pass (车辆通行证) at a road checkpoint: not revoked, within its validity
    (`nbf`–`exp`), for the plate seen (when the staff typed one), and the driver's code green.
    Online `driver_colour` is the driver's live code; offline it is None and the driver's own
    code, scanned next, decides (check_driver_code)."""
    reasons = []
    if revoked:
        reasons.append(VEHICLE_REVOKED)
    start, end, at = claims.get("nbf"), claims.get("exp"), now.timestamp()
    if not isinstance(start, int) or not isinstance(end, int) or not start <= at < end:
        window = (
            f"{_local(start)}至{_local(end)}"
            if isinstance(start, int) and isinstance(end, int)
            else "未知"
        )
        reasons.append(f"通行证有效期为{window},当前不在有效期内")
    if plate is not None and plate.replace(" ", "").upper() != claims.get("pl"):
        reasons.append(f"车牌{plate}与通行证登记的{claims.get('pl', '未知')}不符")
    if driver_colour is not None and driver_colour != "green":
        label = COLOUR_LABELS.get(driver_colour, "未知")
        reasons.append(f"驾驶员健康码为{label},车辆通行证暂停使用")
    return Decision.of(reasons)


def check_driver_code(pass_claims: Mapping, code_claims: Mapping) -> Decision:
    """The health code scanned right after a vehicle pass must be the driver's own."""
    sub = pass_claims.get("sub")
    if not isinstance(sub, str) or sub != code_claims.get("sub"):
        return Decision.of([NOT_THE_DRIVER])
    return Decision.of([])


def testing_claims(state, antigen_negative_at: datetime | None) -> dict:
    """The test-recency claims a health-code token carries, from a PersonTestState
    (fangkong.engine.testing_state): what a checkpoint needs, nothing more."""
    latest_negative = next(
        (
            item.sampling.sampled_at
            for item in reversed(state.samplings)
            if item.result is not None and item.result.result == "negative"
        ),
        None,
    )
    latest = state.latest_sampling.sampling.sampled_at if state.latest_sampling else None
    return {
        "smp": _seconds(latest),
        "pcr": _seconds(latest_negative),
        "tst": state.status,
        "ag": _seconds(antigen_negative_at),
    }


def _seconds(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())
