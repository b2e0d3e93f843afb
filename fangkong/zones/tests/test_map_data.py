"""The map's figures are `zones stats` split by county: the counties add up to the city's counts
exactly, and every county of the city is either drawn on the map or listed beside it."""

from datetime import timedelta

import pytest

from fangkong.places.models import Division, Level
from fangkong.places.queries import counties
from fangkong.zones.actions import do_issue_notice
from fangkong.zones.epidemic_free import do_publish_epidemic_free_batch, do_withdraw_epidemic_free
from fangkong.zones.map_data import county_counts, shape_names, summed
from fangkong.zones.stats import zone_stats
from fangkong.zones.tests.support import NOW

NANGUAN, CHAOYANG, JINGKAI, GONGZHULING = "220102", "220104", "220171", "220184"
ON_THE_MAP = {
    "南关区", "宽城区", "朝阳区", "二道区", "绿园区", "双阳区", "九台区",
    "农安县", "榆树市", "德惠市",
}  # fmt: skip
OFF_THE_MAP = (  # by code: 220171–220174, 220184
    "长春经济技术开发区",
    "长春净月高新技术产业开发区",
    "长春高新技术产业开发区",
    "长春汽车经济技术开发区",
    "公主岭市",
)


def communities(county, n):
    return list(
        Division.objects.filter(level=Level.COMMUNITY, county_code=county)
        .order_by("code")
        .values_list("code", flat=True)[:n]
    )


def notice(scheme, entries, at, until=None):
    do_issue_notice(
        title="关于调整部分区域的通告",
        scheme=scheme,
        entries=entries,
        effective_from=at,
        effective_until=until,
        now=at,
    )


@pytest.fixture
def population(db):
    """Levels of both schemes in four counties (a development zone and 公主岭市 among them), a
    48-hour 管控 that has ended, a decision not yet in effect, and epidemic-free labels, one of
    them withdrawn."""
    n, c, j, g = (communities(code, 4) for code in (NANGUAN, CHAOYANG, JINGKAI, GONGZHULING))
    day = timedelta(days=1)
    start = NOW - 3 * day
    notice("three_zones", [(n[0], "lockdown"), (n[1], "control"), (c[0], "lockdown")], start)
    notice("three_zones", [(n[2], "prevention"), (j[0], "control"), (g[0], "prevention")], start)
    notice("risk_areas", [(n[0], "high"), (c[0], "high"), (c[1], "medium"), (j[1], "low")], start)
    # A 48-hour 管控 over a 防范区, ended: the 防范区 stands again.
    notice("three_zones", [(n[2], "control")], start + day, until=start + 2 * day)
    # Published, but in effect only from tomorrow.
    do_issue_notice(
        title="自明日起调整为高风险区",
        scheme="risk_areas",
        entries=[(g[1], "high")],
        effective_from=NOW + day,
        now=NOW,
    )
    do_publish_epidemic_free_batch(None, "community", [n[3], c[2], c[3], j[2]], start, check=None)
    do_withdraw_epidemic_free(c[3], start + day, "出现阳性感染者")
    town = Division.objects.filter(level=Level.STREET, county_code=GONGZHULING).first()
    do_publish_epidemic_free_batch(None, "town", [town.code], start, check=None)


def by_code(rows):
    return {r.code: r for r in rows}


def test_the_counties_add_up_to_zones_stats(population):
    at = NOW + timedelta(hours=1)
    rows = county_counts(at)
    stats = zone_stats(at)
    totals = summed(rows)
    assert totals["zones"] == stats["zones"] == {"lockdown": 2, "control": 2, "prevention": 2}
    assert totals["risk_areas"] == stats["risk_areas"] == {"high": 2, "medium": 1, "low": 1}
    assert totals["epidemic_free"] == {"communities": 3, "towns": 1}
    assert stats["epidemic_free"] == {**totals["epidemic_free"], "batches": 2}


def test_each_county_has_the_levels_of_its_own_communities(population):
    rows = by_code(county_counts(NOW + timedelta(hours=1)))
    nanguan, chaoyang, jingkai, gongzhuling = (
        rows[c] for c in (NANGUAN, CHAOYANG, JINGKAI, GONGZHULING)
    )
    assert nanguan.levels == {
        "lockdown": 1, "control": 1, "prevention": 1, "high": 1, "medium": 0, "low": 0,
    }  # fmt: skip
    assert nanguan.free == {"communities": 1, "towns": 0}
    assert chaoyang.levels["lockdown"] == chaoyang.levels["high"] == chaoyang.levels["medium"] == 1
    assert chaoyang.free == {"communities": 1, "towns": 0}  # the other one withdrawn
    assert jingkai.levels["control"] == jingkai.levels["low"] == jingkai.free["communities"] == 1
    assert gongzhuling.levels["prevention"] == 1 and gongzhuling.levels["high"] == 0
    assert gongzhuling.free == {"communities": 0, "towns": 1}
    assert sum(rows[c].levels["lockdown"] for c in rows if c not in (NANGUAN, CHAOYANG)) == 0


def test_a_community_in_lockdown_and_high_risk_is_coloured_once(population):
    rows = by_code(county_counts(NOW + timedelta(hours=1)))
    assert rows[NANGUAN].severe == 1  # 封控区 and 高风险区 both
    assert rows[CHAOYANG].severe == 1
    assert rows[JINGKAI].severe == 0


def test_the_counts_follow_the_time_asked_for(population):
    before = summed(county_counts(NOW - timedelta(days=4)))
    assert before["zones"] == {"lockdown": 0, "control": 0, "prevention": 0}
    first_day = by_code(county_counts(NOW - timedelta(days=3) + timedelta(hours=1)))
    assert first_day[NANGUAN].levels["control"] == 1
    assert first_day[CHAOYANG].free["communities"] == 2  # not yet withdrawn
    second_day = by_code(county_counts(NOW - timedelta(days=2) + timedelta(hours=1)))
    assert second_day[NANGUAN].levels["control"] == 2  # the 48-hour 管控 in force
    assert second_day[CHAOYANG].free["communities"] == 1
    tomorrow = by_code(county_counts(NOW + timedelta(days=1, hours=1)))
    assert tomorrow[GONGZHULING].levels["high"] == 1
    risk_areas = summed(list(tomorrow.values()))["risk_areas"]
    assert risk_areas == zone_stats(NOW + timedelta(days=1, hours=1))["risk_areas"]


def test_a_scope_keeps_only_its_counties(population):
    rows = county_counts(NOW + timedelta(hours=1), frozenset({CHAOYANG}))
    assert [r.name for r in rows] == ["朝阳区"]
    assert rows[0].levels["lockdown"] == 1


def test_every_shape_in_the_file_is_a_county_of_the_city(db):
    names = shape_names()
    assert len(names) == len(set(names)) == 10
    current = {c.name for c in counties()}
    assert set(names) <= current
    assert set(names) == ON_THE_MAP


def test_every_county_is_on_the_map_or_listed_beside_it(db):
    rows = county_counts(NOW)
    assert len(rows) == 15 == counties().count()
    assert {r.name for r in rows if r.on_map} == ON_THE_MAP
    assert [r.name for r in rows if not r.on_map] == list(OFF_THE_MAP)
