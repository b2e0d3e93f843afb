"""Staff read a community's exit rules and publish new ones; residents of the demo get
households."""

import html
import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from fangkong.audit.models import AuditEntry
from fangkong.exits.actions import do_publish_rules, load_default_rules
from fangkong.exits.demo import assign_households, seed_exits
from fangkong.exits.models import ExitRuleSet
from fangkong.exits.rules import rules_for
from fangkong.exits.tests.support import MORNING
from fangkong.ingest.tests.support import community
from fangkong.people.models import Person

pytestmark = pytest.mark.django_db


def publish(client, code, text, **extra):
    url = reverse("zones:exit_rules", args=[code]) if code else reverse("zones:default_exit_rules")
    return client.post(url, {"text": text, **extra})


def test_a_reviewer_publishes_rules_for_a_community_of_their_district(city, client, make_staff):
    load_default_rules()
    home = community("220102")
    client.force_login(make_staff("district_reviewer", ["220102"]))
    with time_machine.travel(MORNING, tick=False):
        before = client.get(reverse("zones:exit_rules", args=[home.code])).content.decode()
        response = publish(client, home.code, 'opens = "07:00"\nclosing = "19:00"', note="错误的键")
        assert response.status_code == 400 and "未知的规则项: closing" in response.content.decode()
        response = publish(
            client, home.code, '{"opens": "07:00", "closes": "19:00"}', note="周末缩短时段"
        )
        page = client.get(response["Location"]).content.decode()
    assert "全市默认规则" in before and "每户每天限1人次外出" in before
    assert response.status_code == 302
    assert "本社区规则" in page and "外出时段为每天07:00至19:00" in page and "周末缩短时段" in page
    in_force = rules_for(home.code, MORNING + timedelta(minutes=1))
    assert in_force.row.community_id == home.code and in_force.rules.per_household_per_day == 1
    entry = AuditEntry.objects.filter(action="exit_rules.publish").last()
    assert entry.detail["community"] == home.code and entry.detail["rules"]["opens"] == "07:00"
    # other communities keep the city default
    assert rules_for(community("220104").code, MORNING).source_label == "全市默认规则"


def test_only_the_city_wide_roles_publish_the_city_default(city, client, make_staff):
    client.force_login(make_staff("district_reviewer", ["220102"]))
    page = client.get(reverse("zones:default_exit_rules")).content.decode()
    assert "发布新规则" not in page
    assert publish(client, None, "per_household_per_day = 3").status_code == 403
    client.force_login(make_staff("command_centre"))
    with time_machine.travel(MORNING, tick=False):
        assert publish(client, None, "per_household_per_day = 3").status_code == 302
    assert rules_for(None, MORNING).rules.per_household_per_day == 3


def test_another_districts_reviewer_and_a_lab_cannot_see_the_rules(city, client, make_staff):
    home = community("220102")
    client.force_login(make_staff("district_reviewer", ["220104"]))
    assert publish(client, home.code, "per_household_per_day = 3").status_code == 404
    client.force_login(make_staff("lab"))
    assert client.get(reverse("zones:exit_rules", args=[home.code])).status_code == 403
    assert not ExitRuleSet.objects.exists()


def test_the_default_rules_are_loaded_once(db):
    first = load_default_rules()
    assert load_default_rules() == first and ExitRuleSet.objects.count() == 1
    rules = first.as_rules()
    assert rules.zone_levels == ("prevention",) and rules.pcr_negative_within_hours == 48
    assert rules.pass_minutes == 240 and first.community is None


def test_households_are_one_to_four_neighbours_of_one_community(city):
    seed_exits(MORNING)
    people = list(Person.objects.order_by("id"))
    sizes = {}
    for p in people:
        assert p.household.startswith(f"{p.community_id}-")
        sizes[p.household] = sizes.get(p.household, 0) + 1
    # 25 in 南关区: 1+2+3+4, 1+2+3+4, 1+2+2; 5 in 朝阳区: 1+2+2
    assert sorted(sizes.values()) == [1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 4, 4]
    assert people[0].household != people[1].household == people[2].household
    assert assign_households() == 0  # already assigned: nothing changes


def test_rules_without_a_test_requirement_are_offered_as_text_that_keeps_them(
    city, client, make_staff
):
    home = community("220102")
    reviewer = make_staff("district_reviewer", ["220102"])
    do_publish_rules(reviewer, home.code, '{"pcr_negative_within_hours": null}', MORNING)
    client.force_login(reviewer)
    later = MORNING + timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        page = client.get(reverse("zones:exit_rules", args=[home.code])).content.decode()
        offered = re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', page, re.S).group(1)
        # published again as offered, unchanged: still no test required (TOML has no null)
        assert publish(client, home.code, html.unescape(offered).strip()).status_code == 302
    assert ExitRuleSet.objects.filter(community=home).count() == 2
    assert rules_for(home.code, later).rules.pcr_negative_within_hours is None
