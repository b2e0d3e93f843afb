"""The command centre previews a policy's impact by district, then publishes it; other roles
read policies but cannot publish them."""

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from fangkong.audit.models import AuditEntry
from fangkong.codes.models import PersonCode
from fangkong.policies.actions import do_publish
from fangkong.policies.models import PolicyVersion

pytestmark = pytest.mark.django_db
BJ = timezone(timedelta(hours=8))
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEED = (FIXTURES / "cc-2022-0420-untested.toml").read_text()


def impact_row(html: str, name: str) -> list[str]:
    """The cells of the impact table's row for one county."""
    row = re.search(rf"<tr[^>]*>\s*<td>{name} .*?</tr>", html, re.S)
    assert row, f"no row for {name}"
    return re.findall(r'<td class="num">(?:<strong>|<span class="muted">)?(\d+)', row.group(0))


@pytest.fixture
def commander(client, make_staff):
    client.force_login(make_staff("command_centre"))
    return client


def test_a_commander_previews_the_seed_rule_and_sees_counts_by_district(city, commander):
    response = commander.post(reverse("policies:new"), {"text": SEED})
    assert response.status_code == 200
    html = response.content.decode()
    assert "将发布为<strong>第1版</strong>" in html
    # columns: 绿→黄 绿→红 黄→红 红→黄 黄→绿 红→绿 合计
    assert impact_row(html, "南关区") == ["25", "0", "0", "0", "0", "0", "25"]
    assert impact_row(html, "朝阳区") == ["5", "0", "0", "0", "0", "0", "5"]
    assert impact_row(html, "公主岭市") == ["0"] * 7
    assert "共有 30 人的健康码改变颜色" in html
    assert "公主岭市" in html and "长春市" in html  # the scope, by name
    assert not PolicyVersion.objects.exists() and not PersonCode.objects.exists()


def test_a_commander_can_upload_the_file_instead_of_pasting_it(city, commander):
    upload = SimpleUploadedFile("rule.toml", SEED.encode(), content_type="application/toml")
    html = commander.post(reverse("policies:new"), {"file": upload}).content.decode()
    assert impact_row(html, "南关区")[0] == "25"


def test_publishing_after_the_preview_turns_codes_yellow_and_says_how_many(city, commander):
    response = commander.post(reverse("policies:publish"), {"text": SEED}, follow=True)
    version = PolicyVersion.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "policies:version", args=["cc-2022-0420-untested", 1]
    )
    html = response.content.decode()
    assert "已发布 cc-2022-0420-untested 第1版" in html
    assert "重新计算30人,30人的健康码颜色变化(绿→黄 30)。" in html
    assert version.published_by.staff.role == "command_centre"
    assert version.source == SEED
    assert PersonCode.objects.filter(colour="yellow").count() == 30
    assert AuditEntry.objects.filter(action="policy.publish").count() == 1


def test_the_preview_form_publishes_exactly_the_previewed_text(city, commander):
    html = commander.post(reverse("policies:new"), {"text": SEED}).content.decode()
    hidden = re.search(r'<input type="hidden" name="text" value="([^"]*)"', html, re.S)
    from html import unescape

    commander.post(reverse("policies:publish"), {"text": unescape(hidden.group(1))})
    assert PolicyVersion.objects.get().source == SEED


def test_a_district_reviewer_reads_policies_but_gets_403_on_publish(city, client, make_staff):
    do_publish(SEED, user=None, now=datetime(2022, 4, 23, tzinfo=BJ))
    client.force_login(make_staff("district_reviewer", ["220102"]))
    assert client.post(reverse("policies:publish"), {"text": SEED}).status_code == 403
    assert client.post(reverse("policies:new"), {"text": SEED}).status_code == 403
    assert PolicyVersion.objects.count() == 1
    listing = client.get(reverse("policies:list")).content.decode()
    assert "4月20日至22日未参加核酸检测人员赋黄码" in listing
    assert "新政策" not in listing
    page = client.get(reverse("policies:version", args=["cc-2022-0420-untested", 1]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "2022-04-20 00:00 至 2022-04-23 00:00 期间没有采样记录" in html
    assert "2022年04月23日00:00之后采样的一次核酸检测结果为阴性" in html
    assert "榆树市" in html and "include = [&quot;220100&quot;]" in html
    # the reviewer counts the changes the publication made in their district only
    assert "发布时健康码变化</dt><dd>25 人" in html


def test_an_auditor_reads_policies_and_a_lab_does_not(city, client, make_staff):
    client.force_login(make_staff("auditor"))
    assert client.get(reverse("policies:list")).status_code == 200
    assert client.get(reverse("policies:new")).status_code == 403
    client.force_login(make_staff("lab"))
    assert client.get(reverse("policies:list")).status_code == 403


def test_a_bad_policy_file_shows_every_problem_and_publishes_nothing(city, commander):
    broken = SEED.replace('colour = "yellow"', 'colour = "purple"').replace(
        'type = "no_sampling"', 'type = "no_such_trigger"'
    )
    response = commander.post(reverse("policies:new"), {"text": broken})
    html = response.content.decode()
    assert response.status_code == 400
    assert "colour: 应为 yellow 或 red" in html
    assert "trigger.type: 应为" in html
    response = commander.post(reverse("policies:new"), {"text": "id = [unclosed"})
    assert "TOML格式错误(第1行" in response.content.decode()
    response = commander.post(reverse("policies:publish"), {"text": broken})
    assert response.status_code == 400 and not PolicyVersion.objects.exists()


def test_publishing_requires_the_csrf_token(city, make_staff):
    user = make_staff("command_centre")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(reverse("policies:publish"), {"text": SEED}).status_code == 403
    assert client.post(reverse("policies:new"), {"text": SEED}).status_code == 403
    assert not PolicyVersion.objects.exists()
    page = client.get(reverse("policies:new"))
    token = page.cookies["csrftoken"].value
    response = client.post(
        reverse("policies:publish"), {"text": SEED, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302 and PolicyVersion.objects.count() == 1


def test_a_second_publication_is_the_next_version_and_the_list_shows_the_latest(city, commander):
    do_publish(SEED, user=None, now=datetime(2022, 4, 23, tzinfo=BJ))
    newer = re.sub(r'^title = "(.*?)"', r'title = "\1(修订)"', SEED, count=1, flags=re.M)
    response = commander.post(reverse("policies:publish"), {"text": newer}, follow=True)
    # everyone stays yellow, now because of version 2
    assert "0人的健康码颜色变化;另有30人颜色不变" in response.content.decode()
    listing = commander.get(reverse("policies:list")).content.decode()
    assert "第2版 · 共2版" in listing and "赋黄码(修订)" in listing
    old = commander.get(reverse("policies:version", args=["cc-2022-0420-untested", 1]))
    assert "此版本已被" in old.content.decode()
    versions = commander.get(reverse("policies:versions", args=["cc-2022-0420-untested"]))
    assert versions.content.decode().count("第1版") >= 1
    assert commander.get(reverse("policies:versions", args=["nope"])).status_code == 404


def test_policy_versions_are_read_only_in_the_admin(city, client):
    do_publish(SEED, user=None, now=datetime(2022, 4, 23, tzinfo=BJ))
    user = get_user_model().objects.create_superuser("root", password="correct-horse-battery")
    client.force_login(user)
    assert client.get(reverse("admin:policies_policyversion_changelist")).status_code == 200
    assert client.get(reverse("admin:policies_policyversion_add")).status_code == 403
