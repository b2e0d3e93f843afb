"""Problem tickets in 长春新区 on 12–20 April 2022: raised by the enterprise, the hotline and the
district; assigned by the 综合协调组, solved by a member of the group, reopened and closed; who
sees and does what; every step audited; the dispatch figures against a count in SQL; the CLI's
JSON, the API and the Excel export."""

import io
import json
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from openpyxl import load_workbook

from fangkong.audit.models import AuditEntry
from fangkong.cli import main
from fangkong.tickets import access
from fangkong.tickets.actions import (
    TicketError,
    do_add_member,
    do_assign,
    do_close,
    do_note,
    do_raise_ticket,
    do_reopen,
    do_solve,
)
from fangkong.tickets.models import Ticket, TicketStep
from fangkong.tickets.rules import LOCAL, day_end
from fangkong.tickets.stats import dispatch, figures
from fangkong.tickets.tests.support import make_desk

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


def bj(day, hour, minute=0):
    return datetime(2022, 4, day, hour, minute, tzinfo=LOCAL)


@pytest.fixture
def desk(make_staff):
    return make_desk(make_staff)


RAISED = bj(12, 9)


def raise_(desk, user=None, when=RAISED, category="housing", enterprise=None, **kw):
    return do_raise_ticket(
        user or desk.plant,
        enterprise or desk.enterprise,
        category=category,
        description=kw.pop("description", "返岗员工380人无处住宿"),
        contact_name="王伟",
        contact_phone="13904310001",
        now=when,
        **kw,
    )


def test_the_enterprise_raises_the_coordinator_assigns_a_member_solves_and_it_is_audited(desk):
    t = raise_(desk)
    assert (t.status, t.channel, t.number) == ("new", "enterprise", "22017320220412001")
    t = do_assign(desk.coordinator, t, "staff_return", priority="urgent", now=bj(12, 9, 20))
    assert (t.status, t.group.kind, t.due_at) == ("assigned", "staff_return", bj(12, 13, 0))
    t = do_note(desk.staff_return, t, "已联系周边空闲楼宇", now=bj(12, 10))
    t = do_solve(desk.staff_return, t, "协调周边空闲楼宇安置返岗员工380人", now=bj(12, 12, 50))
    t = do_close(desk.plant, t, now=bj(12, 14))
    assert t.status == "closed"
    assert list(t.steps.values_list("action", flat=True)) == [
        "raise",
        "assign",
        "note",
        "solve",
        "close",
    ]
    audited = list(
        AuditEntry.objects.filter(target_type="ticket", target_id=str(t.pk))
        .order_by("id")
        .values_list("action", "actor_name")
    )
    assert audited == [
        ("tickets.raise", "tianhe"),
        ("tickets.assign", "zonghe"),
        ("tickets.note", "fangang"),
        ("tickets.solve", "fangang"),
        ("tickets.close", "tianhe"),
    ]


def test_only_the_coordination_group_assigns_and_only_the_assigned_group_solves(desk):
    t = raise_(desk, desk.hotline, category="pass", description="物流车辆通行证未办理")
    assert t.channel == "hotline"
    for user in (desk.staff_return, desk.plant, desk.hotline):
        with pytest.raises(TicketError, match="只有综合协调组或指挥部可以分派"):
            do_assign(user, t, "traffic", now=bj(12, 10))
    t = do_assign(desk.coordinator, t, "traffic", now=bj(12, 10))
    with pytest.raises(TicketError, match="只有承办组成员可以办结"):
        do_solve(desk.staff_return, t, "已办", now=bj(12, 11))
    t = do_solve(desk.traffic, t, "通行证当日发放", now=bj(12, 11))
    assert t.resolution == "通行证当日发放"


def test_the_raiser_or_the_district_reopens_with_a_reason(desk):
    t = raise_(desk)
    t = do_assign(desk.coordinator, t, "staff_return", now=bj(12, 10))
    t = do_solve(desk.staff_return, t, "已安置", now=bj(12, 11))
    with pytest.raises(TicketError, match="重新打开的原因"):
        do_reopen(desk.plant, t, "  ", now=bj(12, 12))
    with pytest.raises(TicketError, match="只有提出方、所属区县可以重新打开"):
        do_reopen(desk.traffic, t, "x", now=bj(12, 12))
    t = do_reopen(desk.district, t, "企业反映仍有50人未安置", now=bj(12, 12))
    assert (t.status, t.resolution) == ("assigned", "")
    with pytest.raises(TicketError, match="时间早于上一步"):
        do_solve(desk.staff_return, t, "x", now=bj(12, 11, 30))


