"""无疫小区 and 无疫乡镇(街道) are published in numbered batches per kind; a label is withdrawn
(摘牌) with its time and reason and never deleted; totals hold for any date."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from fangkong.audit.models import AuditEntry
from fangkong.places.models import Division
from fangkong.zones.epidemic_free import (
    do_publish_epidemic_free_batch,
    do_withdraw_epidemic_free,
    totals,
)
from fangkong.zones.models import EpidemicFreeLabel
from fangkong.zones.tests.support import NOW

pytestmark = pytest.mark.django_db


def communities(county, n):
    return list(
        Division.objects.filter(level=5, county_code=county, is_current=True)
        .order_by("code")
        .values_list("code", flat=True)[:n]
    )


def towns(county, n):
    return list(
        Division.objects.filter(level=4, county_code=county, is_current=True)
        .order_by("code")
        .values_list("code", flat=True)[:n]
    )


def publish(kind, codes, at=NOW, user=None, **kw):
    # The eligibility rules are tested on their own (test_eligibility*); these tests are about
    # batches, so they publish without a check.
    return do_publish_epidemic_free_batch(user, kind, codes, at, check=None, **kw)


def test_batches_are_numbered_one_two_three_per_kind(make_staff):
    centre = make_staff("command_centre", username="centre")
    first = publish("community", communities("220102", 3), user=centre)
    town = publish("town", towns("220104", 2))
    second = publish("community", communities("220104", 2), at=NOW + timedelta(days=1))
    assert [(b.name, b.labels.count()) for b in (first, town, second)] == [
        ("第1批无疫小区", 3),
        ("第1批无疫乡镇(街道)", 2),
        ("第2批无疫小区", 2),
    ]
    entry = AuditEntry.objects.filter(action="epidemic_free.publish").first()
    assert entry.actor_name == "centre" and entry.detail["count"] == 3


def test_totals_by_district_and_city_hold_for_any_date():
    publish("community", communities("220102", 3))
    publish("community", communities("220104", 2), at=NOW + timedelta(days=1))
    publish("town", towns("220104", 1), at=NOW + timedelta(days=1))
    assert totals(NOW - timedelta(microseconds=1)) == {
        "city": {"community": 0, "town": 0},
        "by_county": {},
        "batches": 0,
    }
    assert totals(NOW)["city"] == {"community": 3, "town": 0}
    later = totals(NOW + timedelta(days=1))
    assert later["city"] == {"community": 5, "town": 1} and later["batches"] == 3
    assert later["by_county"] == {
        "220102": {"community": 3, "town": 0},
        "220104": {"community": 2, "town": 1},
    }


def test_a_withdrawn_label_stays_on_record_and_counts_until_its_withdrawal():
    codes = communities("220102", 2)
    publish("community", codes)
    lapsed = NOW + timedelta(days=3)
    label = do_withdraw_epidemic_free(codes[0], lapsed, "出现阳性感染者")
    assert (label.withdrawn_at, label.withdraw_reason, label.withdrawn_by) == (
        lapsed,
        "出现阳性感染者",
        None,
    )
    assert totals(lapsed - timedelta(microseconds=1))["city"]["community"] == 2
    assert totals(lapsed)["city"]["community"] == 1
    assert EpidemicFreeLabel.objects.count() == 2
    entry = AuditEntry.objects.get(action="epidemic_free.withdraw")
    assert entry.actor_name == "system" and entry.detail["reason"] == "出现阳性感染者"
    assert entry.detail["batch"] == "第1批无疫小区"
    # Withdrawn, it may be granted again by a later batch.
    again = publish("community", [codes[0]], at=NOW + timedelta(days=20))
    assert again.number == 2 and totals(NOW + timedelta(days=20))["city"]["community"] == 2


def test_a_label_withdrawn_by_an_officer_names_them(make_staff):
    officer = make_staff("district_reviewer", ["220102"], username="officer")
    codes = communities("220102", 1)
    publish("community", codes)
    do_withdraw_epidemic_free(codes[0], NOW, "复核发现密接未解除隔离", user=officer)
    assert AuditEntry.objects.get(action="epidemic_free.withdraw").actor_name == "officer"


def test_withdrawing_needs_a_standing_label_a_reason_and_a_time_after_the_grant():
    code = communities("220102", 1)[0]
    with pytest.raises(ValidationError, match="该地区当前没有无疫标识"):
        do_withdraw_epidemic_free(code, NOW, "出现阳性")
    publish("community", [code])
    with pytest.raises(ValidationError, match="摘牌原因:请填写"):
        do_withdraw_epidemic_free(code, NOW, "")
    with pytest.raises(ValidationError, match="摘牌时间:不能早于授牌时间"):
        do_withdraw_epidemic_free(code, NOW - timedelta(hours=1), "出现阳性")


def test_a_batch_with_a_wrong_or_repeated_division_is_refused_naming_each():
    code = communities("220102", 1)[0]
    street = towns("220102", 1)[0]
    with pytest.raises(ValidationError) as refused:
        publish("community", [code, street, "220102999999", code])
    assert refused.value.messages == [
        f"名单第2项:没有代码为 {street} 的社区/村",
        "名单第3项:没有代码为 220102999999 的社区/村",
        f"名单第4项:{Division.objects.get(code=code).name}重复",
    ]
    with pytest.raises(ValidationError, match="名单第1项:没有代码为 .* 的乡镇/街道"):
        publish("town", [code])
    with pytest.raises(ValidationError, match="类别:应为 community"):
        publish("village", [code])
    publish("community", [code])
    with pytest.raises(ValidationError, match="已是无疫小区,未摘牌"):
        publish("community", [code], at=NOW + timedelta(days=1))


def test_the_eligibility_check_decides_whether_the_batch_is_published():
    codes = communities("220102", 2)
    seen = []

    def check(kind, divisions, at):
        seen.append((kind, [d.code for d in divisions], at))
        return {codes[1]: "14天内有新增阳性"}

    with pytest.raises(ValidationError) as refused:
        do_publish_epidemic_free_batch(None, "community", codes, NOW, check=check)
    name = Division.objects.get(code=codes[1]).name
    assert refused.value.messages == [f"{name}({codes[1]})不符合无疫小区条件:14天内有新增阳性"]
    assert seen == [("community", codes, NOW)]
    assert not EpidemicFreeLabel.objects.exists()
    batch = do_publish_epidemic_free_batch(
        None, "community", codes[:1], NOW, check=lambda kind, divisions, at: {}
    )
    assert batch.number == 1
