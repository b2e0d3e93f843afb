"""The demo replays April 2022 in order, so the codes tell the press conference's story:

0. 1 April, 08:00 — the residents are registered (`people.REGISTERED_AT`), before the first
   sampling, so any moment can be viewed as it was (`/codes/?at=2022-04-22T12:00`);
0'. 1–20 April — the zones replayed (fangkong.demo.april): positives make communities 封控 and
   高风险区, the rules release them and find the 无疫小区 of batches 1–11 (1 144 and 99 towns by
   19 April, 31 中风险区, four of them 低 from 20 April 18:00, batch 11 of 248), the clock swept
   as the worker would;
0''. 3–20 April — the cases recorded (fangkong.demo.cases), and the bulletin of 20 April drafted,
   approved and published at 08:00 on 21 April: 88 new confirmed (32 conversions), 233
   asymptomatic, 409 discharged, 680 released, counted from the case events;
1. 22 April, 23:00 — the 20–22 April round is loaded, results as reported by then;
2. 22 April, 23:30 — the standard rules are published (positive → red, pooled positive →
   yellow, close contact → red, secondary contact → yellow);
3. 23 April, 00:00 — the rule of 21 April is published: everyone outside the four counties who
   was not sampled in 20–22 April turns yellow;
4. 26 April, 00:00 — the 24 April round and its results arrive: a negative result turns those
   yellow codes green again, through the ordinary incremental path;
5. 8–26 April — the resumption of work in 长春新区 (fangkong.demo.enterprises): the registry of
   8 April, filings and daily reports of 8–20 April, 天合富奥's plant gate on 26 April. Replayed
   last: its gate reads the testing facts of the rounds above.
6. 18–26 April — the desk around it: the first batch of vehicle passes (fangkong.demo.passes),
   the task force's 183 solved problems (fangkong.demo.tickets), supply firms, deliveries to
   closed-loop firms and dormitory beds (fangkong.demo.supplies).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fangkong.codes.models import PersonCode
from fangkong.demo.april import replay_april
from fangkong.demo.build import build_demo
from fangkong.demo.cases import replay_cases
from fangkong.demo.enterprises import replay_enterprises
from fangkong.policies.actions import do_publish
from fangkong.policies.models import PolicyVersion
from fangkong.policies.source import read_source

BEIJING = timezone(timedelta(hours=8))
FIXTURES = Path(__file__).resolve().parents[1] / "policies" / "fixtures"
ROUND_ONE_LOADED = datetime(2022, 4, 22, 23, 0, tzinfo=BEIJING)
STANDARD_RULES_AT = datetime(2022, 4, 22, 23, 30, tzinfo=BEIJING)
SEED_RULE_AT = datetime(2022, 4, 23, 0, 0, tzinfo=BEIJING)
ROUND_TWO_LOADED = datetime(2022, 4, 26, 0, 0, tzinfo=BEIJING)
SEED_RULE = "cc-2022-0420-untested"
STANDARD_RULES = (
    "std-positive-red",
    "std-pooled-positive-yellow",
    "std-close-contact-red",
    "std-secondary-contact-yellow",
)


def publish_once(name: str, now: datetime) -> dict:
    """Publish a fixture unless its rules are already the latest version (running the demo
    twice must not create new versions, nor must a fixture whose comments were reworded)."""
    text = (FIXTURES / f"{name}.toml").read_text()
    existing = PolicyVersion.objects.filter(policy_id=name).order_by("-version").first()
    if existing and not existing.withdrawn and existing.data == read_source(text):
        return {"policy": name, "version": existing.version, "changed": 0, "published": False}
    version, outcome = do_publish(text, user=None, now=now)
    return {
        "policy": name,
        "version": version.version,
        "changed": outcome.changed,
        "transitions": outcome.by_transition,
        "published": True,
    }


def yellow_from_seed() -> int:
    return sum(
        1
        for reasons in PersonCode.objects.filter(colour="yellow").values_list("reasons", flat=True)
        if any(r["policy"] == SEED_RULE for r in reasons)
    )


def run_story(
    residents: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
    *,
    zones: bool = True,
    cases: bool = True,
    enterprises: bool = True,
    passes: int | None = None,
    desk: bool = True,
) -> dict:
    """Run the story (see the module's docstring) into the database and return its summary.

    `zones=False` leaves out step 0' (the zones of 1–20 April, the slow part): for tests of
    codes, clearances and accounts that do not concern zones. `fangkong demo` always replays
    them. `cases=False` leaves out step 0'' (the case timeline, which follows the zones);
    `enterprises=False` step 5 (the resumption of work in 长春新区, fangkong.demo.enterprises,
    and the desk around it: vehicle passes, tickets, supplies). `passes` is how many vehicle
    passes the first batch issues (default: 2 872 scaled by residents ÷ 20 000); `desk=False`
    leaves out step 6 (for the tests of each part of the desk, which replay it themselves)."""
    april = replay_zones(residents, seed) if zones else {"replayed": False}
    bulletin = replay_cases(residents, seed) if zones and cases else {"replayed": False}
    first = build_demo(residents=residents, seed=seed, progress=progress, now=ROUND_ONE_LOADED)
    published = [publish_once(name, STANDARD_RULES_AT) for name in STANDARD_RULES]
    published.append(publish_once(SEED_RULE, SEED_RULE_AT))
    yellow_after_publish = yellow_from_seed()
    second = build_demo(residents=residents, seed=seed, progress=progress, now=ROUND_TWO_LOADED)
    yellow_now = yellow_from_seed()
    works = replay_enterprises(seed) if enterprises else {"replayed": False, "text": ""}
    parts = replay_desk(seed, passes) if enterprises and desk else {}
    story = (
        f"4月23日0时发布“4月20日至22日未参加核酸检测人员赋黄码”规则:{yellow_after_publish:,}人"
        f"转为黄码;4月24日一轮核酸检测阴性后,{yellow_after_publish - yellow_now:,}人自动转绿,"
        f"仍有{yellow_now:,}人为该规则的黄码。"
    )
    return {
        **second,
        "first_load": {k: first[k] for k in ("now", "loaded", "rejected", "seconds")},
        "policies": published,
        "seed_rule": {"yellow_at_publish": yellow_after_publish, "yellow_now": yellow_now},
        "april": _april_summary(april),
        "cases": _cases_summary(bulletin),
        "enterprises": {k: v for k, v in works.items() if k != "text"},
        **{name: {k: v for k, v in part.items() if k != "text"} for name, part in parts.items()},
        "text": second["text"]
        + "\n"
        + story
        + (_april_text() if zones else "")
        + (_bulletin_text() if zones and cases else "")
        + works["text"]
        + "".join("\n" + part["text"] for part in parts.values() if part.get("text")),
    }


def replay_desk(seed: int, passes: int | None = None) -> dict[str, dict]:
    """Step 6: the resumption desk of 长春新区 around its registry — the first batch of vehicle
    passes, the task force's tickets, supply assurance (each replayed once)."""
    from fangkong.demo.passes import replay_passes
    from fangkong.demo.supplies import replay_supplies
    from fangkong.demo.tickets import replay_tickets

    return {
        "passes": replay_passes(seed, count=passes),
        "tickets": replay_tickets(seed),
        "supplies": replay_supplies(seed),
    }


def replay_zones(residents: int, seed: int) -> dict:
    """Step 0 and 0': the register loaded on 1 April, then the zones of 1–20 April replayed;
    nothing when they were replayed before (a 无疫 batch exists)."""
    from fangkong.demo.people import REGISTERED_AT
    from fangkong.zones.models import EpidemicFreeBatch

    if EpidemicFreeBatch.objects.exists():
        return {"replayed": False}
    build_demo(residents=residents, seed=seed, now=REGISTERED_AT, kinds=("residents",))
    return replay_april(residents, seed)


def _april_summary(april: dict) -> dict:
    if not april.get("replayed"):
        return {"replayed": False}
    return {"replayed": True, "days": april["days"], "seconds": april["seconds"]}


def _cases_summary(cases: dict) -> dict:
    if not cases.get("replayed"):
        return {"replayed": False}
    return {k: cases[k] for k in ("replayed", "events", "bulletin", "text", "seconds")}


def _bulletin_text() -> str:
    from fangkong.cases.queries import published
    from fangkong.demo.cases import BULLETIN_DAY

    shown = published(BULLETIN_DAY)
    if shown is None:
        return ""
    return f"\n4月20日疫情通报(第{shown.version}版,fangkong bulletin 2022-04-20):{shown.text}"


def _april_text() -> str:
    from fangkong.demo.april import at
    from fangkong.zones.stats import zone_stats

    stats = zone_stats(at(datetime(2022, 4, 20).date(), 0))
    return (
        f"\n4月风险区划按规则回放:截至19日中风险区{stats['risk_areas']['medium']}个,"
        f"无疫小区{stats['epidemic_free']['communities']:,}个、"
        f"无疫乡镇(街道){stats['epidemic_free']['towns']}个"
        "(fangkong zones stats --as-of 2022-04-20T00:00)。"
    )
