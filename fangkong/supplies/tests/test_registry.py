"""The registry of supply firms and small supermarkets: a firm's status at any time is its
latest change effective and recorded by then, so the counts of a past moment do not move when a
change is back-dated later; the rules of registering and changing a status; district scoping."""

import pytest
from django.core.exceptions import PermissionDenied

from fangkong.audit.models import AuditEntry
from fangkong.supplies.actions import SupplyError, do_change_status, do_register_firm, status_of
from fangkong.supplies.stats import figures, open_firms
from fangkong.supplies.tests.support import CHAOYANG, NANGUAN, bj, enterprise

pytestmark = pytest.mark.django_db


def register(code, level="district", kind="supermarket", county=NANGUAN, day=8, **more):
    return do_register_firm(
        None,
        code=code,
        name=f"保供{code}",
        level=level,
        kind=kind,
        county_code=county,
        effective_at=bj(day, 8),
        now=bj(day, 9),
        **more,
    )


def test_counts_follow_the_status_history_as_of_any_time():
    market = register("BG1", kind="market", level="city")
    shop = register("XC1", level="small", kind="small_shop")
    register("BG2", county=CHAOYANG)
    do_change_status(
        None,
        market,
        status="suspended",
        effective_at=bj(14, 9),
        reason="从业人员核酸异常",
        now=bj(14, 10),
    )
    do_change_status(None, market, status="open", effective_at=bj(18, 8), reason="", now=bj(18, 9))
    assert figures(bj(10))["supply_firms"] == 2
    assert figures(bj(10))["city_level_firms"] == 1
    assert figures(bj(15))["supply_firms"] == 1
    assert figures(bj(19))["supply_firms"] == 2
    assert figures(bj(19))["small_supermarkets"] == 1
    assert figures(bj(19), [CHAOYANG])["supply_firms"] == 1
    assert figures(bj(8, 7))["supply_firms"] == 0  # before anything was registered
    assert status_of(market, bj(15)) == "suspended"
    assert status_of(shop, bj(19)) == "open"


def test_a_back_dated_change_does_not_rewrite_what_was_known_earlier():
    firm = register("BG1")
    # On the 16th someone records that it had closed on the 12th.
    do_change_status(None, firm, status="closed", effective_at=bj(12), reason="停业", now=bj(16))
    assert open_firms(bj(14)).count() == 1  # as known on the 14th
    assert open_firms(bj(16, 12)).count() == 0  # as known on the 16th
    history = list(firm.changes.order_by("effective_at").values_list("status", flat=True))
    assert history == ["open", "closed"]  # appended, nothing overwritten


def test_each_decision_is_audited():
    firm = register("BG1")
    do_change_status(None, firm, status="suspended", effective_at=bj(9), reason="消杀", now=bj(9))
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-2:] == ["supplies.firm.register", "supplies.firm.status"]


@pytest.mark.parametrize(
    ("more", "message"),
    [
        ({"level": "small", "kind": "supermarket"}, "类型:小超市的级别应为"),
        ({"level": "city", "kind": "small_shop"}, "类型:小超市的级别应为"),
        ({"level": "省级"}, "级别:“省级”不是可选值"),
        ({"county": "110101"}, "所属区县:“110101”不是长春市现行的区县"),
        ({"day": 8, "status": "营业中"}, "状态:“营业中”不是可选值"),
    ],
)
def test_bad_registrations_are_refused_naming_the_field(more, message):
    with pytest.raises(SupplyError, match=message):
        register("BG9", **more)


def test_status_changes_are_checked():
    firm = register("BG1")
    with pytest.raises(SupplyError, match="原因:必填"):
        do_change_status(None, firm, status="suspended", effective_at=bj(9), reason="", now=bj(9))
    with pytest.raises(SupplyError, match="生效时间:不能晚于登记时间"):
        do_change_status(None, firm, status="open", effective_at=bj(12), reason="", now=bj(9))
    with pytest.raises(SupplyError, match="登记编号:BG1已登记"):
        register("BG1")


def test_labels_are_accepted_and_a_firm_may_name_its_enterprise():
    registered = enterprise()
    firm = do_register_firm(
        None,
        code="BG5",
        name="欧亚超市",
        level="市级",
        kind="大型商超",
        county_code=NANGUAN,
        enterprise=registered,
        effective_at=bj(8),
        now=bj(8),
    )
    assert (firm.level, firm.kind, firm.enterprise) == ("city", "hypermarket", registered)


def test_supply_officers_keep_their_own_districts_only(make_staff):
    officer = make_staff("supply_officer", [NANGUAN])
    reviewer = make_staff("district_reviewer", [NANGUAN])
    firm = do_register_firm(
        officer,
        code="BG1",
        name="南关农贸市场",
        level="district",
        kind="market",
        county_code=NANGUAN,
        effective_at=bj(8),
        now=bj(8),
    )
    with pytest.raises(PermissionDenied):
        do_register_firm(
            officer,
            code="BG2",
            name="朝阳超市",
            level="district",
            kind="supermarket",
            county_code=CHAOYANG,
            effective_at=bj(8),
            now=bj(8),
        )
    with pytest.raises(PermissionDenied):
        do_change_status(reviewer, firm, status="closed", effective_at=bj(9), reason="x", now=bj(9))
    assert AuditEntry.objects.filter(action="supplies.firm.register").count() == 1
