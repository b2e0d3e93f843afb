"""Acting on eligibility: a positive proposes 封控 at once and withdraws a 无疫 label with the
reason; publishing a batch refuses communities the rules do not find eligible then."""

import pytest
from django.core.exceptions import ValidationError

from fangkong.audit.models import AuditEntry
from fangkong.places.models import CommunityZone
from fangkong.zones.actions import do_reject
from fangkong.zones.eligibility_actions import do_assess
from fangkong.zones.epidemic_free import do_publish_epidemic_free_batch
from fangkong.zones.models import DecisionSource, DecisionStatus, EpidemicFreeLabel, ZoneDecision
from fangkong.zones.tests.test_eligibility_timelines import (  # noqa: F401 (a fixture)
    bj,
    street_fixture,
)

pytestmark = pytest.mark.django_db


def control(code, since):
    CommunityZone.objects.create(
        community_id=code, level="control", start_at=since, recorded_at=since
    )


def test_a_positive_in_a_control_zone_proposes_a_lockdown_once(street, make_staff):
    control(street.a, bj(4, 5))
    street.case(street.people[street.a][0], bj(4, 11, 8), "P-1", bj(4, 12, 8))
    outcome = do_assess(bj(4, 12, 9), ["220102"])
    [decision] = ZoneDecision.objects.all()
    assert outcome.proposed == [decision.pk]
    assert (decision.source, decision.status, decision.scheme) == (
        DecisionSource.AUTO,
        DecisionStatus.PROPOSED,
        "three_zones",
    )
    assert list(decision.entries.values_list("community_id", "level")) == [(street.a, "lockdown")]
    assert decision.evidence["reasons"] == [
        "管控区内新增阳性感染者1例(最近一例采样于2022-04-11 08:00,"
        "入库于2022-04-12 08:01),应即划为封控区"
    ]
    assert decision.evidence["assessment"]["evidence"]["last_positive_sampled_at"] == (
        "2022-04-11T08:00:00+08:00"
    )
    assert AuditEntry.objects.filter(action="zone.propose.auto").count() == 1
    assert do_assess(bj(4, 12, 10), ["220102"]).proposed == []
    do_reject(make_staff("command_centre"), decision.pk, "已由区里核实为外地病例", bj(4, 12, 11))
    assert do_assess(bj(4, 12, 12), ["220102"]).proposed == []
    street.case(street.people[street.a][1], bj(4, 13, 8), "P-2", bj(4, 13, 20))
    assert len(do_assess(bj(4, 13, 21), ["220102"]).proposed) == 1


def test_a_positive_in_an_epidemic_free_community_withdraws_its_label_and_proposes_a_lockdown(
    street,
):
    street.negative_round(street.b, 16, "R-16")
    do_publish_epidemic_free_batch(None, "community", [street.b], bj(4, 17))
    street.case(street.people[street.b][0], bj(4, 19, 8), "P-1", bj(4, 20, 8))
    assert do_assess(bj(4, 19, 12), ["220102"]).withdrawn == []
    outcome = do_assess(bj(4, 20, 9), ["220102"])
    assert outcome.withdrawn == [street.b]
    label = EpidemicFreeLabel.objects.get(division_id=street.b)
    assert label.withdrawn_at == bj(4, 20, 9) and label.withdrawn_by is None
    assert label.withdraw_reason == (
        "不再符合条件:末例阳性感染者采样于2022-04-19 08:00,连续无新增仅0天,"
        "不足14天(2022-05-04 00:00起满足);2022-04-18 00:00以来的筛查:居民3人,已采样1人,"
        "阴性0人,未采样2人,混管阳性待复核0人,阳性1人,结果未出0人"
    )
    entry = AuditEntry.objects.get(action="epidemic_free.withdraw")
    assert entry.actor_name == "system" and entry.detail["division"] == street.b
    [decision] = ZoneDecision.objects.filter(pk__in=outcome.proposed)
    assert list(decision.entries.values_list("community_id", "level")) == [(street.b, "lockdown")]


def test_publishing_a_batch_refuses_a_community_not_eligible_then(street):
    street.negative_round(street.a, 16, "R-A")
    street.case(street.people[street.b][0], bj(4, 10, 8), "P-1", bj(4, 10, 20))
    with pytest.raises(ValidationError) as refused:
        do_publish_epidemic_free_batch(None, "community", [street.a, street.b], bj(4, 17))
    [message] = refused.value.messages
    assert message.startswith(f"{street.names[street.b]}({street.b})不符合无疫小区条件:")
    assert "连续无新增仅6天,不足14天" in message and "未采样3人" in message
    assert not EpidemicFreeLabel.objects.exists()
    batch = do_publish_epidemic_free_batch(None, "community", [street.a], bj(4, 17))
    assert batch.labels.count() == 1


def test_a_town_is_published_only_when_all_of_it_qualifies(street):
    street.negative_round(street.a, 16, "R-A")
    with pytest.raises(ValidationError) as refused:
        do_publish_epidemic_free_batch(None, "town", [street.town.code], bj(4, 17))
    assert "不符合无疫乡镇(街道)条件" in refused.value.messages[0]
    street.negative_round(street.b, 16, "R-B")
    assert do_publish_epidemic_free_batch(None, "town", [street.town.code], bj(4, 17))
