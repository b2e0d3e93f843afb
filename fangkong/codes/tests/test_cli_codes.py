"""The command line for policies and codes, and the JSON shapes README.md promises."""

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fangkong.audit.models import AuditEntry
from fangkong.cli import build_parser
from fangkong.codes.models import CodeChange, PersonCode
from fangkong.engine.id_numbers import mask
from fangkong.ingest.tests.support import report_result, sample
from fangkong.policies.models import PolicyVersion

pytestmark = pytest.mark.django_db
BJ = timezone(timedelta(hours=8))
SEED = Path(__file__).resolve().parents[2] / "policies" / "fixtures" / "cc-2022-0420-untested.toml"
OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")


def run(*argv) -> int:
    args = build_parser().parse_args([str(a) for a in argv])
    return args.func(args)


def run_json(capsys, *argv):
    assert run(*argv, "--json") == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def published_city(city, capsys):
    """The first ten of 南关区 sampled on 21 April; the rule published from the command line at
    23 April 00:00 Beijing time."""
    sample(city.nanguan[:10], "T-0421-1", "10", datetime(2022, 4, 21, 9, tzinfo=BJ))
    report_result("T-0421-1", "negative", datetime(2022, 4, 21, 20, tzinfo=BJ))
    assert run("policy", "publish", SEED, "--at", "2022-04-23T00:00") == 0
    capsys.readouterr()
    return city


def test_policy_preview_json_gives_changes_by_county_with_names(city, capsys):
    out = run_json(capsys, "policy", "preview", SEED, "--at", "2022-04-23T00:00:00+08:00")
    assert (out["policy"], out["version"], out["people"]) == ("cc-2022-0420-untested", 1, 30)
    assert out["by_county"] == [
        {"code": "220102", "name": "南关区", "changes": {"green->yellow": 25}},
        {"code": "220104", "name": "朝阳区", "changes": {"green->yellow": 5}},
    ]
    assert out["totals"] == {"green->yellow": 30}
    assert not PolicyVersion.objects.exists() and not PersonCode.objects.exists()


def test_policy_preview_prints_counts_by_county_for_people(city, capsys):
    assert run("policy", "preview", SEED, "--at", "2022-04-23") == 0
    out = capsys.readouterr().out
    assert "若于 2022-04-23 00:00(北京时间)发布" in out
    assert "南关区(220102):绿码→黄码 25" in out
    assert "合计:绿码→黄码 30(共30人)" in out


