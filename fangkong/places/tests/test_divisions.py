"""The shipped divisions of 长春市. conftest.py loads them once per test database."""

import io

import pytest
from django.db.models import Sum

from fangkong.places.loading import (
    CENSUS_CSV,
    census_2020,
    division_objects,
    load_divisions,
)
from fangkong.places.models import Division, Level
from fangkong.places.queries import counties, county_name

pytestmark = pytest.mark.django_db

CURRENT_COUNTIES = {
    "220102": "南关区",
    "220103": "宽城区",
    "220104": "朝阳区",
    "220105": "二道区",
    "220106": "绿园区",
    "220112": "双阳区",
    "220113": "九台区",
    "220122": "农安县",
    "220171": "长春经济技术开发区",
    "220172": "长春净月高新技术产业开发区",
    "220173": "长春高新技术产业开发区",
    "220174": "长春汽车经济技术开发区",
    "220182": "榆树市",
    "220183": "德惠市",
    "220184": "公主岭市",
}
PUBLISHED_TOTAL = 9_066_906


def snapshot():
    return list(Division.objects.order_by("code").values_list())


def test_changchun_has_fifteen_current_county_level_units():
    assert {d.code: d.name for d in counties()} == CURRENT_COUNTIES
    assert [d.code for d in counties()] == sorted(CURRENT_COUNTIES)


def test_the_city_hangs_under_jilin_province():
    city = Division.objects.get(code="220100")
    assert (city.name, city.level, city.parent_id) == ("长春市", Level.CITY, "220000")
    assert Division.objects.get(code="220000").name == "吉林省"


def test_it_loads_231_streets_and_2798_communities():
    assert Division.objects.filter(level=Level.STREET).count() == 231
    assert Division.objects.filter(level=Level.COMMUNITY).count() == 2798


def test_loading_twice_changes_nothing():
    before = snapshot()
    assert load_divisions() == len(before)
    assert snapshot() == before


def test_loading_again_repairs_a_row_edited_by_hand():
    Division.objects.filter(code="220102").update(name="南关", county_code="999999")
    load_divisions()
    assert Division.objects.filter(code="220102", name="南关区", county_code="220102").exists()


def test_loading_reports_what_it_did_when_asked():
    out = io.StringIO()
    load_divisions(stdout=out)
    assert "3046 current divisions" in out.getvalue()


def test_historic_jiutai_city_code_is_kept_but_not_current():
    jiutai = Division.objects.get(code="220181")
    assert jiutai.name == "九台市"
    assert jiutai.is_current is False
    assert jiutai.level == Level.COUNTY
    assert jiutai.parent_id == "220100"
    assert jiutai.county_code == "220113"
    assert jiutai.note == "1989–2014 九台市; 现为九台区 220113"
    assert "220181" not in {d.code for d in counties()}


def test_gongzhuling_keeps_its_siping_code_as_a_historic_unit_of_changchun():
    old = Division.objects.get(code="220381")
    assert (old.name, old.is_current, old.parent_id, old.county_code) == (
        "公主岭市",
        False,
        "220100",
        "220184",
    )
    assert "四平市" in old.note


def test_every_historic_code_of_the_city_is_kept():
    historic = set(Division.objects.filter(is_current=False).values_list("code", flat=True))
    assert {"220111", "220121", "220123", "220124", "220125", "220181", "220381"} <= historic


def test_every_community_belongs_to_a_street_of_its_county():
    streets = dict(Division.objects.filter(level=Level.STREET).values_list("code", "county_code"))
    for code, parent, county in Division.objects.filter(level=Level.COMMUNITY).values_list(
        "code", "parent_id", "county_code"
    ):
        assert parent in streets, code
        assert streets[parent] == county == code[:6], code


def test_every_street_belongs_to_a_current_county():
    current = set(CURRENT_COUNTIES)
    for code, parent, county in Division.objects.filter(level=Level.STREET).values_list(
        "code", "parent_id", "county_code"
    ):
        assert parent == county == code[:6], code
        assert parent in current, code


def test_only_the_four_zones_are_development_zones():
    zones = Division.objects.filter(is_development_zone=True).values_list("code", flat=True)
    assert sorted(zones) == ["220171", "220172", "220173", "220174"]


def test_census_figures_of_the_county_level_units_sum_to_the_published_total():
    figures = census_2020()
    assert figures["220100"] == PUBLISHED_TOTAL
    assert sum(v for code, v in figures.items() if code != "220100") == PUBLISHED_TOTAL
    assert set(figures) - {"220100"} == set(CURRENT_COUNTIES)
    loaded = counties().aggregate(total=Sum("population_2020"))["total"]
    assert loaded == PUBLISHED_TOTAL
    assert Division.objects.get(code="220100").population_2020 == PUBLISHED_TOTAL


def test_the_census_file_names_its_source_and_marks_estimates():
    text = CENSUS_CSV.read_text(encoding="utf-8")
    assert text.startswith("# ")
    assert "公报" in text and "https://" in text
    assert ",estimate" in text and ",published" in text


def test_county_name_knows_current_and_historic_codes():
    assert county_name("220102") == "南关区"
    assert county_name("220102001") == "南关区"
    assert county_name("220181") == "九台市"
    assert county_name("999999") == "999999"


def test_the_files_describe_each_code_once():
    codes = [d.code for d in division_objects()]
    assert len(codes) == len(set(codes))
