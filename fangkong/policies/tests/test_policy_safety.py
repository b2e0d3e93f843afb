"""No policy file can break the system: absurd values are refused before anything is written,
publishing is all or nothing, and a mistake is undone by withdrawing — never by SQL."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.urls import reverse

from fangkong.audit.models import AuditEntry
from fangkong.cli import build_parser
from fangkong.codes.models import CodeChange, PersonCode
from fangkong.codes.queries import stats_by_county
from fangkong.policies import actions
from fangkong.policies.actions import do_publish, do_withdraw
from fangkong.policies.models import PolicyVersion

pytestmark = pytest.mark.django_db
BJ = timezone(timedelta(hours=8))
SEED_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "cc-2022-0420-untested.toml"
SEED = SEED_PATH.read_text()
ABSURD_EXPIRY = SEED.split("[[clear]]")[0] + '[[clear]]\ntype = "expiry"\nhours = 1e9\n'


def run(*argv) -> int:
    args = build_parser().parse_args([str(a) for a in argv])
    return args.func(args)


def yellow(at: datetime) -> int:
    return sum(row["yellow"] for row in stats_by_county(at))


def test_an_absurd_expiry_is_refused_by_preview_and_publish_and_nothing_is_written(
    city, tmp_path, capsys
):
    path = tmp_path / "absurd.toml"
    path.write_text(ABSURD_EXPIRY)
    assert run("policy", "preview", path) == 1
    assert run("policy", "publish", path, "--at", "2022-04-23T00:00") == 1
    assert "clear[0].hours: 应为整数" in capsys.readouterr().err
    assert not PolicyVersion.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="policy.").exists()
    assert run("codes", "stats", "--json") == 0  # and everything still answers


def test_a_failed_recompute_leaves_no_version_no_audit_entry_and_no_code(city, monkeypatch):
    def out_of_memory(*args, **kwargs):
        raise MemoryError("the recompute could not finish")

    monkeypatch.setattr(actions, "do_recompute", out_of_memory)
    with pytest.raises(MemoryError):
        do_publish(SEED, user=None, now=datetime(2022, 4, 23, tzinfo=BJ))
    assert not PolicyVersion.objects.exists()
    assert not AuditEntry.objects.filter(action="policy.publish").exists()
    assert not PersonCode.objects.exists() and not CodeChange.objects.exists()
    monkeypatch.undo()
    version, outcome = do_publish(SEED, user=None, now=datetime(2022, 4, 23, tzinfo=BJ))
    assert version.version == 1 and outcome.by_transition == {"green->yellow": 30}


def test_the_command_line_refuses_a_file_that_is_not_utf8_or_too_big(city, tmp_path, capsys):
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes(SEED.encode("gb18030"))
    assert run("policy", "preview", gbk) == 2
    assert "须为UTF-8编码" in capsys.readouterr().err
    big = tmp_path / "big.toml"
    big.write_text(SEED + "#" * (300 * 1024))
    assert run("policy", "preview", big) == 2
    assert "上限256KB" in capsys.readouterr().err


def test_a_toml_syntax_error_is_explained_in_chinese_with_its_line(city, tmp_path, capsys):
    path = tmp_path / "broken.toml"
    path.write_text(SEED.replace('colour = "yellow"', "colour = yellow"))
    assert run("policy", "preview", path) == 1
    err = capsys.readouterr().err
    line = SEED.splitlines().index(next(x for x in SEED.splitlines() if x.startswith("colour")))
    assert f"TOML格式错误(第{line + 1}行" in err and "值无效" in err


def test_a_withdrawn_policy_stops_holding_from_then_on_and_still_explains_the_past(city, capsys):
    assert run("policy", "publish", SEED_PATH, "--at", "2022-04-23T00:00") == 0
    assert yellow(datetime(2022, 4, 23, 12, tzinfo=BJ)) == 30
    capsys.readouterr()
    argv = ("policy", "withdraw", "cc-2022-0420-untested", "--at", "2022-04-24T00:00")
    assert run(*argv, "--reason", "发布有误,待修订后重发", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["version"], out["by_transition"]) == (2, {"yellow->green": 30})
    assert yellow(datetime(2022, 4, 24, 12, tzinfo=BJ)) == 0
    assert yellow(datetime(2022, 4, 23, 12, tzinfo=BJ)) == 30  # the past is as it was
    entry = AuditEntry.objects.get(action="policy.withdraw")
    assert entry.detail["reason"] == "发布有误,待修订后重发" and entry.actor is None
    # Withdrawing twice, or without a reason, is refused with a message.
    assert run(*argv, "--reason", "再次撤回试试") == 1
    assert "没有可撤回的已发布版本" in capsys.readouterr().err
    # Published again, it is a new decision: the unsampled are yellow once more.
    assert run("policy", "publish", SEED_PATH, "--at", "2022-04-25T00:00") == 0
    assert yellow(datetime(2022, 4, 25, 12, tzinfo=BJ)) == 30
    assert PolicyVersion.objects.get(version=3).continues_from is None


def test_a_withdrawal_needs_a_reason(city):
    do_publish(SEED, user=None, now=datetime(2022, 4, 23, tzinfo=BJ))
    with pytest.raises(actions.PolicyError):
        do_withdraw("cc-2022-0420-untested", user=None, now=datetime(2022, 4, 24), reason="  ")


def test_the_command_centre_withdraws_a_policy_on_its_page_after_seeing_the_impact(
    city, client, make_staff
):
    do_publish(SEED, user=None, now=datetime(2022, 4, 23, tzinfo=BJ))
    client.force_login(make_staff("command_centre"))
    page = client.get(reverse("policies:version", args=["cc-2022-0420-untested", 1]))
    assert "撤回此政策" in page.content.decode()
    url = reverse("policies:withdraw_preview", args=["cc-2022-0420-untested"])
    assert client.post(url, {"reason": "短"}).status_code == 400
    preview = client.post(url, {"reason": "规则有误,撤回后修订"}).content.decode()
    assert "若现在撤回,共有 30 人的健康码改变颜色" in preview
    assert PolicyVersion.objects.count() == 1  # a preview writes nothing
    done = client.post(
        reverse("policies:withdraw", args=["cc-2022-0420-untested"]),
        {"reason": "规则有误,撤回后修订"},
        follow=True,
    ).content.decode()
    assert "已撤回 cc-2022-0420-untested" in done and "规则有误,撤回后修订" in done
    assert not PersonCode.objects.exclude(colour="green").exists()
    listing = client.get(reverse("policies:list")).content.decode()
    assert "已撤回" in listing


def test_a_district_reviewer_cannot_withdraw(city, client, make_staff):
    do_publish(SEED, user=None, now=datetime(2022, 4, 23, tzinfo=BJ))
    client.force_login(make_staff("district_reviewer", ["220102"]))
    page = client.get(reverse("policies:version", args=["cc-2022-0420-untested", 1]))
    assert "撤回此政策" not in page.content.decode()
    url = reverse("policies:withdraw", args=["cc-2022-0420-untested"])
    assert client.post(url, {"reason": "我想撤回这个政策"}).status_code == 403
    assert PolicyVersion.objects.count() == 1
