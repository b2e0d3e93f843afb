"""The demo's checkpoints, zones and exit rules, and a testing round "yesterday" so the demo
works at today's date: April 2022's results are years old, and checkpoints ask for 24/48 h.

The story (fangkong.demo.story) replays April 2022; this part is set at the real `now`:
- exit rules and households (the zones are the April replay's, fangkong.demo.april)
  (fangkong.exits.demo);
- one checkpoint of each type in 南关区, the compound gate at a 防范区 community with residents;
- that community's residents sampled yesterday, negative (the yellow example resident not).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count

from fangkong.checkpoints.actions import do_create_checkpoint
from fangkong.checkpoints.models import Checkpoint
from fangkong.codes.models import PersonCode
from fangkong.engine.gate_rules import LOCAL
from fangkong.exits.demo import seed_exits
from fangkong.ingest.actions import do_ingest
from fangkong.people.models import Person
from fangkong.places.models import Division
from fangkong.testing.models import TestingSite
from fangkong.zones.queries import current_zones

DISTRICT = "220102"  # 南关区: where the demo's checkpoint and sampler accounts work
CHECKPOINTS = (
    ("public_place", "南关区欧亚商都(商超)"),
    ("factory_gate", "南关区汽车零部件产业园厂门"),
    ("city_exit", "长春南收费站(离长通道)"),
    ("testing_site", "南关区核酸采样点扫码台"),
)
LAB = "长春金域医学检验所"


def _gate_community(now: datetime) -> str:
    """The 防范区 community of 南关区 with the most residents (a real compound to exit)."""
    busiest = (
        Person.objects.filter(county_code=DISTRICT)
        .values("community_id")
        .annotate(n=Count("id"))
        .order_by("-n")[:50]
    )
    codes = [row["community_id"] for row in busiest]
    zones = current_zones(codes, now)
    return next((c for c in codes if c in zones and zones[c].level == "prevention"), codes[0])


def _checkpoints(community: Division) -> list[Checkpoint]:
    site = TestingSite.objects.filter(county_code=DISTRICT).order_by("code").first()
    wanted = [*CHECKPOINTS, ("compound_gate", f"{community.name}小区门岗")]
    made = []
    for type_code, name in wanted:
        existing = Checkpoint.objects.filter(type_id=type_code, county_code=DISTRICT).first()
        if existing is None:
            existing, _ = do_create_checkpoint(
                None,
                name=name,
                type_code=type_code,
                county_code=DISTRICT,
                community=community if type_code == "compound_gate" else None,
                site=site if type_code == "testing_site" else None,
                now=datetime.now(LOCAL),
            )
        made.append(existing)
    return made


def _examples(community: Division) -> dict[str, str]:
    """ID numbers to sign in with on the resident page: one yellow (not sampled 20–22 April)."""
    yellow = (
        PersonCode.objects.filter(colour="yellow", county_code=DISTRICT)
        .exclude(person__community=community)
        .order_by("person_id")
        .values_list("person__id_number", flat=True)
        .first()
    )
    return {"yellow": yellow} if yellow else {}


def _yesterdays_round(people: list[Person], now: datetime) -> int:
    """Sampled yesterday 08:00 in 10-in-1 tubes, negative by 20:00 — idempotent per day."""
    site = TestingSite.objects.filter(county_code=DISTRICT).order_by("code").first()
    day = (now.astimezone(LOCAL) - timedelta(days=1)).date()
    sampled_at = datetime(day.year, day.month, day.day, 8, tzinfo=LOCAL)
    reported_at = sampled_at + timedelta(hours=12)
    rows, tubes = [], []
    for i, person in enumerate(people):
        tube = f"D{day:%Y%m%d}-{i // 10:05d}"
        rows.append(
            {
                "id_number": person.id_number,
                "tube": tube,
                "pool_size": 10,
                "site_code": site.code,
                "sampled_at": sampled_at.isoformat(),
            }
        )
        if not tubes or tubes[-1] != tube:
            tubes.append(tube)
    do_ingest("samplings", rows=rows, now=now, source="demo")
    results = [
        {"tube": t, "result": "negative", "lab": LAB, "reported_at": reported_at.isoformat()}
        for t in tubes
    ]
    report = do_ingest("results", rows=results, now=now, source="demo")
    return report.inserted


def seed_gates(now: datetime) -> dict:
    seed_exits(now)
    community = Division.objects.get(code=_gate_community(now))
    checkpoints = _checkpoints(community)
    # The compound's residents took yesterday's round; the yellow example did not (so stays
    # yellow, with the reason and how to clear it on their page).
    residents = list(Person.objects.filter(community=community).order_by("id")[:200])
    _yesterdays_round(residents, now)
    examples = {"green": residents[0].id_number, **_examples(community)}
    return {"community": community, "checkpoints": checkpoints, "examples": examples}


def print_gates(stream, gates: dict, host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    print(f"\n居民端(手机浏览器):{base}/r/login/ ,验证码见 {base}/r/outbox/", file=stream)
    labels = {"green": "绿码示例(小区居民,昨日核酸阴性)", "yellow": "黄码示例(4月20日至22日未采样)"}
    for kind, id_number in gates["examples"].items():
        print(f"  {labels[kind]}:{id_number}", file=stream)
    print(f"卡口核验(账号 checkpoint / sampler):{base}/checkpoints/", file=stream)
    for checkpoint in gates["checkpoints"]:
        print(f"  {checkpoint.name}:{base}/checkpoints/{checkpoint.pk}/verify/", file=stream)
