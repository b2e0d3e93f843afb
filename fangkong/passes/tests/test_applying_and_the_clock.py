"""An enterprise applies for vehicle passes; officers decide within the 24-hour handling clock
(全天候专人处置), which runs through the night and starts again on a re-application; approved
passes are issued in numbered batches; bad input is refused naming the field."""

import json
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from fangkong.accounts.models import Role
from fangkong.audit.models import AuditEntry
from fangkong.cli import build_parser
from fangkong.ingest.tests.support import BJ
from fangkong.passes import access
from fangkong.passes.actions import do_decide, do_issue_batch, do_revoke
from fangkong.passes.models import VehiclePass
from fangkong.passes.rules import PassError, clock_text, overdue
from fangkong.passes.stats import figures
from fangkong.passes.tests.support import MORNING, apply, enterprise_account, make_enterprise

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(city, make_staff):
    enterprise = make_enterprise()
    return {
        "enterprise": enterprise,
        "account": enterprise_account(make_staff, enterprise),
        "officer": make_staff(Role.PASS_OFFICER, ["220102"]),
        "city": city,
    }


def test_the_clock_runs_across_midnight(desk):
    """Applied at 21:30, decided at 06:00 the next morning: 8.5 hours, a night counted like a
    day; a pending application turns overdue 24 hours after it came in."""
    applied = datetime(2022, 4, 19, 21, 30, tzinfo=BJ)
    vp = apply(desk["account"], desk["enterprise"], desk["city"].nanguan[0], applied)
    assert not overdue(vp.applied_at, None, applied + timedelta(hours=23, minutes=59))
    assert overdue(vp.applied_at, None, applied + timedelta(hours=24))
    assert clock_text(timedelta(hours=25, minutes=5)) == "1天1小时05分"
    do_decide(desk["officer"], vp, approve=True, reason="", now=datetime(2022, 4, 20, 6, tzinfo=BJ))
    shown = figures(datetime(2022, 4, 20, 12, tzinfo=BJ))
    assert shown["median_handling_hours"] == 8.5
    assert shown["within_24h"] == 1.0
    assert [d["date"] for d in shown["by_day"]] == ["2022-04-19", "2022-04-20"]


def test_a_reapplication_after_a_rejection_has_its_own_clock(desk):
    """Rejected after 30 hours (overdue), re-applied and approved 2 hours later: two handling
    times, 30 h and 2 h; the median is 16 h and half were handled within 24 h."""
    first = apply(desk["account"], desk["enterprise"], desk["city"].nanguan[0], MORNING)
    rejected_at = MORNING + timedelta(hours=30)
    do_decide(desk["officer"], first, approve=False, reason="驾驶员电话无法接通", now=rejected_at)
    again = apply(
        desk["account"],
        desk["enterprise"],
        desk["city"].nanguan[0],
        rejected_at + timedelta(hours=1),
        previous=first,
        driver_phone="13904310002",
    )
    assert again.previous == first and again.applied_at == rejected_at + timedelta(hours=1)
    do_decide(
        desk["officer"], again, approve=True, reason="", now=again.applied_at + timedelta(hours=2)
    )
    shown = figures(again.applied_at + timedelta(hours=3))
    assert (shown["applied"], shown["reapplied"], shown["rejected"], shown["approved"]) == (
        2,
        1,
        1,
        1,
    )
    assert shown["median_handling_hours"] == 16.0
    assert shown["within_24h"] == 0.5
    with pytest.raises(PassError, match="原申请:已经重新申请过"):
        apply(
            desk["account"],
            desk["enterprise"],
            desk["city"].nanguan[0],
            again.applied_at,
            previous=first,
        )
    with pytest.raises(PassError, match="只有被驳回的申请"):
        apply(
            desk["account"],
            desk["enterprise"],
            desk["city"].nanguan[0],
            again.applied_at,
            previous=again,
        )


def test_a_rejection_needs_its_reason_and_a_decision_is_made_once(desk):
    vp = apply(desk["account"], desk["enterprise"], desk["city"].nanguan[0], MORNING)
    with pytest.raises(PassError, match="处理意见:不能为空"):
        do_decide(desk["officer"], vp, approve=False, reason="  ", now=MORNING)
    do_decide(desk["officer"], vp, approve=True, reason="", now=MORNING + timedelta(hours=1))
    with pytest.raises(PassError, match="处理过"):
        do_decide(
            desk["officer"], vp, approve=False, reason="重复", now=MORNING + timedelta(hours=2)
        )
    actions = list(
        AuditEntry.objects.filter(target_type="vehicle_pass", target_id=str(vp.pk)).values_list(
            "action", flat=True
        )
    )
    assert actions == ["vehicle_pass.apply", "vehicle_pass.approve"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("plate", "吉12345", "车牌号:“吉12345”格式不正确"),
        ("vehicle_type", "tank", "车辆类型:未知的类型"),
        ("driver_id_number", "220102199001011234", "驾驶员身份证号:未找到该居民"),
        ("driver_phone", "0431-123", "驾驶员电话:应为11位手机号"),
        ("cargo", "", "运输物资:不能为空"),
        ("origin_code", "999999", "起点区划:未知的区划代码"),
        ("valid_until", MORNING + timedelta(days=15), "有效期:最长14天"),
        ("valid_until", MORNING - timedelta(hours=1), "有效期至:应晚于有效期自"),
    ],
)
def test_bad_input_is_refused_naming_the_field(desk, field, value, message):
    with pytest.raises(PassError, match=message):
        apply(
            desk["account"], desk["enterprise"], desk["city"].nanguan[0], MORNING, **{field: value}
        )
    assert not VehiclePass.objects.exists()


