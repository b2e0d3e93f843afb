"""The task force is formed and staffed on its page by the command centre or the district."""

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.urls import reverse

from fangkong.accounts.models import Role
from fangkong.tickets.models import GroupMember, TaskGroup

pytestmark = pytest.mark.django_db
NOON = datetime(2022, 4, 12, 12, 0, tzinfo=timezone(timedelta(hours=8)))


@time_machine.travel(NOON, tick=False)
def test_a_district_reviewer_forms_the_task_force_and_puts_a_member_in_a_group(client, make_staff):
    reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220102"])
    member = make_staff(Role.TASK_GROUP, ["220102"], username="nanguan_fangang")
    client.force_login(reviewer)
    page = reverse("tickets:task_force")

    assert client.post(page, {"form": "form", "county": "220102"}).status_code == 302
    assert TaskGroup.objects.filter(county_code="220102").count() == 5
    group = TaskGroup.objects.get(county_code="220102", kind="staff_return")
    response = client.post(
        page, {"form": "member", "group": group.pk, "username": member.username, "lead": "on"}
    )

    assert response.status_code == 302
    joined = GroupMember.objects.get(group=group, user=member)
    assert joined.lead
    html = client.get(page).content.decode()
    assert "nanguan_fangang(组长)" in html


@time_machine.travel(NOON, tick=False)
def test_staffing_refuses_strangers_other_districts_and_wrong_accounts(client, make_staff):
    reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220102"])
    client.force_login(reviewer)
    page = reverse("tickets:task_force")
    client.post(page, {"form": "form", "county": "220102"})
    group = TaskGroup.objects.get(county_code="220102", kind="coordination")

    unknown = client.post(page, {"form": "member", "group": group.pk, "username": "nobody"})
    assert unknown.status_code == 400 and "没有用户名为“nobody”的账号" in unknown.content.decode()
    lab = make_staff(Role.LAB, username="a-lab")
    wrong = client.post(page, {"form": "member", "group": group.pk, "username": lab.username})
    assert wrong.status_code == 400 and "角色不是复工复产专班组员" in wrong.content.decode()
    elsewhere = client.post(page, {"form": "form", "county": "220104"})
    assert elsewhere.status_code == 400 and not TaskGroup.objects.filter(county_code="220104")

    client.force_login(make_staff(Role.TASK_GROUP, ["220102"]))
    assert client.post(page, {"form": "form", "county": "220102"}).status_code == 403
    assert not GroupMember.objects.exists()