def test_bad_input_names_the_field(desk):
    with pytest.raises(TicketError, match="联系电话:应为5至20位数字"):
        do_raise_ticket(
            desk.plant,
            desk.enterprise,
            category="housing",
            description="x",
            contact_name="王伟",
            contact_phone="call me",
            now=bj(12, 9),
        )
    with pytest.raises(TicketError, match="问题描述:不能为空"):
        raise_(desk, description="   ")
    with pytest.raises(TicketError, match="问题类别:未知的类别"):
        raise_(desk, category="canteen")
    t = raise_(desk)
    with pytest.raises(TicketError, match="承办组:请选择五个工作组之一"):
        do_assign(desk.coordinator, t, "canteen", now=bj(12, 10))


def test_a_districts_member_sees_only_their_district_and_the_enterprise_its_own(desk):
    mine = raise_(desk)
    theirs = raise_(desk, desk.hotline, enterprise=desk.other, category="policy")
    assert set(access.visible_tickets(desk.traffic)) == {mine}
    assert set(access.visible_tickets(desk.outsider)) == {theirs}
    assert set(access.visible_tickets(desk.plant)) == {mine}
    assert set(access.visible_tickets(desk.hotline)) == {mine, theirs}
    # The 综合协调组 of 南关区 neither sees nor assigns 新区's tickets.
    with pytest.raises(PermissionDenied, match="无权查看或办理该工单"):
        do_assign(desk.outsider, mine, "traffic", now=bj(12, 10))
    with pytest.raises(PermissionDenied, match="无权为该企业提出问题"):
        raise_(desk, desk.plant, enterprise=desk.other)


def test_a_member_must_be_a_task_group_account_of_the_district(desk, make_staff):
    with pytest.raises(TicketError, match="不负责区县 220173"):
        do_add_member(None, desk.groups["traffic"], desk.outsider, now=bj(8, 9))
    with pytest.raises(TicketError, match="角色不是复工复产专班组员"):
        do_add_member(None, desk.groups["traffic"], desk.district, now=bj(8, 9))


def two_days(desk):
    """12 April: four tickets; 13 April: two more; by the evening of 13 April two solved (one of
    them reopened and solved again), one overdue, one never assigned."""
    a = raise_(desk, when=bj(12, 9))
    a = do_assign(desk.coordinator, a, "staff_return", priority="urgent", now=bj(12, 9, 30))
    a = do_solve(desk.staff_return, a, "已安置", now=bj(12, 12))
    b = raise_(desk, desk.hotline, when=bj(12, 10), category="pass", description="通行证")
    b = do_assign(desk.coordinator, b, "traffic", priority="high", now=bj(12, 11))
    c = raise_(desk, desk.district, when=bj(12, 15), category="logistics", description="货滞留")
    c = do_assign(desk.coordinator, c, "traffic", priority="normal", now=bj(12, 16))
    c = do_solve(desk.traffic, c, "绿色通道", now=bj(12, 18))
    c = do_reopen(desk.district, c, "仍未到货", now=bj(13, 9))
    c = do_solve(desk.traffic, c, "已到货", now=bj(13, 15))
    d = raise_(desk, desk.hotline, when=bj(13, 10), category="policy", description="咨询")
    e = raise_(desk, when=bj(13, 11), category="testing", description="检测力量不足")
    e = do_assign(desk.coordinator, e, "staff_return", now=bj(13, 11, 10))
    e = do_assign(desk.coordinator, e, "epidemic", priority="urgent", now=bj(13, 11, 20))
    return a, b, c, d, e


