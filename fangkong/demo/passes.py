"""Vehicle passes (车辆通行证) in 长春新区, replayed so that the first issuing batch of 20 April
2022 comes out of the stored applications and decisions.

The press conference of 21 April (石威): "持续优化通行证发放机制,实施全天候专人处置,目前已完成第一
批2872个车辆通行证的发放". The district stands in as 220173, as in fangkong.demo.enterprises.

Nothing here writes a figure. The demo designs the *facts* — which enterprise applies for which
vehicle and driver (demo residents with a green code), when each application comes in between
18 April 08:00 and 20 April 14:00, how long the officer on duty takes (under 24 hours, nights
included), a few rejected for a wrong phone number and re-applied two hours later — and records
them through `fangkong.passes.actions`. At 20 April 18:00 the officer closes the first batch.
The figures are then `fangkong.passes.stats.figures` of the stored rows.

Then, on 22 April, a road checkpoint (道路卡口) with its device key on the ring road into the
district: one pass is scanned and passes; one is revoked (车辆转作他用) and its scan is refused.
`count` passes are issued: by default in proportion to the demo's residents
(round(2872 × residents / 20 000), at least 20); `count=2872` gives the seed's figure.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import numpy as np

from fangkong.demo.april import at
from fangkong.demo.enterprises import DISTRICT, DISTRICT_NAME, ENTERPRISE_ACCOUNT, REVIEWER, TIANHE

SEED_FIRST_BATCH = 2872
SEED_RESIDENTS = 20_000
MINIMUM = 20
OFFICER = "pass_xinqu"
FIRST_APPLICATION = at(date(2022, 4, 18), 8)
LAST_APPLICATION = at(date(2022, 4, 20), 14)
BATCH_CLOSED = at(date(2022, 4, 20), 18)
VALID_FROM = at(date(2022, 4, 21), 0)
VALID_DAYS = 14
CHECKPOINT_NAME = "长春绕城高速新区收费站(道路卡口)"
CHECKPOINT_DAY = date(2022, 4, 22)
REJECTED_EVERY = 60  # one application in this many is rejected first, then re-applied
REJECTION = "驾驶员电话与登记信息不符,请核实后重新申请"
REVOCATION = "车辆转作他用,企业申请注销"
# (vehicle type, cargo) — what the resumed plants move: parts to 一汽, staff, cold goods.
LOADS = (
    ("truck", "汽车零部件"),
    ("van", "汽车零部件"),
    ("truck", "生产原材料"),
    ("bus", "闭环员工通勤"),
    ("cold_chain", "职工食堂冷鲜食品"),
    ("van", "防疫物资"),
)
DESTINATIONS = (
    ("中国第一汽车集团有限公司总装厂", "220172"),
    ("长春汽车经济技术开发区物流园", "220172"),
    ("长春高新区员工集中居住点", DISTRICT),
    ("长春市朝阳区物资集散中心", "220104"),
)


def default_count() -> int:
    from fangkong.people.models import Person

    residents = Person.objects.count()
    return max(MINIMUM, round(SEED_FIRST_BATCH * residents / SEED_RESIDENTS))


def replay_passes(seed: int = 7, count: int | None = None) -> dict:
    """Apply, decide, issue the first batch, then scan at the road checkpoint (see the module's
    docstring) through the product's own actions; what was replayed before is not replayed
    again. Returns the summary with the figures of 20 April 18:00 and a `text` paragraph."""
    from fangkong.passes.models import PassBatch

    count = default_count() if count is None else count
    officer = _officer()
    if not PassBatch.objects.filter(number=1).exists():
        _apply_and_decide(seed, count, officer)
        from fangkong.passes.actions import do_issue_batch

        do_issue_batch(officer, now=BATCH_CLOSED)
    checkpoint = _road_checkpoint(seed, officer)
    from fangkong.passes.stats import figures

    shown = figures(BATCH_CLOSED, frozenset({DISTRICT}))
    return {
        "replayed": True,
        **{k: shown[k] for k in ("applied", "reapplied", "rejected", "issued", "batches")},
        "median_handling_hours": shown["median_handling_hours"],
        "within_24h": shown["within_24h"],
        "longest_handling_hours": _longest(),
        "checkpoint": checkpoint,
        "text": story_text(shown, checkpoint),
    }


def _officer():
    from django.contrib.auth import get_user_model

    from fangkong.demo.accounts import create_staff, task_force_accounts

    create_staff([a for a in task_force_accounts() if a.username == OFFICER], [DISTRICT])
    return get_user_model().objects.get(username=OFFICER)


def _enterprises():
    from fangkong.enterprises.models import Enterprise

    return list(Enterprise.objects.filter(county_code=DISTRICT, above_scale=True).order_by("uscc"))


def _drivers(needed: int, seed: int) -> list:
    """Demo residents with a green code, those of the district first; reused round-robin when
    the demo has fewer than there are vehicles (one driver, several shifts)."""
    from fangkong.codes.models import PersonCode
    from fangkong.people.models import Person

    not_green = set(PersonCode.objects.exclude(colour="green").values_list("person_id", flat=True))
    people = [
        p
        for p in Person.objects.order_by("pk").only("pk", "id_number", "phone", "county_code")
        if p.pk not in not_green and len(p.phone) == 11
    ]
    rng = np.random.default_rng(seed + 16)
    local = [p for p in people if p.county_code == DISTRICT]
    others = [p for p in people if p.county_code != DISTRICT]
    ordered = [local[i] for i in rng.permutation(len(local))] + [
        others[i] for i in rng.permutation(len(others))
    ]
    if not ordered:
        raise RuntimeError("没有可作驾驶员的绿码居民")
    return [ordered[i % len(ordered)] for i in range(needed)]


def plate(seed: int, index: int) -> str:
    """吉A and five digits, distinct for each index below 100 000 (104 729 is prime to 10⁵)."""
    return f"吉A{(seed * 7919 + index * 104_729) % 100_000:05d}"


def _apply_and_decide(seed: int, count: int, officer) -> None:
    from django.contrib.auth import get_user_model

    from fangkong.passes.actions import do_apply, do_decide

    users = get_user_model().objects
    reviewer = users.get(username=REVIEWER)
    own = users.filter(username=ENTERPRISE_ACCOUNT, staff__enterprise__name=TIANHE).first()
    enterprises = _enterprises()
    if not enterprises:
        raise RuntimeError(f"{DISTRICT_NAME}尚无登记企业:请先运行企业复工复产的演示")
    drivers = _drivers(count, seed)
    rng = np.random.default_rng(seed + 2872)
    span = (LAST_APPLICATION - FIRST_APPLICATION).total_seconds()
    applied = sorted(
        FIRST_APPLICATION + timedelta(seconds=int(s)) for s in rng.uniform(0, span, count)
    )
    # Handling: mostly a few hours, some overnight, never 24 hours, and decided before the
    # batch closes.
    hours = np.clip(rng.gamma(2.0, 3.0, count), 0.25, 22.0)
    timeline = []  # (when, order, index, step): every action in time order
    plans = {}
    latest = BATCH_CLOSED - timedelta(minutes=30)
    for i in range(count):
        enterprise = enterprises[i % len(enterprises)]
        kind, cargo = LOADS[int(rng.integers(len(LOADS)))]
        destination, code = DESTINATIONS[int(rng.integers(len(DESTINATIONS)))]
        rejected_first = i % REJECTED_EVERY == REJECTED_EVERY - 1
        steps = (
            ("apply", "reject", "reapply", "approve") if rejected_first else ("apply", "approve")
        )
        handled = min(timedelta(hours=float(hours[i])), (latest - applied[i]) / (len(steps) - 1))
        for n, step in enumerate(steps):
            timeline.append((applied[i] + n * handled, n, i, step))
        driver = drivers[i]
        plans[i] = {
            "enterprise": enterprise,
            "plate": plate(seed, i),
            "vehicle_type": kind,
            "driver_id_number": driver.id_number,
            "driver_phone": driver.phone,
            "origin": enterprise.name[:40],
            "origin_code": enterprise.county_code,
            "destination": destination,
            "destination_code": code,
            "cargo": cargo,
            "valid_from": VALID_FROM,
            "valid_until": VALID_FROM + timedelta(days=VALID_DAYS),
        }
    current = {}
    for when, _n, i, step in sorted(timeline, key=lambda e: (e[0], e[2], e[1])):
        facts = plans[i]
        applicant = own if own is not None and facts["enterprise"].name == TIANHE else reviewer
        if step == "apply":
            current[i] = do_apply(applicant, now=when, **facts)
        elif step == "reapply":
            current[i] = do_apply(applicant, now=when, previous=current[i], **facts)
        else:
            do_decide(
                officer,
                current[i],
                approve=step == "approve",
                reason=REJECTION if step == "reject" else "",
                now=when,
            )


def _road_checkpoint(seed: int, officer) -> dict:
    """The road checkpoint (its device key is made once and not kept: staff sign in to verify),
    a pass scanned and let through at 09:00 on 22 April, another revoked at 10:00 and refused at
    10:30. Each scan has a fixed scan id: replaying again is a retry, recorded once."""
    from fangkong.checkpoints.actions import do_create_checkpoint, do_verify
    from fangkong.checkpoints.models import Checkpoint
    from fangkong.passes.actions import do_revoke
    from fangkong.passes.models import VehiclePass

    checkpoint = Checkpoint.objects.filter(name=CHECKPOINT_NAME).first()
    if checkpoint is None:
        checkpoint, _key = do_create_checkpoint(
            officer,
            name=CHECKPOINT_NAME,
            type_code="road_checkpoint",
            county_code=DISTRICT,
            now=at(date(2022, 4, 20), 12),
        )
    issued = list(
        VehiclePass.objects.filter(batch__number=1, county_code=DISTRICT).order_by("number")[:2]
    )
    passing, revoked = issued[0], issued[1]
    if revoked.revoked_at is None:
        do_revoke(officer, revoked, reason=REVOCATION, now=at(CHECKPOINT_DAY, 10))
    ids = [uuid.uuid5(uuid.NAMESPACE_URL, f"fangkong-demo-passes/{seed}/{n}") for n in (1, 2)]
    let_through = do_verify(checkpoint, passing.token, at(CHECKPOINT_DAY, 9), scan_id=str(ids[0]))
    refused = do_verify(checkpoint, revoked.token, at(CHECKPOINT_DAY, 10, 30), scan_id=str(ids[1]))
    return {
        "id": checkpoint.pk,
        "name": checkpoint.name,
        "passed": {"pass": passing.number_text, "outcome": str(let_through.outcome)},
        "revoked": {
            "pass": revoked.number_text,
            "outcome": str(refused.outcome),
            "reasons": refused.reasons,
        },
    }


def _longest() -> float | None:
    from fangkong.passes.models import VehiclePass

    spans = [
        (d - a).total_seconds() / 3600
        for a, d in VehiclePass.objects.filter(
            county_code=DISTRICT, decided_at__isnull=False, decided_at__lte=BATCH_CLOSED
        ).values_list("applied_at", "decided_at")
    ]
    return round(max(spans), 2) if spans else None


def story_text(f: dict, checkpoint: dict) -> str:
    first = next((b for b in f["batches"] if b["number"] == 1), {"issued": 0})
    within = "—" if f["within_24h"] is None else f"{f['within_24h'] * 100:.1f}%"
    median = "—" if f["median_handling_hours"] is None else f"{f['median_handling_hours']:.1f}"
    return (
        f"\n车辆通行证(fangkong passes stats --as-of 2022-04-20T18:00 --county {DISTRICT}):"
        f"{DISTRICT_NAME}4月18日至20日受理申请{f['applied']:,}件(其中驳回后重新申请"
        f"{f['reapplied']:,}件),全天候专人处置,处理用时中位数{median}小时,24小时内处理"
        f"{within};4月20日18时完成第一批{first['issued']:,}个车辆通行证的发放。4月22日"
        f"{checkpoint['name']}:通行证{checkpoint['passed']['pass']}核验"
        f"{'通过' if checkpoint['passed']['outcome'] == 'pass' else '未通过'},已吊销的通行证"
        f"{checkpoint['revoked']['pass']}被拒绝({';'.join(checkpoint['revoked']['reasons'])})。"
    )
