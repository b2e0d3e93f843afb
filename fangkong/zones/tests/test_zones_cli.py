"""`fangkong zones publish FILE` issues a notice from a TOML file, refusing a wrong one with every
problem named; `fangkong zones stats --as-of T --json` counts what was in force at T."""

import json
from datetime import timedelta

import pytest

from fangkong.audit.models import AuditEntry
from fangkong.cli import build_parser
from fangkong.ingest.tests.support import community
from fangkong.places.models import CommunityZone, Division
from fangkong.zones.epidemic_free import do_publish_epidemic_free_batch, do_withdraw_epidemic_free
from fangkong.zones.models import DecisionStatus, ZoneDecision
from fangkong.zones.notice import NoticeError, parse_notice
from fangkong.zones.tests.support import NOW, colours, nanguan, zone_policies

pytestmark = pytest.mark.django_db
__all__ = ["nanguan", "zone_policies"]  # fixtures


def run(*argv) -> int:
    args = build_parser().parse_args([str(a) for a in argv])
    return args.func(args)


def notice_text(code, level="lockdown", scheme="three_zones", extra="", number=21):
    return f"""
number = {number}
title = "关于调整部分区域风险等级的通告"
scheme = "{scheme}"
effective_from = 2022-04-20T18:00:00+08:00
{extra}
[[entries]]
community = "{code}"
level = "{level}"
"""


def test_publishing_a_notice_file_applies_it_and_says_so(nanguan, zone_policies, tmp_path, capsys):
    path = tmp_path / "notice.toml"
    path.write_text(notice_text(nanguan.code, "管控区"), encoding="utf-8")
    assert run("zones", "publish", path, "--at", "2022-04-20T19:00", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == {
        "decision": ZoneDecision.objects.get().pk,
        "notice": "长春市新冠肺炎疫情防控工作领导小组通告(第21号)",
        "entries": 1,
        "effective_from": "2022-04-20T18:00:00+08:00",
        "effective_until": None,
        "applied": True,
        "evaluated": 25,
        "changed": 25,
    }
    assert colours(nanguan.code) == ({"yellow"}, 25)
    assert ZoneDecision.objects.get().status == DecisionStatus.PUBLISHED
    steps = AuditEntry.objects.filter(target_type="zone_decision").order_by("id")
    assert [(e.action, e.actor_name) for e in steps] == [
        ("zone.propose", "system"),
        ("zone.approve", "system"),
        ("zone.publish", "system"),
    ]


def test_a_notice_for_later_is_published_now_and_applies_then(nanguan, tmp_path, capsys):
    path = tmp_path / "notice.toml"
    path.write_text(notice_text(nanguan.code, "high", "risk_areas"), encoding="utf-8")
    assert run("zones", "publish", path, "--at", "2022-04-20T10:00") == 0
    out = capsys.readouterr().out
    assert "已发布 长春市新冠肺炎疫情防控工作领导小组通告(第21号)" in out
    assert "生效时间 2022-04-20 18:00 未到,届时自动生效。" in out
    row = CommunityZone.objects.get()
    assert (row.level, row.start_at) == ("high", NOW.replace(hour=18))


def test_a_wrong_notice_file_is_refused_with_every_problem(tmp_path, capsys, db):
    path = tmp_path / "notice.toml"
    path.write_text(
        """
number = "21"
title = ""
scheme = "zones"
effective_from = 2022-04-20
colour = "red"
[[entries]]
community = 220102001001
level = "lockdown"
[[entries]]
community = "220102001001"
level = "severe"
extra = 1
""",
        encoding="utf-8",
    )
    assert run("zones", "publish", path) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "错误:通告文件有问题:",
        "  - 未知的键 colour",
        "  - number:通告编号应为正整数,如 21",
        "  - title:标题应为非空文本",
        "  - scheme:应为 three_zones(封控区/管控区/防范区)或 risk_areas(高/中/低风险区)",
        "  - effective_from:日期应为时间,如 2022-04-20T18:00:00+08:00",
        "  - entries 第1条:community 应为12位社区代码(加双引号)",
        "  - entries 第2条:未知的键 extra",
        "  - entries 第2条:level 应为 prevention(防范区)、control(管控区)、lockdown(封控区)、"
        "low(低风险区)、medium(中风险区)、high(高风险区) 之一",
    ]
    assert not ZoneDecision.objects.exists()