def counted_in_sql(county: str, as_of: datetime) -> dict:
    """The totals straight from the tables: each ticket's last step before as_of."""
    moment = connection.ops.adapt_datetimefield_value(as_of)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COALESCE(g.kind, ''), COUNT(*),
                   SUM(CASE WHEN s.status IN ('solved', 'closed') THEN 1 ELSE 0 END),
                   SUM(CASE WHEN s.status IN ('new', 'assigned') THEN 1 ELSE 0 END),
                   SUM(CASE WHEN s.status IN ('new', 'assigned') AND s.due_at < %s
                       THEN 1 ELSE 0 END)
            FROM tickets_ticketstep s
            JOIN tickets_ticket t ON t.id = s.ticket_id
            LEFT JOIN tickets_taskgroup g ON g.id = s.group_id
            WHERE t.county_code = %s AND s.at < %s AND NOT EXISTS (
                SELECT 1 FROM tickets_ticketstep later
                WHERE later.ticket_id = s.ticket_id AND later.at < %s
                  AND (later.at > s.at OR (later.at = s.at AND later.id > s.id)))
            GROUP BY COALESCE(g.kind, '')
            """,
            [moment, county, moment, moment],
        )
        rows = cursor.fetchall()
    by_group = {
        kind: dict(zip(("raised", "solved", "open", "overdue"), rest, strict=True))
        for kind, *rest in rows
    }
    total = {
        k: sum(g[k] for g in by_group.values()) for k in ("raised", "solved", "open", "overdue")
    }
    return {**total, "by_group": by_group}


def test_the_dispatch_figures_agree_with_a_count_in_sql(desk):
    two_days(desk)
    for as_of in (
        bj(12, 12, 30),
        day_end(date(2022, 4, 12)),
        bj(13, 12),
        day_end(date(2022, 4, 13)),
    ):
        shown = figures(as_of, county="220173")
        sql = counted_in_sql("220173", as_of)
        keys = ("raised", "solved", "open", "overdue")
        assert {k: shown[k] for k in keys} == {k: sql[k] for k in keys}
        for g in shown["by_group"]:
            counted = sql["by_group"].get(g["group"], dict.fromkeys(keys, 0))
            assert {k: g[k] for k in keys} == counted
    end = figures(day_end(date(2022, 4, 13)), county="220173")
    assert (end["raised"], end["solved"], end["open"], end["overdue"], end["unassigned"]) == (
        5,
        2,
        3,
        2,
        1,
    )
    # 12 April 12:30: a solved, b and c open, nothing overdue yet.
    noon = figures(bj(12, 12, 30), county="220173")
    assert (noon["raised"], noon["solved"], noon["open"], noon["overdue"]) == (2, 1, 1, 0)


def test_the_day_view_counts_each_groups_new_solved_open_and_overdue(desk):
    two_days(desk)
    days = dispatch([date(2022, 4, 12), date(2022, 4, 13)], day_end(date(2022, 4, 13)))
    twelfth, thirteenth = ({g["group"]: g for g in d["groups"]} for d in days)
    assert twelfth["staff_return"] == {
        "group": "staff_return",
        "group_label": "员工返岗协调组",
        "new": 1,
        "solved": 1,
        "open": 0,
        "overdue": 0,
    }
    assert (
        twelfth["traffic"]["new"],
        twelfth["traffic"]["solved"],
        twelfth["traffic"]["open"],
    ) == (
        2,
        1,
        1,
    )
    # c was reopened and solved again on the 13th: solved that day again; b overdue by then
    assert (thirteenth["traffic"]["solved"], thirteenth["traffic"]["overdue"]) == (1, 1)
    assert (thirteenth["epidemic"]["new"], thirteenth["epidemic"]["overdue"]) == (1, 1)
    assert thirteenth[""]["open"] == 1
    assert days[1]["total"]["new"] == 2


@time_machine.travel(bj(21, 8))
def test_the_cli_prints_the_stats_as_json(desk, capsys):
    two_days(desk)
    argv = ["tickets", "stats", "--as-of", "2022-04-13T24:00", "--county", "220173", "--json"]
    assert main(argv) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == json.loads(
        json.dumps(figures(day_end(date(2022, 4, 13)), county="220173"), ensure_ascii=False)
    )
    assert (shown["raised"], shown["solved"], shown["open"], shown["overdue"]) == (5, 2, 3, 2)
    traffic = next(g for g in shown["by_group"] if g["group"] == "traffic")
    assert traffic == {
        "group": "traffic",
        "group_label": "车辆交通协调组",
        "raised": 2,
        "solved": 1,
        "open": 1,
        "overdue": 1,
    }
    assert main(["tickets", "stats", "--as-of", "2022-04-13T24:00"]) == 0
    assert "已解决 2 个" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["tickets", "stats", "--county", "2201"])
    assert "不是有效的区县代码" in capsys.readouterr().err


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@time_machine.travel(bj(14, 9))
def test_the_api_raises_assigns_solves_and_lists_in_scope(desk):
    plant = signed_in(desk.plant)
    answer = plant.post(
        "/api/tickets/",
        {
            "enterprise_id": desk.enterprise.pk,
            "category": "housing",
            "description": "返岗员工无处住宿",
            "contact_name": "王伟",
            "contact_phone": "13904310001",
        },
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    pk = answer.json()["id"]
    assert answer.json()["contact"] == "*伟 139****0001"
    refused = plant.post(
        "/api/tickets/",
        {
            "enterprise_id": desk.other.pk,
            "category": "housing",
            "description": "x",
            "contact_name": "王伟",
            "contact_phone": "13904310001",
        },
        content_type="application/json",
    )
    assert refused.status_code == 404
    bad = signed_in(desk.coordinator).post(
        f"/api/tickets/{pk}/assign", {"group": "canteen"}, content_type="application/json"
    )
    assert bad.status_code == 422
    done = signed_in(desk.coordinator).post(
        f"/api/tickets/{pk}/assign",
        {"group": "staff_return", "priority": "high"},
        content_type="application/json",
    )
    assert done.json()["group"] == "staff_return" and done.json()["status"] == "assigned"
    wrong = signed_in(desk.traffic).post(
        f"/api/tickets/{pk}/solve", {"text": "x"}, content_type="application/json"
    )
    assert wrong.status_code == 403 and "只有承办组成员" in wrong.json()["detail"]
    empty = signed_in(desk.staff_return).post(
        f"/api/tickets/{pk}/solve", {"text": " "}, content_type="application/json"
    )
    assert empty.status_code == 400 and empty.json()["detail"].startswith("办理结果")
    solved = signed_in(desk.staff_return).post(
        f"/api/tickets/{pk}/solve", {"text": "已安置"}, content_type="application/json"
    )
    assert solved.json()["status"] == "solved"
    assert [s["action"] for s in solved.json()["steps"]] == ["raise", "assign", "solve"]
    reopened = plant.post(
        f"/api/tickets/{pk}/reopen", {"text": "仍未安置"}, content_type="application/json"
    )
    assert reopened.json()["status"] == "assigned"
    noted = plant.post(f"/api/tickets/{pk}/note", {"text": "补充"}, content_type="application/json")
    assert noted.status_code == 200
    assert [t["id"] for t in signed_in(desk.outsider).get("/api/tickets/").json()] == []
    assert signed_in(desk.outsider).get(f"/api/tickets/{pk}").status_code == 404
    stats = signed_in(desk.district).get("/api/tickets/stats").json()
    assert (stats["raised"], stats["open"], stats["counties"]) == (1, 1, ["220173"])
    assert signed_in(desk.district).get("/api/tickets/stats?county=220102").status_code == 403
    assert signed_in(desk.plant).get("/api/tickets/stats").status_code == 403


@time_machine.travel(bj(14, 9))
def test_the_pages_raise_assign_and_show_the_history_and_the_dispatch_exports(desk):
    two_days(desk)
    plant = signed_in(desk.plant)
    page = plant.post(
        "/tickets/new/",
        {
            "enterprise": desk.enterprise.pk,
            "category": "staff_return",
            "description": "员工居住小区封控",
            "contact_name": "李强",
            "contact_phone": "bad",
        },
    )
    assert page.status_code == 400 and "联系电话" in page.content.decode()
    page = plant.post(
        "/tickets/new/",
        {
            "enterprise": desk.enterprise.pk,
            "category": "staff_return",
            "description": "员工居住小区封控",
            "contact_name": "李强",
            "contact_phone": "13904310002",
        },
    )
    assert page.status_code == 302
    ticket = Ticket.objects.get(description="员工居住小区封控")
    listed = signed_in(desk.traffic).get("/tickets/").content.decode()
    assert ticket.number in listed and "*强 139****0002" in listed and "李强" not in listed
    assert signed_in(desk.outsider).get(f"/tickets/{ticket.pk}/").status_code == 404
    coordinator = signed_in(desk.coordinator)
    detail = coordinator.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "建议:员工返岗协调组" in detail and 'id="assign-form"' in detail
    coordinator.post(
        f"/tickets/{ticket.pk}/assign/", {"group": "staff_return", "priority": "high", "due": ""}
    )
    ticket.refresh_from_db()
    assert ticket.group.kind == "staff_return"
    history = signed_in(desk.staff_return).get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'id="solve-form"' in history and "分派" in history

    shown = signed_in(desk.district).get("/tickets/dispatch/?day=2022-04-13").content.decode()
    assert 'id="total-solved">2<' in shown and 'id="total-overdue">2<' in shown
    export = signed_in(desk.district).get("/tickets/dispatch.xlsx?day=2022-04-13")
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(export.content))
    summary = list(book["汇总"].iter_rows(values_only=True))
    assert summary[2][:4] == (5, 2, 3, 2)
    days = [r for r in book["每日"].iter_rows(values_only=True) if r[1] == "合计"]
    assert days[-1][:4] == ("2022-04-13", "合计", 2, 1)
    assert AuditEntry.objects.filter(action="tickets.dispatch_export").count() == 1
    assert signed_in(desk.plant).get("/tickets/dispatch/").status_code == 403
    assert TicketStep.objects.filter(ticket=ticket).count() == 2
    assert (datetime.now(LOCAL) - timedelta(minutes=1)) < ticket.updated_at


def test_the_contact_in_clear_is_for_those_who_handle_it_and_each_opening_is_audited(
    desk, make_staff
):
    t = raise_(desk)
    shown = signed_in(desk.coordinator).get(f"/tickets/{t.pk}/contact/")
    assert shown.content.decode() == "王伟 13904310001"
    assert AuditEntry.objects.filter(action="tickets.contact_view", actor_name="zonghe").exists()
    assert signed_in(desk.outsider).get(f"/tickets/{t.pk}/contact/").status_code == 404
    auditor = make_staff("auditor", username="auditor")
    assert signed_in(auditor).get(f"/tickets/{t.pk}/contact/").status_code == 403