def test_policy_problems_go_to_stderr_with_a_non_zero_exit(city, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(SEED.read_text().replace('colour = "yellow"', 'colour = "blue"'))
    assert run("policy", "preview", bad) == 1
    assert "colour: 应为 yellow 或 red" in capsys.readouterr().err
    assert run("policy", "publish", bad) == 1 and not PolicyVersion.objects.exists()
    assert run("policy", "publish", tmp_path / "missing.toml") == 2


def test_policy_publish_publishes_as_the_local_operator_and_says_what_changed(city, capsys):
    assert run("policy", "publish", SEED, "--at", "2022-04-23T00:00") == 0
    out = capsys.readouterr().out
    assert "已发布 cc-2022-0420-untested 第1版(发布时间 2022-04-23 00:00)" in out
    assert "重新计算30人,30人的健康码颜色变化:绿码→黄码 30" in out
    version = PolicyVersion.objects.get()
    assert version.published_by is None
    assert version.published_at == datetime(2022, 4, 23, tzinfo=BJ)
    assert AuditEntry.objects.get(action="policy.publish").actor_name == "system"
    again = run_json(capsys, "policy", "publish", SEED, "--at", "2022-04-23T01:00")
    # the same rule again: nobody changes colour, but every yellow code now rests on version 2
    assert (again["version"], again["changed"], again["by_transition"]) == (2, 30, {})
    assert again["published_at"] == "2022-04-23T01:00:00+08:00"


def test_codes_show_json_contract(published_city, capsys):
    number = published_city.nanguan[10]
    out = run_json(capsys, "codes", "show", number, "--as-of", "2022-04-23T08:00")
    assert out["colour"] == "yellow"
    assert out["id_number"] == mask(number) and number not in json.dumps(out)
    assert out["as_of"] == "2022-04-23T08:00:00+08:00"
    (reason,) = out["reasons"]
    assert reason["policy"] == "cc-2022-0420-untested" and reason["version"] == 1
    assert "吉祥码被赋黄码" in reason["message"]
    assert reason["since"] == "2022-04-23T00:00:00+08:00" and OFFSET.match(reason["since"])
    assert any("无采样记录" in f for f in reason["facts"])
    assert any("阴性" in c for c in reason["clears"])
    assert AuditEntry.objects.filter(action="person.view", detail__via="cli").exists()


def test_codes_show_as_of_a_time_before_the_rule_is_green(published_city, capsys):
    out = run_json(
        capsys, "codes", "show", published_city.nanguan[10], "--as-of", "2022-04-22T12:00"
    )
    assert (out["colour"], out["reasons"]) == ("green", [])
    assert run("codes", "show", published_city.nanguan[10], "--as-of", "2022-04-23T08:00") == 0
    text = capsys.readouterr().out
    assert "黄码" in text and "自 2022-04-23 00:00" in text and "解除方式" in text


def test_codes_show_of_an_unknown_id_number_fails_on_stderr(city, capsys):
    assert run("codes", "show", "220102199001010000") == 1
    captured = capsys.readouterr()
    assert "没有身份证号为" in captured.err and captured.out == ""


def test_codes_stats_by_district_json_contract(published_city, capsys):
    rows = run_json(capsys, "codes", "stats", "--by", "district", "--as-of", "2022-04-23T08:00")
    assert len(rows) == 15
    assert all(set(r) == {"code", "name", "green", "yellow", "red"} for r in rows)
    assert all(re.fullmatch(r"\d{6}", r["code"]) for r in rows)
    by_code = {r["code"]: r for r in rows}
    assert by_code["220102"] == {
        "code": "220102",
        "name": "南关区",
        "green": 10,
        "yellow": 15,
        "red": 0,
    }
    assert by_code["220104"]["yellow"] == 5


def test_codes_stats_totals_json_and_text(published_city, capsys):
    totals = run_json(capsys, "codes", "stats", "--as-of", "2022-04-23T08:00")
    assert totals == {"green": 10, "yellow": 20, "red": 0}
    before = run_json(capsys, "codes", "stats", "--as-of", "2022-04-22T08:00+08:00")
    assert before == {"green": 30, "yellow": 0, "red": 0}
    assert run("codes", "stats", "--by", "district", "--as-of", "2022-04-23T08:00") == 0
    out = capsys.readouterr().out
    assert re.search(r"南关区\s+220102\s+10\s+15\s+0", out)
    assert "合计:绿码 10,黄码 20,红码 0" in out


def test_codes_recompute_writes_the_changes_a_later_result_made(published_city, capsys):
    person = published_city.nanguan[10]
    sample([person], "T-0424-1", "10", datetime(2022, 4, 24, 9, tzinfo=BJ))
    report_result("T-0424-1", "negative", datetime(2022, 4, 24, 20, tzinfo=BJ))
    # ingestion already re-evaluated that person: a full recompute finds nothing to change
    out = run_json(capsys, "codes", "recompute", "--as-of", "2022-04-25T00:00")
    assert (out["evaluated"], out["changed"]) == (30, 0)
    assert out["as_of"] == "2022-04-25T00:00:00+08:00"
    assert set(out["seconds"]) >= {"load", "evaluate", "write"}
    assert run("codes", "recompute") == 0
    assert "评估30人" in capsys.readouterr().out
    assert CodeChange.objects.filter(cause="recompute").count() == 0


def test_a_time_that_is_not_iso_8601_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["codes", "stats", "--as-of", "yesterday"])
    assert "不是有效的时间" in capsys.readouterr().err
