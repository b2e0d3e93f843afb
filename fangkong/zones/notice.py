"""Reading a notice file (`fangkong zones publish FILE`, docs/zones.md): TOML, checked strictly;
every problem in Chinese naming its key or row, so a mistake is answered with a list.

    number = 21
    title = "关于调整部分区域风险等级的通告"
    scheme = "risk_areas"                        # or "three_zones"
    effective_from = 2022-04-20T18:00:00+08:00   # a time without offset is Beijing time
    # effective_until = 2022-04-27T18:00:00+08:00
    [[entries]]
    community = "220102001001"
    level = "low"                                # or as the notice names it: "低风险区"

Whether the communities exist is checked when the notice is proposed (zones.actions).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from fangkong.engine.policies import ZONE_LABELS
from fangkong.policies.source import toml_problem
from fangkong.zones.models import CITY_ISSUER, Scheme

BEIJING = ZoneInfo("Asia/Shanghai")
MAX_NOTICE_BYTES = 1024 * 1024
KEYS = {"number", "issuer", "title", "scheme", "effective_from", "effective_until", "entries"}
REQUIRED = ("number", "title", "scheme", "effective_from", "entries")
ENTRY_KEYS = {"community", "level"}
LEVEL_BY_LABEL = {label: level for level, label in ZONE_LABELS.items()}


class NoticeError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Notice:
    number: int
    issuer: str
    title: str
    scheme: str
    effective_from: datetime
    effective_until: datetime | None
    entries: list[tuple[str, str]]


def _time(data: dict, key: str, problems: list[str]) -> datetime | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime):
        kind = "日期" if isinstance(value, date) else "值"
        problems.append(f"{key}:{kind}应为时间,如 2022-04-20T18:00:00+08:00")
        return None
    return value if value.tzinfo else value.replace(tzinfo=BEIJING)


def _entries(value, problems: list[str]) -> list[tuple[str, str]]:
    if not isinstance(value, list) or not value:
        problems.append("entries:至少列出一个社区([[entries]] 下写 community 和 level)")
        return []
    out = []
    for row, entry in enumerate(value, 1):
        where = f"entries 第{row}条"
        if not isinstance(entry, dict):
            problems.append(f"{where}:应为表(写 community 和 level)")
            continue
        for key in sorted(set(entry) - ENTRY_KEYS):
            problems.append(f"{where}:未知的键 {key}")
        community, level = entry.get("community"), entry.get("level")
        if not isinstance(community, str) or not community.isdigit() or len(community) != 12:
            problems.append(f"{where}:community 应为12位社区代码(加双引号)")
            continue
        level = LEVEL_BY_LABEL.get(level, level)
        if level not in ZONE_LABELS:
            names = "、".join(f"{k}({v})" for k, v in ZONE_LABELS.items())
            problems.append(f"{where}:level 应为 {names} 之一")
            continue
        out.append((community, level))
    return out


def parse_notice(raw: bytes) -> Notice:
    """A notice from a file's bytes; NoticeError lists every problem."""
    if len(raw) > MAX_NOTICE_BYTES:
        raise NoticeError([f"通告文件过大:{len(raw):,}字节,上限1MB"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NoticeError([f"通告文件须为UTF-8编码(第{exc.start + 1}个字节无法读取)"]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise NoticeError([toml_problem(str(exc))]) from exc
    problems = [f"未知的键 {key}" for key in sorted(set(data) - KEYS)]
    problems += [f"缺少 {key}" for key in REQUIRED if key not in data]
    number = data.get("number")
    if "number" in data and (type(number) is not int or number < 1):
        problems.append("number:通告编号应为正整数,如 21")
    issuer = data.get("issuer", CITY_ISSUER)
    if not isinstance(issuer, str) or not issuer.strip() or len(issuer) > 64:
        problems.append("issuer:发布单位应为不超过64字的文本")
    title = data.get("title")
    if "title" in data and (not isinstance(title, str) or not title.strip()):
        problems.append("title:标题应为非空文本")
    scheme = data.get("scheme")
    if "scheme" in data and scheme not in Scheme.values:
        problems.append(
            "scheme:应为 three_zones(封控区/管控区/防范区)或 risk_areas(高/中/低风险区)"
        )
    effective_from = _time(data, "effective_from", problems)
    effective_until = _time(data, "effective_until", problems)
    if effective_from and effective_until and effective_until <= effective_from:
        problems.append("effective_until:截止时间应晚于生效时间")
    entries = _entries(data.get("entries"), problems) if "entries" in data else []
    if problems:
        raise NoticeError(problems)
    return Notice(
        number, issuer.strip(), title.strip(), scheme, effective_from, effective_until, entries
    )
