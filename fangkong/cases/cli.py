"""`fangkong bulletin DATE [--as-of T] [--json]`: a day's bulletin (docs/cases.md).

The version published by T if there is one, exactly as published, with how the figures known at
T differ from it; otherwise the draft the figures known at T would give."""

from __future__ import annotations

import argparse
import json
from datetime import date

FIGURES = ("new_confirmed", "of_which_conversions", "new_asymptomatic", "discharged", "released")
WORDS = {
    "new_confirmed": "新增本地确诊病例",
    "of_which_conversions": "其中无症状感染者转为确诊病例",
    "new_asymptomatic": "新增本地无症状感染者",
    "discharged": "新增治愈出院",
    "released": "新增解除隔离医学观察",
}


def bulletin_as_of(day: date, as_of) -> dict:
    from fangkong.cases.figures import BEIJING, differences
    from fangkong.cases.queries import day_figures, published
    from fangkong.cases.wording import bulletin_text

    now = day_figures(day, as_of)
    shown = published(day, as_of)
    if shown is None:
        return {
            "date": day.isoformat(),
            "as_of": as_of.astimezone(BEIJING).isoformat(),
            "text": bulletin_text(day, now),
            "figures": now.published(),
            "status": "draft",
        }
    stated = {name: shown.figures[name] for name in FIGURES}
    return {
        "date": day.isoformat(),
        "as_of": shown.as_of.astimezone(BEIJING).isoformat(),
        "text": shown.text,
        "figures": stated,
        "status": "published",
        "version": shown.version,
        "corrections": differences(stated, now.published()),
    }


def cmd_bulletin(args) -> int:
    from django.utils import timezone

    shown = bulletin_as_of(args.date, args.as_of or timezone.now())
    if args.json:
        print(json.dumps(shown, ensure_ascii=False))
        return 0
    label = f"第{shown['version']}版 已发布" if shown["status"] == "published" else "草稿"
    print(f"{shown['date']}({label},数据截至 {shown['as_of']})")
    print(shown["text"])
    for change in shown.get("corrections", []):
        word = WORDS[change["figure"]]
        print(f"更正:{word} 已发布{change['published']}例,现为{change['now']}例")
    return 0


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"不是有效的日期 {value!r}(应为 2022-04-20)") from exc


def add_commands(sub) -> None:
    """Add `bulletin` to the `fangkong` parser."""
    from fangkong.cli import moment

    bulletin = sub.add_parser("bulletin", help="某日疫情通报:已发布的原文,或按当前数据生成的草稿")
    bulletin.add_argument("date", type=_day, help="日期(北京时间0-24时),如 2022-04-20")
    bulletin.add_argument("--as-of", type=moment, help="数据截至(默认现在;无时区为北京时间)")
    bulletin.add_argument("--json", action="store_true")
    bulletin.set_defaults(func=cmd_bulletin)
