"""`fangkong enterprises stats --date D [--county C] [--as-of T] [--json]`: the JSON is the same
dict as the API's; without --json a readable Chinese table; a bad date, county or time is named
on stderr with a non-zero exit."""

import json

import pytest
import time_machine

from fangkong.cli import main
from fangkong.enterprises.stats import district_figures
from fangkong.enterprises.tests.test_stats import APRIL_20, NEW_AREA, at, build_new_area

pytestmark = pytest.mark.django_db
AFTERWARDS = at("4-25", 9)


@pytest.fixture
def firms():
    return build_new_area()


@time_machine.travel(AFTERWARDS)
def test_the_json_is_the_days_figures(firms, capsys):
    assert (
        main(["enterprises", "stats", "--date", "2022-04-20", "--county", NEW_AREA, "--json"]) == 0
    )
    shown = json.loads(capsys.readouterr().out)
    assert shown == district_figures(APRIL_20, county=NEW_AREA)
    assert shown["date"] == "2022-04-20" and shown["county"] == NEW_AREA
    assert (shown["registered"], shown["resumed"], shown["resumption_rate"]) == (3, 1, 0.333)
    assert shown["production_rate"] == 0.9 and shown["staff_on_duty"] == 1070
    automotive = shown["by_industry"][0]
    assert automotive["industry"] == "automotive"
    assert (automotive["registered"], automotive["returning_staff"]) == (2, 310)


@time_machine.travel(AFTERWARDS)
def test_as_of_is_read_as_beijing_time(firms, capsys):
    argv = ["enterprises", "stats", "--date", "2022-04-20", "--county", NEW_AREA, "--json"]
    assert main([*argv, "--as-of", "2022-04-21T09:00"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["resumed"] == 2 and shown["as_of"] == "2022-04-21T09:00:00+08:00"
    assert main([*argv, "--as-of", "2022-04-21T08:59"]) == 0
    assert json.loads(capsys.readouterr().out)["resumed"] == 1


@time_machine.travel(AFTERWARDS)
def test_without_json_the_figures_are_a_chinese_table(firms, capsys):
    assert main(["enterprises", "stats", "--date", "2022-04-20", "--county", NEW_AREA]) == 0
    out = capsys.readouterr().out
    assert "2022年4月20日 长春高新技术产业开发区 复工复产情况" in out
    assert "规上工业企业 3 户,已复工 1 户,复工率 33.3%" in out
    assert "复产率 90.0%" in out
    assert "在岗人数 1,070 人,其中返岗人数 330 人" in out
    lines = out.splitlines()
    automotive = next(line for line in lines if line.startswith("汽车及零部件"))
    assert automotive.split() == ["汽车及零部件", "2", "1", "50.0%", "90.0%", "920", "310"]


@time_machine.travel(AFTERWARDS)
def test_the_whole_city_is_counted_without_a_county(firms, capsys):
    assert main(["enterprises", "stats", "--date", "2022-04-20"]) == 0
    out = capsys.readouterr().out
    assert "长春市" in out and "规上工业企业 4 户,已复工 2 户,复工率 50.0%" in out


def test_a_bad_date_is_refused_with_the_reason(db, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["enterprises", "stats", "--date", "2022-04-31"])
    assert exit_.value.code == 2
    assert "不是有效的日期 '2022-04-31'(应为 2022-04-20)" in capsys.readouterr().err


def test_a_bad_county_or_time_is_refused_with_the_reason(db, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["enterprises", "stats", "--date", "2022-04-20", "--county", "2201"])
    assert exit_.value.code == 2 and "不是有效的区县代码 '2201'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["enterprises", "stats", "--date", "2022-04-20", "--as-of", "noon"])
    assert exit_.value.code == 2 and "不是有效的时间 'noon'" in capsys.readouterr().err
    assert main(["enterprises", "stats", "--date", "2022-04-20", "--county", "229999"]) == 2
    assert "未知的区县代码 229999" in capsys.readouterr().err


def test_an_unknown_industry_is_named_and_exits_2(capsys):
    assert main(["enterprises", "stats", "--date", "2022-04-20", "--industry", "toys"]) == 2
    assert "未知的行业 toys" in capsys.readouterr().err
