"""`fangkong zones eligible` and the staff page show each area's assessment with its evidence,
as of a chosen time, only for the user's districts."""

import json

import pytest

from fangkong.cli import build_parser
from fangkong.zones.tests.test_eligibility_timelines import (  # noqa: F401 (a fixture)
    bj,
    street_fixture,
)

pytestmark = pytest.mark.django_db
PAGE = "/zones/eligibility/"


def run(*argv) -> int:
    args = build_parser().parse_args([str(a) for a in argv])
    return args.func(args)


@pytest.fixture
def released(street):
    """Community a: a 封控区 whose case (1 April) and negative round allow release on 16 April."""
    street.lockdown(street.a)
    street.case(street.people[street.a][0], bj(4, 1, 10), "P-1", bj(4, 2, 9))
    street.negative_round(street.a, 15, "R-15")
    return street


def test_the_command_lists_what_is_due_with_its_evidence(released, capsys):
    assert run("zones", "eligible", "--as-of", "2022-04-16T00:00", "--county", "220102") == 0
    out = capsys.readouterr().out
    assert out.startswith("截至 2022-04-16 00:00(北京时间)")
    assert "可解除/降级:1" in out
    name = released.names[released.a]
    assert f"南关区 {name}({released.a}) 封控区 → 防范区" in out
    assert "末例阳性感染者采样于2022-04-01 10:00,已连续14天无新增(要求14天)" in out


def test_the_command_prints_every_area_as_json(released, capsys):
    assert (
        run("zones", "eligible", "--as-of", "2022-04-15T12:00", "--county", "220102", "--json") == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["as_of"] == "2022-04-15T12:00:00+08:00"
    assert data["rule_sets"] == ["edition-9", "plan-2021"]
    area = next(a for a in data["areas"] if a["code"] == released.a)
    assert area["levels"]["three_zones"]["level"] == "lockdown"
    release = next(f for f in area["findings"] if f["action"] == "release")
    assert release["due"] is False and release["to"] == "prevention"
    assert area["evidence"]["days_without_case"] == 13
    round_so_far = area["evidence"]["screenings"][1]
    assert (round_so_far["sampled"], round_so_far["pending"], round_so_far["negative"]) == (3, 3, 0)
    assert all(a["county"] == "220102" for a in data["areas"])


def test_the_command_refuses_an_unknown_county(capsys):
    assert run("zones", "eligible", "--county", "999999") == 2
    assert "--county: 没有代码为 999999 的现行区县" in capsys.readouterr().err


def test_a_district_reviewer_sees_the_evidence_of_their_county(released, client, make_staff):
    client.force_login(make_staff("district_reviewer", ["220102"]))
    page = client.get(PAGE, {"at": "2022-04-16T00:00"}).content.decode()
    assert "可解除/降级:1" in page
    assert released.names[released.a] in page
    assert "2022-04-14 00:00以来的筛查:居民3人,均为阴性" in page
    assert "封控区 → 防范区" in page


def test_another_districts_reviewer_never_sees_it(released, client, make_staff):
    client.force_login(make_staff("district_reviewer", ["220104"]))
    page = client.get(PAGE, {"county": "220102", "at": "2022-04-16T00:00"}).content.decode()
    assert released.names[released.a] not in page
    assert "可解除/降级:0" in page


def test_a_bad_time_is_named_and_a_sampler_is_refused(client, make_staff):
    client.force_login(make_staff("command_centre"))
    answer = client.get(PAGE, {"county": "220102", "at": "4月16日"})
    assert answer.status_code == 400
    assert "时间:“4月16日”不是有效的时间,应如 2022-04-20T18:00" in answer.content.decode()
    client.force_login(make_staff("sampler", ["220102"]))
    assert client.get(PAGE).status_code == 403