def test_a_notice_naming_an_unknown_community_or_a_level_of_the_other_scheme_is_not_published(
    nanguan, tmp_path, capsys
):
    path = tmp_path / "notice.toml"
    text = notice_text("220102999999").rstrip() + (
        f'\n[[entries]]\ncommunity = "{nanguan.code}"\nlevel = "low"\n'
    )
    path.write_text(text, encoding="utf-8")
    assert run("zones", "publish", path, "--at", "2022-04-20T10:00") == 1
    assert capsys.readouterr().err.splitlines() == [
        "错误:通告未发布:",
        "  - 第1条:没有代码为 220102999999 的社区/村",
        f"  - 第2条:{nanguan.name}的级别应为防范区、管控区、封控区之一",
    ]
    assert run("zones", "publish", tmp_path / "missing.toml") == 2
    assert "找不到文件" in capsys.readouterr().err


def test_a_notice_file_takes_a_local_time_as_beijing_time_and_an_end():
    notice = parse_notice(
        notice_text(
            "220102001001", extra="effective_until = 2022-04-27T18:00:00\nissuer = '南关区指挥部'"
        ).encode()
    )
    assert notice.effective_from.isoformat() == "2022-04-20T18:00:00+08:00"
    assert str(notice.effective_until) == "2022-04-27 18:00:00+08:00"
    assert notice.issuer == "南关区指挥部"
    with pytest.raises(NoticeError) as refused:
        parse_notice(
            notice_text(
                "220102001001", extra="effective_until = 2022-04-20T17:00:00+08:00"
            ).encode()
        )
    assert refused.value.problems == ["effective_until:截止时间应晚于生效时间"]
    with pytest.raises(NoticeError) as broken:
        parse_notice(b'number = 21\ntitle = "x')
    assert broken.value.problems == [
        "TOML格式错误(文件末尾):文本缺少结尾的引号。[Unterminated string]"
    ]


def test_stats_count_what_was_in_force_at_the_time(city, tmp_path, capsys):
    homes = list(Division.objects.filter(level=5, county_code="220102").order_by("code")[:4])
    for number, (code, level, scheme) in enumerate(
        [
            (homes[0].code, "lockdown", "three_zones"),
            (homes[1].code, "control", "three_zones"),
            (homes[2].code, "medium", "risk_areas"),
            (homes[3].code, "low", "risk_areas"),
        ],
        1,
    ):
        path = tmp_path / f"n{number}.toml"
        path.write_text(notice_text(code, level, scheme, number=number), encoding="utf-8")
        assert run("zones", "publish", path, "--at", "2022-04-20T12:00") == 0
    do_publish_epidemic_free_batch(None, "community", [homes[3].code], NOW, check=None)
    town = Division.objects.filter(level=4, county_code="220104").first()
    do_publish_epidemic_free_batch(None, "town", [town.code], NOW, check=None)
    do_withdraw_epidemic_free(town.code, NOW + timedelta(days=1), "出现阳性")
    capsys.readouterr()
    assert run("zones", "stats", "--as-of", "2022-04-20T20:00", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {
        "as_of": "2022-04-20T20:00:00+08:00",
        "zones": {"lockdown": 1, "control": 1, "prevention": 0},
        "risk_areas": {"high": 0, "medium": 1, "low": 1},
        "epidemic_free": {"communities": 1, "towns": 1, "batches": 2},
    }
    assert run("zones", "stats", "--as-of", "2022-04-20T17:59", "--json") == 0
    before = json.loads(capsys.readouterr().out)
    assert before["zones"] == {"lockdown": 0, "control": 0, "prevention": 0}
    assert before["epidemic_free"] == {"communities": 1, "towns": 1, "batches": 2}
    assert run("zones", "stats", "--as-of", "2022-04-22T00:00") == 0
    out = capsys.readouterr().out
    assert "封控区 1,管控区 1,防范区 0" in out
    assert "无疫小区 1,无疫乡镇(街道) 0,已公布 2 批" in out
    assert community("220102").code == homes[0].code
