"""The demo replays April 2022 in order, so the codes tell the press conference's story:

0. 19 April, 20:00 — the residents are registered (`people.REGISTERED_AT`), before the first
   sampling, so any moment of the round can be viewed as it was (`/codes/?at=2022-04-22T12:00`);
1. 22 April, 23:00 — the 20–22 April round is loaded, results as reported by then;
2. 22 April, 23:30 — the standard rules are published (positive → red, pooled positive →
   yellow, close contact → red, secondary contact → yellow);
3. 23 April, 00:00 — the rule of 21 April is published: everyone outside the four counties who
   was not sampled in 20–22 April turns yellow;
4. 26 April, 00:00 — the 24 April round and its results arrive: a negative result turns those
   yellow codes green again, through the ordinary incremental path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from fangkong.codes.models import PersonCode
from fangkong.demo.build import build_demo
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


def run_story(residents: int, seed: int, progress: Callable[[int], None] | None = None) -> dict:
    first = build_demo(residents=residents, seed=seed, progress=progress, now=ROUND_ONE_LOADED)
    published = [publish_once(name, STANDARD_RULES_AT) for name in STANDARD_RULES]
    published.append(publish_once(SEED_RULE, SEED_RULE_AT))
    yellow_after_publish = yellow_from_seed()
    second = build_demo(residents=residents, seed=seed, progress=progress, now=ROUND_TWO_LOADED)
    yellow_now = yellow_from_seed()
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
        "text": second["text"] + "\n" + story,
    }
