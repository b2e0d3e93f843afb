"""An official sets a community's common exit rules field by field, without writing TOML: the
form publishes what the rule text would, through the same audited action, and says in Chinese
which field is wrong."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from fangkong.audit.models import AuditEntry
from fangkong.exits.actions import do_publish_rules, load_default_rules
from fangkong.exits.models import ExitRuleSet
from fangkong.exits.rules import as_text, read_rules, rules_for
from fangkong.exits.tests.support import MORNING
from fangkong.places.models import Division

pytestmark = pytest.mark.django_db

FILLED = {
    "zone_levels": ["prevention", "control"],
    "allow_unzoned": "on",
    "per_household_per_day": "2",
    "opens": "07:00",
    "closes": "19:30",
    "pass_minutes": "120",
    "colours": ["green"],
    "requires_pcr": "on",
    "pcr_negative_within_hours": "24",
    "note": "五一前放宽",
}
SAME_AS_TEXT = """
zone_levels = ["prevention", "control"]
allow_unzoned = true
per_household_per_day = 2
opens = "07:00"
closes = "19:30"
colours = ["green"]
pcr_negative_within_hours = 24
pass_minutes = 120
"""


def ticked(page, name) -> list[str]:
    """The ticked boxes of a field of the rules form: their values, "on" for a lone box."""
    boxes = re.findall(rf'<input type="checkbox" name="r-{name}"[^>]*>', page)
    return [
        re.search(r'value="([^"]*)"', box).group(1) if "value=" in box else "on"
        for box in boxes
        if re.search(r"\schecked[\s>]", box)
    ]


def nanguan_communities():
    return list(Division.objects.filter(level=5, county_code="220102").order_by("code")[:2])


def fill_in(client, code, **changes):
    values = {**FILLED, **changes}
    posted = {f"r-{name}": value for name, value in values.items() if value is not None}
    url = reverse("zones:exit_rules", args=[code])
    return client.post(url, {"editor": "form", **posted})


@pytest.fixture
def reviewer(city, client, make_staff):
    load_default_rules()
    client.force_login(make_staff("district_reviewer", ["220102"]))
    return client


def test_the_form_publishes_the_same_rules_as_the_rule_text(reviewer, make_staff):
    home, neighbour = nanguan_communities()
    with time_machine.travel(MORNING, tick=False):
        page = reviewer.get(reverse("zones:exit_rules", args=[home.code])).content.decode()
        response = fill_in(reviewer, home.code)
        shown = reviewer.get(response["Location"]).content.decode()
        do_publish_rules(make_staff("command_centre"), neighbour.code, SAME_AS_TEXT, MORNING)
    # the form starts from the rules in force (the city default)
    assert 'name="r-per_household_per_day" value="1"' in page
    assert 'name="r-opens" value="06:00"' in page and 'name="r-closes" value="20:00"' in page
    assert ticked(page, "zone_levels") == ["prevention"] and ticked(page, "colours") == ["green"]
    assert ticked(page, "allow_unzoned") == ticked(page, "requires_pcr") == ["on"]
    assert response.status_code == 302
    assert "本社区规则" in shown and "外出时段为每天07:00至19:30" in shown
    assert "防范区、管控区小区的居民可申请" in shown and "每户每天限2人次外出" in shown
    assert "须有24小时内核酸阴性记录" in shown and "五一前放宽" in shown
    by_form, by_text = (ExitRuleSet.objects.get(community=c) for c in (home, neighbour))
    assert by_form.rules == by_text.rules == read_rules(SAME_AS_TEXT)[0]
    assert by_form.note == "五一前放宽" and by_form.recorded_by.username.startswith("district")
    audited = AuditEntry.objects.get(action="exit_rules.publish", target_id=str(by_form.pk))
    assert audited.detail["community"] == home.code and audited.detail["rules"] == by_form.rules


def test_unticking_the_test_requirement_publishes_rules_without_one(reviewer):
    home, _ = nanguan_communities()
    with time_machine.travel(MORNING, tick=False):
        response = fill_in(reviewer, home.code, requires_pcr=None, pcr_negative_within_hours="")
        page = reviewer.get(response["Location"]).content.decode()
    rules = rules_for(home.code, MORNING + timedelta(minutes=1)).rules
    in_force = page.split("发布新规则")[0]
    assert rules.pcr_negative_within_hours is None and "核酸阴性记录" not in in_force
    # the form and the rule text offered next start from these rules, not from the default
    assert ticked(page, "requires_pcr") == [] and ticked(page, "allow_unzoned") == ["on"]
    assert read_rules(as_text(rules))[1] == rules


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"per_household_per_day": "0"}, "「每户每天外出人次」应为 1 到 20 之间的整数。"),
        ({"per_household_per_day": "两"}, "「每户每天外出人次」应为 1 到 20 之间的整数。"),
        ({"per_household_per_day": ""}, "请填写「每户每天外出人次」。"),
        ({"pass_minutes": "2000"}, "「通行码有效时长(分钟)」应为 15 到 1440 之间的整数。"),
        ({"opens": "25:00"}, "「外出开始时间」应为 时:分,例如 06:00。"),
        ({"closes": "06:30"}, "「外出结束时间」应晚于「外出开始时间」(07:00)。"),
        ({"colours": None}, "「健康码须为」请至少选择一项。"),
        ({"colours": ["blue"]}, "「健康码须为」没有 blue 这一项。"),
        ({"zone_levels": ["everywhere"]}, "「可申请外出的风险区」没有 everywhere 这一项。"),
        (
            {"zone_levels": None, "allow_unzoned": None},
            "「可申请外出的风险区」至少选择一项,或勾选「未划定风险区的小区也可申请」",
        ),
        (
            {"pcr_negative_within_hours": ""},
            "已勾选「须有核酸阴性记录」:请填写「核酸阴性时限(小时)」。",
        ),
        ({"pcr_negative_within_hours": "999"}, "「核酸阴性时限(小时)」应为 1 到 168 之间的整数。"),
        ({"effective_from": "明天"}, "「生效时间」格式应为 2022-04-23T08:00,或留空立即生效。"),
    ],
)
def test_a_wrong_value_is_refused_naming_its_field_and_nothing_is_published(
    reviewer, changes, message
):
    home, _ = nanguan_communities()
    with time_machine.travel(MORNING, tick=False):
        response = fill_in(reviewer, home.code, **changes)
    html = response.content.decode()
    assert response.status_code == 400 and "未发布,请修改" in html
    assert message in html
    assert "五一前放宽" in html  # what was typed is still there
    assert not ExitRuleSet.objects.filter(community=home).exists()
    assert not AuditEntry.objects.filter(detail__community=home.code).exists()


def test_a_test_window_typed_but_not_required_is_not_read(reviewer):
    home, _ = nanguan_communities()
    with time_machine.travel(MORNING, tick=False):
        response = fill_in(reviewer, home.code, requires_pcr=None, pcr_negative_within_hours="999")
    assert response.status_code == 302
    assert rules_for(home.code, MORNING).rules.pcr_negative_within_hours is None


def test_only_publishers_get_the_form(city, client, make_staff):
    home, _ = nanguan_communities()
    client.force_login(make_staff("district_reviewer", ["220102"]))
    page = client.get(reverse("zones:default_exit_rules")).content.decode()
    assert 'name="editor"' not in page and "r-opens" not in page
    client.force_login(make_staff("district_reviewer", ["220104"]))
    assert fill_in(client, home.code).status_code == 404
    assert not ExitRuleSet.objects.exists()
