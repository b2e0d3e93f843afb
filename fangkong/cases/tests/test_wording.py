"""The bulletin's wording, filled from the day's figures (fangkong/cases/bulletin.toml)."""

from datetime import date

from fangkong.cases.figures import Figures
from fangkong.cases.wording import bulletin_text

APRIL_20 = date(2022, 4, 20)
PUBLISHED_2022_04_21 = (
    "4月20日0-24时,全市新增本地确诊病例88例(含32例无症状感染者转为确诊病例),"
    "新增本地无症状感染者233例。以上人员均为隔离管控期间筛查新冠病毒核酸阳性感染者。"
    "4月20日0-24时,我市新增治愈出院确诊病例409例,新增解除隔离医学观察无症状感染者680例。"
)


def test_the_figures_of_april_20_give_the_paragraph_published_on_april_21():
    day = Figures(
        new_confirmed=88,
        of_which_conversions=32,
        new_asymptomatic=233,
        discharged=409,
        released=680,
    )
    assert bulletin_text(APRIL_20, day) == PUBLISHED_2022_04_21


def test_a_case_found_in_community_screening_replaces_the_all_in_control_sentence():
    day = Figures(new_confirmed=5, new_asymptomatic=10, found_in_community=2)
    text = bulletin_text(APRIL_20, day)
    assert "其中社会面筛查发现2例。" in text
    assert "以上人员均为" not in text


def test_a_day_without_conversions_says_nothing_of_them():
    text = bulletin_text(date(2022, 5, 3), Figures(new_confirmed=1, new_asymptomatic=2))
    assert text.startswith("5月3日0-24时,全市新增本地确诊病例1例,新增本地无症状感染者2例。")


def test_a_day_of_conversions_alone_makes_no_claim_about_where_cases_were_found():
    text = bulletin_text(APRIL_20, Figures(new_confirmed=3, of_which_conversions=3))
    assert "(含3例无症状感染者转为确诊病例)" in text
    assert "以上人员" not in text and "社会面" not in text


def test_a_day_without_new_cases_says_so():
    text = bulletin_text(APRIL_20, Figures(discharged=7))
    assert text == (
        "4月20日0-24时,全市无新增本地确诊病例和无症状感染者。"
        "4月20日0-24时,我市新增治愈出院确诊病例7例,新增解除隔离医学观察无症状感染者0例。"
    )
