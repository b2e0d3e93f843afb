"""`replay_supplies` tells the supply assurance of April 2022 with the seed's numbers — 3 067
supply firms of two levels and 910 small supermarkets open on 20 April, counted from the
registry's status history (and by a count of our own in SQL); 42 firms given vegetables in 3
batches, 22 firms and 21 sites served point to point for 30+ 万元, the protective supplies, 380
workers of 天合富奥 housed and 1 080 beds in 3 schools — and a second run creates nothing."""

import json

import pytest
from django.db import connection, transaction

from fangkong.audit.models import AuditEntry
from fangkong.cli import build_parser
from fangkong.demo.supplies import AS_OF, TIANHE, replay_supplies
from fangkong.supplies.models import (
    Delivery,
    Placement,
    StatusChange,
    SupplyFirm,
    SupplyRequest,
    Upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def replayed(story_city, django_db_blocker):
    """The story city (fangkong.demo.tests.conftest) with the supplies replayed once."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield replay_supplies(seed=7)
        transaction.set_rollback(True)


def open_in_sql(small: bool) -> int:
    """Firms whose latest status (effective and recorded by AS_OF) is open, straight in SQL."""
    t = connection.ops.adapt_datetimefield_value(AS_OF)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COUNT(*) FROM supplies_supplyfirm f
            WHERE f.recorded_at <= %s
              AND (CASE WHEN f.level = 'small' THEN 1 ELSE 0 END) = %s AND (
              SELECT c.status FROM supplies_statuschange c
              WHERE c.firm_id = f.id AND c.effective_at <= %s AND c.recorded_at <= %s
              ORDER BY c.effective_at DESC, c.recorded_at DESC, c.id DESC LIMIT 1
            ) = 'open'
            """,
            [t, int(small), t, t],
        )
        return cursor.fetchone()[0]


def test_the_registry_holds_the_seeds_counts_on_20_april(replayed):
    assert all(u["errors"] == 0 for u in replayed["uploads"])
    assert replayed["city"]["supply_firms"] == 3067
    assert replayed["city"]["small_supermarkets"] == 910
    assert open_in_sql(small=False) == 3067
    assert open_in_sql(small=True) == 910
    # More firms are registered than are open: the history matters.
    assert SupplyFirm.objects.exclude(level="small").count() > 3067
    assert StatusChange.objects.filter(status="suspended").exists()
    assert StatusChange.objects.filter(status="closed").exists()
    assert "两级保供企业共3,067户" in replayed["text"] and "小超市达到910户" in replayed["text"]


def test_the_figures_of_the_district(replayed):
    district = replayed["district"]
    items = {(r["item"], r["unit"]): r["delivered"] for r in district["by_item"]}
    assert items[("vegetables", "吨")] == 10.5
    assert items[("herbal", "副")] == 20000
    assert items[("antigen", "份")] == 200000
    wear = items[("protective_suit", "套")] + items[("mask", "件")] + items[("disinfectant", "件")]
    assert wear > 10000
    assert district["sites_served"] == 21
    assert district["value_yuan"] > 300000
    assert district["beds_offered"] == 1480
    assert replayed["schools"] == {"schools": 3, "beds": 1080}
    assert "42户企业无偿捐赠3批次10.5吨蔬菜" in replayed["text"]
    assert "3所学校1,080个床位" in replayed["text"]
    assert "“点对点”为22家企业、21个工地配送生活物资" in replayed["text"]
    assert "中药汤剂20,000副,抗原试剂盒200,000份" in replayed["text"]
    vegetable_firms = (
        Delivery.objects.filter(lines__item__item="vegetables")
        .values("request__enterprise")
        .distinct()
        .count()
    )
    assert vegetable_firms == 42
    paid = Delivery.objects.filter(funding="paid")
    assert (
        paid.exclude(request__enterprise=None).values("request__enterprise").distinct().count()
        == 22
    )


def test_tianhe_asked_got_its_vegetables_in_two_parts_and_confirmed_them(replayed):
    asked = SupplyRequest.objects.get(enterprise__name=TIANHE, category="living")
    assert asked.requested_by.username == "tianhe"
    parts = list(asked.deliveries.order_by("delivered_at"))
    assert len(parts) == 2
    assert all(p.confirmed_by.username == "tianhe" for p in parts)
    assert AuditEntry.objects.filter(action="supplies.confirm", actor_name="tianhe").count() == 2
    housed = Placement.objects.get(enterprise__name=TIANHE)
    assert housed.people == 380 and housed.site.kind == "vacant"


def test_a_second_run_creates_nothing(replayed):
    counts = (
        SupplyFirm.objects.count(),
        StatusChange.objects.count(),
        Upload.objects.count(),
        SupplyRequest.objects.count(),
        Delivery.objects.count(),
        Placement.objects.count(),
        AuditEntry.objects.count(),
    )
    again = replay_supplies(seed=7)
    assert again["made"] == {"requests": 0, "deliveries": 0, "confirmed": 0}
    assert all(u["repeated"] for u in again["uploads"])
    assert counts == (
        SupplyFirm.objects.count(),
        StatusChange.objects.count(),
        Upload.objects.count(),
        SupplyRequest.objects.count(),
        Delivery.objects.count(),
        Placement.objects.count(),
        AuditEntry.objects.count(),
    )


def test_the_command_line_gives_the_same_counts(replayed, capsys):
    args = build_parser().parse_args(["supplies", "stats", "--as-of", "2022-04-21T00:00", "--json"])
    capsys.readouterr()
    assert args.func(args) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["supply_firms"] == 3067 and shown["small_supermarkets"] == 910
    later = build_parser().parse_args(
        ["supplies", "stats", "--as-of", "2022-04-23T00:00", "--json"]
    )
    assert later.func(later) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["supply_firms"] > 3067 and after["small_supermarkets"] > 910
