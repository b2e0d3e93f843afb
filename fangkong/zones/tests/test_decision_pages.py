"""The decision pages: a reviewer proposes a notice, another officer approves it and publishes it;
each sees only the decisions of their districts, and the detail shows who is affected."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from fangkong.ingest.tests.support import community
from fangkong.places.models import CommunityZone
from fangkong.zones.models import DecisionStatus, ZoneDecision
from fangkong.zones.tests.support import NOW, colours, nanguan, propose, zone_policies

pytestmark = pytest.mark.django_db
__all__ = ["nanguan", "zone_policies"]  # fixtures


@pytest.fixture
def staff(make_staff):
    return {
        "reviewer": make_staff("district_reviewer", ["220102"], username="nanguan-reviewer"),
        "second": make_staff("district_reviewer", ["220102"], username="nanguan-second"),
        "chaoyang": make_staff("district_reviewer", ["220104"], username="chaoyang-reviewer"),
        "auditor": make_staff("auditor", username="auditor"),
    }


def as_(user):
    client = Client()
    client.force_login(user)
    return client


def form(code, level="封控区", **extra):
    return {
        "title": "关于将华阳社区调整为封控区的通告",
        "scheme": "three_zones",
        "number": "12",
        "effective_from": "",
        "effective_until": "",
        "entries": f"{code} {level}",
        **extra,
    }


def test_propose_approve_publish_and_the_residents_turn_yellow(nanguan, zone_policies, staff):
    reviewer, second = as_(staff["reviewer"]), as_(staff["second"])
    with time_machine.travel(NOW, tick=False):
        proposed = reviewer.post(reverse("zones:decision_new"), form(nanguan.code), follow=True)
        decision = ZoneDecision.objects.get()
        page = proposed.content.decode()
        assert "已提出“关于将华阳社区调整为封控区的通告”,待另一位负责人审核。" in page
        assert "这是您提出的调整,须由另一位负责人批准。" in page
        assert 'id="impact-residents">25<' in page
        detail = second.get(reverse("zones:decision", args=[decision.pk])).content.decode()
        assert "批准</button>" in detail
        second.post(reverse("zones:decision_approve", args=[decision.pk]))
        published = second.post(
            reverse("zones:decision_publish", args=[decision.pk]), follow=True
        ).content.decode()
    assert (
        "已发布长春市新冠肺炎疫情防控工作领导小组通告(第12号),即时生效。"
        "重新判定25名居民的健康码,25人的健康码颜色变化(绿→黄 25)"
    ) in published
    assert colours(nanguan.code) == ({"yellow"}, 25)
    decision.refresh_from_db()
    assert (decision.status, decision.approved_by, decision.published_by) == (
        "published",
        staff["second"],
        staff["second"],
    )


def test_the_proposer_is_told_to_find_someone_else_when_approving(nanguan, staff):
    decision = propose(staff["reviewer"], [(nanguan.code, "lockdown")])
    reviewer = as_(staff["reviewer"])
    response = reviewer.post(reverse("zones:decision_approve", args=[decision.pk]), follow=True)
    assert "不能批准自己提出的调整,请由另一位负责人审核" in response.content.decode()
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.PROPOSED


def test_a_decision_for_later_says_when_it_will_apply(nanguan, zone_policies, staff):
    reviewer, second = as_(staff["reviewer"]), as_(staff["second"])
    with time_machine.travel(NOW, tick=False):
        reviewer.post(
            reverse("zones:decision_new"),
            form(nanguan.code, "管控区", effective_from="2022-04-20T18:00"),
        )
        decision = ZoneDecision.objects.get()
        second.post(reverse("zones:decision_approve", args=[decision.pk]))
        page = second.post(
            reverse("zones:decision_publish", args=[decision.pk]), follow=True
        ).content.decode()
    assert "将于2022-04-20 18:00起生效" in page
    assert "yellow" not in colours(nanguan.code)[0]  # not before 18:00
    assert CommunityZone.objects.get().start_at == NOW.replace(hour=18)


def test_a_rejection_needs_a_reason_and_shows_it(nanguan, staff):
    decision = propose(staff["reviewer"], [(nanguan.code, "lockdown")])
    second = as_(staff["second"])
    empty = second.post(reverse("zones:decision_reject", args=[decision.pk]), {"reason": ""})
    assert empty.status_code == 400
    page = second.post(
        reverse("zones:decision_reject", args=[decision.pk]),
        {"reason": "阳性为外地返长人员,已闭环转运"},
        follow=True,
    ).content.decode()
    assert "已驳回。" in page and "阳性为外地返长人员,已闭环转运" in page
    assert ZoneDecision.objects.get().status == "rejected"


def test_a_wrong_proposal_is_answered_on_the_form_naming_each_line(nanguan, staff):
    reviewer = as_(staff["reviewer"])
    with time_machine.travel(NOW, tick=False):
        bad_line = reviewer.post(
            reverse("zones:decision_new"), form(nanguan.code, "红色", entries="x\n220102001001")
        )
        wrong_level = reviewer.post(reverse("zones:decision_new"), form(nanguan.code, "高风险区"))
    assert bad_line.status_code == 400
    text = bad_line.content.decode()
    assert "第1行应为“社区代码 级别”" in text and "第2行应为“社区代码 级别”" in text
    assert wrong_level.status_code == 400
    assert (
        f"第1条:{nanguan.name}的级别应为防范区、管控区、封控区之一" in wrong_level.content.decode()
    )
    assert not ZoneDecision.objects.exists()


def test_another_district_sees_no_decision_of_ours_and_cannot_act_on_it(nanguan, staff):
    decision = propose(staff["reviewer"], [(nanguan.code, "lockdown")])
    chaoyang = as_(staff["chaoyang"])
    assert chaoyang.get(reverse("zones:decision", args=[decision.pk])).status_code == 404
    approve = chaoyang.post(reverse("zones:decision_approve", args=[decision.pk]))
    assert approve.status_code == 404
    listing = chaoyang.get(reverse("zones:decisions")).content.decode()
    assert "没有调整决定。" in listing
    mine = as_(staff["second"]).get(reverse("zones:decisions")).content.decode()
    assert decision.title in mine
    refused = chaoyang.post(reverse("zones:decision_new"), form(nanguan.code))
    assert (
        refused.status_code == 400 and "调整涉及的社区不在您负责的区县" in refused.content.decode()
    )
    # A community of their own is prefilled; ours is not.
    own = community("220104")
    prefilled = chaoyang.get(reverse("zones:decision_new"), {"community": own.code})
    assert f"{own.code} </textarea>" in prefilled.content.decode()
    not_prefilled = chaoyang.get(reverse("zones:decision_new"), {"community": nanguan.code})
    assert f"{nanguan.code} </textarea>" not in not_prefilled.content.decode()


def test_an_auditor_reads_decisions_but_may_not_propose_or_approve(nanguan, staff):
    decision = propose(staff["reviewer"], [(nanguan.code, "lockdown")])
    auditor = as_(staff["auditor"])
    page = auditor.get(reverse("zones:decision", args=[decision.pk])).content.decode()
    assert decision.title in page and "批准</button>" not in page
    assert auditor.get(reverse("zones:decision_new")).status_code == 403
    assert auditor.post(reverse("zones:decision_approve", args=[decision.pk])).status_code == 403
    assert ZoneDecision.objects.get().status == DecisionStatus.PROPOSED


def test_every_step_requires_the_csrf_token(nanguan, staff):
    decision = propose(staff["reviewer"], [(nanguan.code, "lockdown")])
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff["second"])
    assert strict.post(reverse("zones:decision_approve", args=[decision.pk])).status_code == 403
    assert strict.post(reverse("zones:decision_new"), form(nanguan.code)).status_code == 403
    assert ZoneDecision.objects.get().status == DecisionStatus.PROPOSED


def test_the_decision_list_filters_by_status(nanguan, staff):
    first = propose(staff["reviewer"], [(nanguan.code, "lockdown")], title="第一份")
    propose(staff["reviewer"], [(nanguan.code, "control")], title="第二份")
    as_(staff["second"]).post(reverse("zones:decision_approve", args=[first.pk]))
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        approved = as_(staff["second"]).get(reverse("zones:decisions"), {"status": "approved"})
    html = approved.content.decode()
    assert "第一份" in html and "第二份" not in html


def test_an_automatic_proposal_shows_its_evidence_to_the_officer(nanguan, staff):
    from fangkong.zones.actions import do_propose

    decision = do_propose(
        None,
        title="阳性感染者所在小区划为封控区",
        scheme="three_zones",
        entries=[(nanguan.code, "lockdown")],
        effective_from=NOW,
        now=NOW,
        source="auto",
        evidence={"last_positive": "2022-04-19T08:00:00+08:00", "screened": 25},
    )
    page = as_(staff["reviewer"]).get(reverse("zones:decision", args=[decision.pk]))
    html = page.content.decode()
    assert "系统按规则自动提出" in html and "批准</button>" in html
    assert "&quot;last_positive&quot;: &quot;2022-04-19T08:00:00+08:00&quot;" in html
