"""Housing sites and placements (beds offered, used, free as of a time); the figures against a
count of our own in SQL; `fangkong supplies stats --json`."""

import json

import pytest
from django.db import connection

from fangkong.cli import build_parser
from fangkong.supplies.actions import (
    SupplyError,
    beds_used,
    do_deliver,
    do_end_placement,
    do_import,
    do_open_housing,
    do_place,
    do_request,
)
from fangkong.supplies.stats import figures
from fangkong.supplies.tests.support import CHAOYANG, NANGUAN, bj, enterprise

pytestmark = pytest.mark.django_db


def school(beds=360, name="长春新区第一实验学校", county=NANGUAN, day=18):
    return do_open_housing(
        None,
        name=name,
        kind="school",
        county_code=county,
        beds=beds,
        opened_at=bj(day, 8),
        now=bj(day, 8),
    )


def test_beds_used_and_freed_over_time():
    site = school()
    firm = enterprise()
    placement = do_place(None, site, firm, people=300, placed_at=bj(18, 18), now=bj(18, 18))
    with pytest.raises(SupplyError, match=r"超过该安置点的空余床位\(60张\)"):
        do_place(None, site, firm, people=61, placed_at=bj(19), now=bj(19))
    do_end_placement(None, placement, ended_at=bj(20), now=bj(20))
    assert beds_used(site, bj(19)) == 300
    assert beds_used(site, bj(21)) == 0
    assert figures(bj(19))["beds_used"] == 300
    assert figures(bj(19))["beds_offered"] == 360
    assert figures(bj(17))["beds_offered"] == 0


def test_placements_are_checked():
    site = school()
    firm = enterprise()
    with pytest.raises(SupplyError, match="安置时间:安置点还未启用"):
        do_place(None, site, firm, people=10, placed_at=bj(17), now=bj(19))
    with pytest.raises(SupplyError, match="安置人数:应大于0"):
        do_place(None, site, firm, people=0, placed_at=bj(19), now=bj(19))
    with pytest.raises(SupplyError, match="床位数:应在 1 到 100000 之间"):
        school(beds=0, name="空")


def sql_count(query: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()[0] or 0


def test_the_figures_match_a_count_in_sql(make_staff):
    header = "登记编号,名称,级别,类型,区县代码,状态,生效时间\n"
    rows = "".join(
        f"BG{n},保供{n},{'市级' if n % 3 == 0 else '区级'},超市,"
        f"{NANGUAN if n % 2 else CHAOYANG},{'营业' if n % 5 else '暂停营业'},2022-04-0{1 + n % 8}\n"
        for n in range(40)
    )
    do_import(None, (header + rows).encode(), "名录.csv", now=bj(10))
    firms = [enterprise(f"企业{n}", serial=n + 1) for n in range(3)]
    for n, firm in enumerate(firms):
        asked = do_request(
            None, enterprise=firm, category="living", items=[("vegetables", "吨", "1")], now=bj(11)
        )
        if n:
            do_deliver(
                None,
                asked,
                lines={asked.items.get().pk: "0.5"},
                supplier="x",
                funding="donated",
                delivered_at=bj(12),
                now=bj(12),
            )
    school()
    shown = figures(bj(20))
    t = connection.ops.adapt_datetimefield_value(bj(20))
    open_firms = sql_count(
        "SELECT COUNT(*) FROM supplies_supplyfirm f WHERE f.level <> 'small' AND ("
        " SELECT c.status FROM supplies_statuschange c WHERE c.firm_id = f.id"
        " AND c.effective_at <= %s ORDER BY c.effective_at DESC, c.id DESC LIMIT 1) = 'open'",
        [t],
    )
    assert shown["supply_firms"] == open_firms == 32
    assert shown["requests"] == sql_count("SELECT COUNT(*) FROM supplies_supplyrequest") == 3
    assert shown["deliveries"] == sql_count("SELECT COUNT(*) FROM supplies_delivery") == 2
    assert shown["firms_served"] == sql_count(
        "SELECT COUNT(DISTINCT r.enterprise_id) FROM supplies_delivery d"
        " JOIN supplies_supplyrequest r ON r.id = d.request_id"
    )
    assert shown["by_item"] == [
        {
            "item": "vegetables",
            "item_label": "蔬菜",
            "unit": "吨",
            "requested": 3,
            "delivered": 1,
            "deliveries": 2,
        }
    ]
    assert shown["beds_offered"] == sql_count("SELECT SUM(beds) FROM supplies_housingsite")


def run(capsys, *argv) -> tuple[int, str, str]:
    args = build_parser().parse_args(["supplies", "stats", *argv])
    capsys.readouterr()
    code = args.func(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_command_line(capsys):
    school()
    school(name="朝阳区某学校", county=CHAOYANG, beds=100)
    code, out, _ = run(capsys, "--as-of", "2022-04-20T00:00", "--json")
    shown = json.loads(out)
    assert code == 0
    assert {
        "supply_firms",
        "small_supermarkets",
        "deliveries",
        "requests",
        "firms_served",
        "by_item",
        "beds_offered",
        "beds_used",
    } <= set(shown)
    assert shown["beds_offered"] == 460
    code, out, _ = run(capsys, "--as-of", "2022-04-20T00:00", "--county", CHAOYANG, "--json")
    assert json.loads(out)["beds_offered"] == 100
    code, out, _ = run(capsys, "--as-of", "2022-04-20T00:00")
    assert "床位 460 张" in out
    code, _, err = run(capsys, "--county", "220999")
    assert code == 2 and "未知的区县代码 220999" in err


def test_named_employees_are_placed_and_counted(city):
    from fangkong.enterprises.models import Employee
    from fangkong.people.models import Person

    firm, other = enterprise(), enterprise("另一家企业", serial=2)
    workers = [
        Employee.objects.create(
            enterprise=firm,
            person=Person.objects.get(id_number=n),
            role="returning",
            since=bj(17),
            recorded_at=bj(17),
        )
        for n in city.nanguan[:3]
    ]
    stranger = Employee.objects.create(
        enterprise=other,
        person=Person.objects.get(id_number=city.nanguan[3]),
        role="returning",
        since=bj(17),
        recorded_at=bj(17),
    )
    site = school(beds=10)
    with pytest.raises(SupplyError, match="安置人员:不是该企业的员工"):
        do_place(None, site, firm, employees=[*workers, stranger], placed_at=bj(19), now=bj(19))
    placement = do_place(None, site, firm, employees=workers, placed_at=bj(19), now=bj(19))
    assert placement.people == 3
    assert set(placement.employees.all()) == set(workers)
    assert beds_used(site, bj(19, 12)) == 3
