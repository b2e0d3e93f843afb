"""A zone decision is proposed, approved by someone else and published as a numbered notice; its
levels take effect at the notice's time, and the residents' codes follow."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fangkong.audit.models import AuditEntry
from fangkong.ingest.tests.support import community
from fangkong.places.models import CommunityZone
from fangkong.zones.actions import (
    do_approve,
    do_issue_notice,
    do_propose,
    do_publish_decision,
    do_reject,
)
from fangkong.zones.models import DecisionStatus, ZoneDecision
from fangkong.zones.queries import current_level, current_zone, decision_impact, history
from fangkong.zones.tests.support import NOW, colours, nanguan, propose, zone_policies

pytestmark = pytest.mark.django_db
__all__ = ["nanguan", "zone_policies"]  # fixtures


@pytest.fixture
def people(make_staff):
    return {
        "reviewer": make_staff("district_reviewer", ["220102"], username="nanguan-reviewer"),
        "other_reviewer": make_staff("district_reviewer", ["220102"], username="nanguan-2"),
        "chaoyang": make_staff("district_reviewer", ["220104"], username="chaoyang-reviewer"),
        "centre": make_staff("command_centre", username="centre"),
        "auditor": make_staff("auditor", username="auditor"),
    }


def test_a_published_lockdown_turns_the_residents_yellow_at_once(nanguan, zone_policies, people):
    decision = propose(people["reviewer"], [(nanguan.code, "lockdown")], number=12)
    assert decision.status == DecisionStatus.PROPOSED and not CommunityZone.objects.exists()
    do_approve(people["centre"], decision.pk, NOW + timedelta(minutes=5))
    published = do_publish_decision(people["centre"], decision.pk, NOW + timedelta(minutes=10))
    assert published.codes.evaluated == 25 and published.codes.changed == 25
    assert colours(nanguan.code) == ({"yellow"}, 25)
    zone = CommunityZone.objects.get()
    assert (zone.level, zone.start_at, zone.recorded_at, zone.decision_id) == (
        "lockdown",
        NOW,
        NOW + timedelta(minutes=10),
        decision.pk,
    )
    assert zone.decided_by == "长春市新冠肺炎疫情防控工作领导小组"
    decision.refresh_from_db()
    assert decision.notice == "长春市新冠肺炎疫情防控工作领导小组通告(第12号)"
    assert (decision.approved_by, decision.published_by) == (people["centre"], people["centre"])
    steps = AuditEntry.objects.filter(target_type="zone_decision").order_by("id")
    assert [(e.action, e.actor_name) for e in steps] == [
        ("zone.propose", "nanguan-reviewer"),
        ("zone.approve", "centre"),
        ("zone.publish", "centre"),
    ]
    assert steps[0].detail["levels"] == {"封控区": 1}


def test_a_decision_for_the_future_changes_nothing_until_its_time(nanguan, zone_policies, people):
    evening = NOW.replace(hour=18)
    decision = propose(
        people["reviewer"], [(nanguan.code, "control")], effective_from=evening, number=3
    )
    do_approve(people["other_reviewer"], decision.pk, NOW)
    published = do_publish_decision(people["other_reviewer"], decision.pk, NOW)
    assert published.codes is None
    assert current_level(nanguan.code, evening - timedelta(microseconds=1)) is None
    assert current_level(nanguan.code, evening) == "control"
    assert [(r.level, r.upcoming) for r in history(nanguan.code, NOW)] == [("control", True)]


def test_a_temporary_level_ends_by_itself_and_the_earlier_one_stands_again(nanguan, people):
    do_issue_notice(
        title="全域封控",
        scheme="three_zones",
        entries=[(nanguan.code, "lockdown")],
        effective_from=NOW - timedelta(days=5),
        now=NOW - timedelta(days=5),
    )
    until = NOW + timedelta(days=2)
    do_issue_notice(
        title="临时管控",
        scheme="three_zones",
        entries=[(nanguan.code, "control")],
        effective_from=NOW,
        effective_until=until,
        now=NOW,
    )
    assert current_zone(nanguan.code, until - timedelta(microseconds=1)).level == "control"
    assert current_zone(nanguan.code, until).level == "lockdown"


def test_risk_areas_and_zones_stand_side_by_side(nanguan, zone_policies, people):
    do_issue_notice(
        title="调整为中风险区",
        scheme="risk_areas",
        entries=[(nanguan.code, "medium")],
        effective_from=NOW,
        now=NOW,
    )
    assert colours(nanguan.code) == ({"yellow"}, 25)
    assert current_level(nanguan.code, NOW) is None  # the exit rules read the three zones only
    assert current_zone(nanguan.code, NOW, "risk_areas").label == "中风险区"
    do_issue_notice(
        title="调整为低风险区",
        scheme="risk_areas",
        entries=[(nanguan.code, "low")],
        effective_from=NOW + timedelta(hours=8),
        now=NOW + timedelta(hours=8),
    )
    assert colours(nanguan.code) == ({"green"}, 25)


def test_the_proposer_cannot_approve_their_own_proposal(nanguan, people):
    decision = propose(people["reviewer"], [(nanguan.code, "lockdown")])
    with pytest.raises(PermissionDenied, match="不能批准自己提出的调整"):
        do_approve(people["reviewer"], decision.pk, NOW)
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.PROPOSED


def test_only_deciders_of_every_county_concerned_may_act(nanguan, people):
    chaoyang = community("220104")
    with pytest.raises(PermissionDenied, match="不在您负责的区县"):
        propose(people["chaoyang"], [(nanguan.code, "lockdown")])
    with pytest.raises(PermissionDenied, match="您的角色无权调整风险区划"):
        propose(people["auditor"], [(nanguan.code, "lockdown")])
    both = propose(people["centre"], [(nanguan.code, "lockdown"), (chaoyang.code, "control")])
    with pytest.raises(PermissionDenied, match="不在您负责的区县"):
        do_approve(people["reviewer"], both.pk, NOW)
    assert not AuditEntry.objects.filter(action="zone.approve").exists()


def test_approving_twice_or_publishing_a_proposal_is_refused(nanguan, people):
    decision = propose(people["reviewer"], [(nanguan.code, "lockdown")])
    with pytest.raises(ValidationError, match="当前状态为“待审核”,不能执行此操作"):
        do_publish_decision(people["centre"], decision.pk, NOW)
    do_approve(people["centre"], decision.pk, NOW)
    with pytest.raises(ValidationError, match="当前状态为“已批准,待发布”"):
        do_approve(people["other_reviewer"], decision.pk, NOW)


def test_a_rejected_decision_keeps_its_reason_and_gives_its_number_back(nanguan, people):
    decision = propose(people["reviewer"], [(nanguan.code, "lockdown")], number=7)
    with pytest.raises(ValidationError, match="驳回理由:请填写"):
        do_reject(people["centre"], decision.pk, "  ", NOW)
    do_reject(people["centre"], decision.pk, "该小区已连续14天无新增", NOW)
    decision.refresh_from_db()
    assert (decision.status, decision.reject_reason, decision.rejected_by) == (
        "rejected",
        "该小区已连续14天无新增",
        people["centre"],
    )
    with pytest.raises(ValidationError, match="当前状态为“已驳回”"):
        do_approve(people["other_reviewer"], decision.pk, NOW)
    again = propose(people["reviewer"], [(nanguan.code, "control")], number=7)
    with pytest.raises(ValidationError, match="通告编号:第7号已被使用"):
        propose(people["reviewer"], [(nanguan.code, "control")], number=7)
    assert again.number == 7 and not CommunityZone.objects.exists()


def test_a_notice_without_a_number_gets_the_next_one_when_published(nanguan, people):
    propose(people["reviewer"], [(nanguan.code, "lockdown")], number=20)
    decision = propose(people["reviewer"], [(nanguan.code, "control")])
    assert "编号待定" in decision.notice
    do_approve(people["centre"], decision.pk, NOW)
    do_publish_decision(people["centre"], decision.pk, NOW)
    decision.refresh_from_db()
    assert decision.number == 21


def test_every_problem_of_a_proposal_is_named_with_its_field_or_row(nanguan, people):
    street = nanguan.parent
    with pytest.raises(ValidationError) as refused:
        do_propose(
            people["reviewer"],
            title=" ",
            scheme="three_zones",
            entries=[
                (nanguan.code, "high"),
                ("220102999999", "lockdown"),
                (street.code, "control"),
                (nanguan.code, "lockdown"),
                (nanguan.code, "control"),
            ],
            effective_from=NOW - timedelta(days=8),
            effective_until=NOW - timedelta(days=9),
            number=0,
            now=NOW,
        )
    assert refused.value.messages == [
        "标题:请填写通告标题",
        "通告编号:应为正整数",
        "生效时间:不能早于7天前",
        "截止时间:应晚于生效时间",
        f"第1条:{nanguan.name}的级别应为防范区、管控区、封控区之一",
        "第2条:没有代码为 220102999999 的社区/村",
        f"第3条:没有代码为 {street.code} 的社区/村",
        f"第5条:{nanguan.name}在本通告中重复出现",
    ]
    with pytest.raises(ValidationError) as empty:
        propose(people["reviewer"], [], scheme="zones")
    assert empty.value.messages == [
        "划分方式:应为三区划分(three_zones)或风险区(risk_areas)",
        "调整条目:至少列出一个社区",
    ]
    assert not ZoneDecision.objects.exists()


def test_the_system_proposes_with_its_evidence_and_a_person_approves(nanguan, people):
    evidence = {"last_positive": "2022-04-19T08:00:00+08:00", "screened": 25, "negative": 25}
    decision = do_propose(
        None,
        title="阳性感染者所在小区调整为封控区",
        scheme="three_zones",
        entries=[(nanguan.code, "lockdown")],
        effective_from=NOW,
        now=NOW,
        source="auto",
        evidence=evidence,
    )
    entry = AuditEntry.objects.get(action="zone.propose.auto")
    assert entry.actor_name == "system" and entry.target_id == str(decision.pk)
    assert decision.evidence == evidence and decision.proposed_by is None
    do_approve(people["reviewer"], decision.pk, NOW)
    assert ZoneDecision.objects.get().status == DecisionStatus.APPROVED


def test_the_impact_counts_the_residents_and_the_communities_that_change(nanguan, people):
    other = community("220104")
    do_issue_notice(
        title="封控",
        scheme="three_zones",
        entries=[(other.code, "control")],
        effective_from=NOW,
        now=NOW,
    )
    decision = propose(people["centre"], [(nanguan.code, "lockdown"), (other.code, "control")])
    impact = decision_impact(decision, NOW)
    assert (impact.residents, impact.changing, impact.changing_residents) == (30, 1, 25)
    assert [r.standing.level if r.standing else None for r in impact.rows] == [None, "control"]


def test_a_published_decision_still_shows_the_level_it_changed(nanguan, people):
    decision = propose(people["reviewer"], [(nanguan.code, "lockdown")], effective_from=NOW)
    do_approve(people["centre"], decision.pk, NOW)
    do_publish_decision(people["centre"], decision.pk, NOW)
    decision.refresh_from_db()
    impact = decision_impact(decision, NOW + timedelta(days=1))
    assert [r.standing for r in impact.rows] == [None] and impact.changing == 1


def test_the_clock_is_woken_for_a_future_decision_and_applies_it_at_its_instant(
    nanguan, zone_policies, people
):
    from fangkong.clock.actions import do_sweep
    from fangkong.clock.scheduling import waiting
    from fangkong.clock.tests.worker import sweeps_done

    evening, until = NOW.replace(hour=18), NOW + timedelta(days=2)
    do_sweep(NOW)
    sweeps_done()
    decision = propose(
        people["reviewer"],
        [(nanguan.code, "lockdown")],
        effective_from=evening,
        effective_until=until,
    )
    do_approve(people["centre"], decision.pk, NOW)
    do_publish_decision(people["centre"], decision.pk, NOW)
    assert waiting().run_after == evening
    do_sweep(evening - timedelta(minutes=1))
    assert "yellow" not in colours(nanguan.code)[0]
    do_sweep(evening)
    assert colours(nanguan.code) == ({"yellow"}, 25)
    do_sweep(until)
    assert colours(nanguan.code) == ({"green"}, 25)
