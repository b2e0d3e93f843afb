"""Requests for supplies, deliveries (partial ones too) and the receiver's confirmation: who may
do which, what is refused and why, and that each decision is audited."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from fangkong.audit.models import AuditEntry
from fangkong.supplies.actions import (
    SupplyError,
    do_confirm,
    do_deliver,
    do_register_site,
    do_request,
)
from fangkong.supplies.models import Delivery
from fangkong.supplies.tests.support import CHAOYANG, NANGUAN, account_of, bj, enterprise
from fangkong.supplies.views import _state

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_staff):
    firm = enterprise()
    other = enterprise("长春富维东阳汽车塑料零部件有限公司", serial=2)
    return {
        "firm": firm,
        "other": other,
        "account": account_of(make_staff, firm, "jiefang"),
        "other_account": account_of(make_staff, other, "fuwei"),
        "officer": make_staff("supply_officer", [NANGUAN], "officer"),
        "far_officer": make_staff("supply_officer", [CHAOYANG], "far"),
        "reviewer": make_staff("district_reviewer", [NANGUAN], "reviewer"),
    }


def ask(user, firm, items=(("vegetables", "吨", "2"), ("daily_goods", "份", "380"))):
    return do_request(user, enterprise=firm, category="living", items=items, now=bj(12, 8))


def deliver(user, supply_request, amounts: dict, hour=10, **more):
    items = {i.item: i.pk for i in supply_request.items.all()}
    kwargs = {"supplier": "新区物资保障协调组", "funding": "donated"} | more
    return do_deliver(
        user,
        supply_request,
        lines={items[k]: v for k, v in amounts.items()},
        delivered_at=bj(12, hour),
        now=bj(12, hour),
        **kwargs,
    )


def test_request_partial_delivery_then_the_rest_then_confirmation(people):
    asked = ask(people["account"], people["firm"])
    assert _state(asked) == "待配送"
    first = deliver(people["officer"], asked, {"vegetables": "1.5"})
    assert _state(asked) == "部分配送"
    second = deliver(people["officer"], asked, {"vegetables": "0.5", "daily_goods": "380"}, 11)
    assert _state(asked) == "已配送待确认"
    do_confirm(people["account"], first, now=bj(12, 15))
    assert _state(asked) == "已配送待确认"
    do_confirm(people["account"], second, now=bj(12, 15))
    assert _state(asked) == "已确认收货"
    second.refresh_from_db()
    assert second.confirmed_by == people["account"]
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", "actor_name"))
    assert actions == [
        ("supplies.request", "jiefang"),
        ("supplies.deliver", "officer"),
        ("supplies.deliver", "officer"),
        ("supplies.confirm", "jiefang"),
        ("supplies.confirm", "jiefang"),
    ]


def test_more_than_is_left_is_refused(people):
    asked = ask(people["account"], people["firm"])
    deliver(people["officer"], asked, {"vegetables": "1.5"})
    with pytest.raises(SupplyError, match=r"蔬菜数量:超过尚未配送的数量\(0.5吨\)"):
        deliver(people["officer"], asked, {"vegetables": "0.6"})
    assert Delivery.objects.count() == 1


def test_another_enterprise_cannot_confirm_and_the_deliverer_cannot_either(people):
    asked = ask(people["account"], people["firm"])
    delivery = deliver(people["officer"], asked, {"vegetables": "2"})
    with pytest.raises(PermissionDenied):
        do_confirm(people["other_account"], delivery, now=bj(12, 15))
    with pytest.raises(PermissionDenied):
        do_confirm(people["officer"], delivery, now=bj(12, 15))
    do_confirm(people["reviewer"], delivery, now=bj(12, 15))  # the district's liaison may
    with pytest.raises(SupplyError, match="已确认过"):
        do_confirm(people["account"], delivery, now=bj(12, 16))


def test_who_may_request_and_deliver(people):
    with pytest.raises(PermissionDenied):
        ask(people["other_account"], people["firm"])  # not its own enterprise
    asked = ask(people["reviewer"], people["firm"])  # the district's liaison may
    with pytest.raises(PermissionDenied):
        deliver(people["far_officer"], asked, {"vegetables": "1"})  # another district
    with pytest.raises(PermissionDenied):
        deliver(people["reviewer"], asked, {"vegetables": "1"})  # reviewers do not deliver


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ((("vegetables", "套", "2"),), "第1项单位:套不是该物资的计量单位(应为吨或千克)"),
        ((("vegetables", "吨", "-1"),), "第1项数量:应大于0"),
        ((("vegetables", "吨", "两吨"),), "第1项数量:“两吨”不是数字"),
        ((("vegetables", "吨", "0.0001"),), "第1项数量:最多三位小数"),
        ((("mask", "件", "10"),), "第1项物资:口罩不属于所选类别"),
        ((("vegetables", "吨", "1"), ("vegetables", "吨", "2")), "第2项物资:蔬菜(吨)重复"),
        ((), "物资:至少填写一项"),
    ],
)
def test_bad_requests_name_the_item_and_the_reason(people, items, message):
    with pytest.raises(SupplyError) as caught:
        ask(people["account"], people["firm"], items)
    assert str(caught.value) == message


def test_a_building_site_requests_through_the_district_and_is_served(people):
    site = do_register_site(
        people["reviewer"], name="南关区某项目工地", county_code=NANGUAN, workers=80, now=bj(11)
    )
    asked = do_request(
        people["reviewer"],
        site=site,
        category="protective",
        items=[("antigen", "份", "500")],
        now=bj(12, 8),
    )
    delivery = deliver(
        people["officer"], asked, {"antigen": "500"}, funding="paid", value_yuan="4500"
    )
    with pytest.raises(PermissionDenied):
        do_confirm(people["account"], delivery, now=bj(12, 15))
    do_confirm(people["reviewer"], delivery, now=bj(12, 15))
    assert delivery.value_yuan == Decimal("4500")


def test_delivery_inputs_are_checked(people):
    asked = ask(people["account"], people["firm"])
    with pytest.raises(SupplyError, match="配送单位:必填"):
        deliver(people["officer"], asked, {"vegetables": "1"}, supplier="")
    with pytest.raises(SupplyError, match="方式:“白送”不是可选值"):
        deliver(people["officer"], asked, {"vegetables": "1"}, funding="白送")
    with pytest.raises(SupplyError, match="货值"):
        deliver(people["officer"], asked, {"vegetables": "1"}, value_yuan="-5")
    with pytest.raises(SupplyError, match="配送时间:不能早于申请时间"):
        do_deliver(
            people["officer"],
            asked,
            lines={asked.items.first().pk: "1"},
            supplier="x",
            funding="paid",
            delivered_at=bj(11),
            now=bj(12),
        )