def test_the_plate_is_normalised_as_at_the_plant_gate(desk):
    vp = apply(
        desk["account"], desk["enterprise"], desk["city"].nanguan[0], MORNING, plate="吉a·d1234 5"
    )
    assert vp.plate == "吉AD12345"


def test_batches_are_numbered_and_passes_numbered_in_order(desk):
    ids = desk["city"].nanguan
    passes = [
        apply(
            desk["account"],
            desk["enterprise"],
            ids[i],
            MORNING + timedelta(minutes=i),
            plate=f"吉A1234{i}",
        )
        for i in range(3)
    ]
    for i, vp in enumerate(passes[:2]):
        do_decide(
            desk["officer"],
            vp,
            approve=True,
            reason="",
            now=MORNING + timedelta(hours=1, minutes=i),
        )
    first = do_issue_batch(desk["officer"], now=MORNING + timedelta(hours=2))
    do_decide(desk["officer"], passes[2], approve=True, reason="", now=MORNING + timedelta(hours=3))
    second = do_issue_batch(desk["officer"], now=MORNING + timedelta(hours=4))
    with pytest.raises(PassError, match="没有待发放"):
        do_issue_batch(desk["officer"], now=MORNING + timedelta(hours=5))
    assert (first.number, second.number) == (1, 2)
    numbers = [VehiclePass.objects.get(pk=p.pk).number_text for p in passes]
    assert numbers == ["吉车证000001", "吉车证000002", "吉车证000003"]
    shown = figures(MORNING + timedelta(hours=3))  # as of before the second batch
    assert [(b["number"], b["issued"]) for b in shown["batches"]] == [(1, 2)]
    assert (shown["issued"], shown["approved"], shown["pending"]) == (2, 3, 0)


def test_the_stats_command_prints_the_json_contract(desk, capsys):
    vp = apply(desk["account"], desk["enterprise"], desk["city"].nanguan[0], MORNING)
    apply(desk["account"], desk["enterprise"], desk["city"].nanguan[1], MORNING, plate="吉B12345")
    do_decide(desk["officer"], vp, approve=True, reason="", now=MORNING + timedelta(hours=6))
    do_issue_batch(desk["officer"], now=MORNING + timedelta(hours=7))
    args = build_parser().parse_args(["passes", "stats", "--as-of", "2022-04-20T16:00", "--json"])
    assert args.func(args) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["applied"] == 2 and shown["issued"] == 1 and shown["rejected"] == 0
    assert shown["pending"] == 1 and shown["batches"][0]["number"] == 1
    assert shown["batches"][0]["issued"] == 1
    assert shown["median_handling_hours"] == 6.0 and shown["within_24h"] == 1.0
    args = build_parser().parse_args(["passes", "stats", "--as-of", "2022-04-20T10:00", "--json"])
    args.func(args)
    earlier = json.loads(capsys.readouterr().out)
    assert (earlier["applied"], earlier["issued"], earlier["batches"]) == (2, 0, [])


def test_scoping(desk, make_staff):
    """Officers of another district neither see nor decide; another enterprise's account sees
    nothing and cannot apply for this one; the district reviewer applies on its behalf."""
    vp = apply(desk["account"], desk["enterprise"], desk["city"].nanguan[0], MORNING)
    elsewhere = make_staff(Role.PASS_OFFICER, ["220104"])
    assert not access.can_see(elsewhere, vp)
    with pytest.raises(PermissionDenied):
        do_decide(elsewhere, vp, approve=True, reason="", now=MORNING)
    other = make_enterprise(name="另一家企业", serial=2)
    other_account = enterprise_account(make_staff, other)
    assert not access.can_see(other_account, vp)
    with pytest.raises(PermissionDenied):
        apply(other_account, desk["enterprise"], desk["city"].nanguan[1], MORNING)
    reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220102"])
    assert (
        apply(reviewer, desk["enterprise"], desk["city"].nanguan[1], MORNING).applied_by == reviewer
    )
    assert access.can_see(make_staff(Role.COMMAND_CENTRE), vp)
    with pytest.raises(PermissionDenied):
        do_decide(reviewer, vp, approve=True, reason="", now=MORNING)
    do_decide(desk["officer"], vp, approve=True, reason="", now=MORNING)
    with pytest.raises(PassError, match="没有待发放"):
        do_issue_batch(elsewhere, now=MORNING + timedelta(hours=1))
    batch = do_issue_batch(desk["officer"], now=MORNING + timedelta(hours=1))
    with pytest.raises(PermissionDenied):
        do_revoke(elsewhere, VehiclePass.objects.get(pk=vp.pk), reason="x", now=MORNING)
    assert batch.districts == ["220102"]
    assert figures(MORNING + timedelta(hours=2), frozenset({"220104"}))["applied"] == 0


def test_the_stats_command_names_an_unknown_county_and_exits_2(db, capsys):
    args = build_parser().parse_args(["passes", "stats", "--county", "990000", "--json"])
    assert args.func(args) == 2
    assert "未知的区县代码 990000" in capsys.readouterr().err
