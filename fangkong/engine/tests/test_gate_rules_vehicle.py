"""A vehicle pass (车辆通行证, `fk-vehicle`) at a road checkpoint: valid only within its window,
for its plate, while not revoked, and while the driver's code is green; the health code scanned
after it must be the driver's own."""

from datetime import UTC, datetime, timedelta

import pytest

from fangkong.engine import tokens
from fangkong.engine.gate_rules import (
    NOT_THE_DRIVER,
    VEHICLE_REVOKED,
    RuleError,
    check_driver_code,
    check_vehicle_pass,
    parse_requirements,
)

NOW = datetime(2022, 4, 20, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
START = int((NOW - timedelta(days=1)).timestamp())  # 04-19 10:00
END = int((NOW + timedelta(days=6)).timestamp())  # 04-26 10:00
PASS = {"pid": 7, "pl": "吉A12345", "sub": "driver-ref", "nbf": START, "exp": END}


def test_a_pass_in_its_window_with_a_green_driver_passes():
    decision = check_vehicle_pass(PASS, NOW, driver_colour="green", plate="吉A 12345")
    assert decision.passed and decision.reasons == ()


def test_offline_the_driver_colour_is_left_to_the_code_scanned_next():
    assert check_vehicle_pass(PASS, NOW, driver_colour=None).passed


@pytest.mark.parametrize(
    ("colour", "reason"),
    [
        ("yellow", "驾驶员健康码为黄码,车辆通行证暂停使用"),
        ("red", "驾驶员健康码为红码,车辆通行证暂停使用"),
        ("purple", "驾驶员健康码为未知,车辆通行证暂停使用"),
    ],
)
def test_a_driver_whose_code_is_not_green_is_refused_with_the_reason(colour, reason):
    decision = check_vehicle_pass(PASS, NOW, driver_colour=colour)
    assert not decision.passed and decision.reasons == (reason,)


def test_a_revoked_pass_is_refused():
    decision = check_vehicle_pass(PASS, NOW, driver_colour="green", revoked=True)
    assert decision.reasons == (VEHICLE_REVOKED,)


@pytest.mark.parametrize(
    "at",
    [
        datetime.fromtimestamp(START, UTC) - timedelta(seconds=1),
        datetime.fromtimestamp(END, UTC),
        datetime.fromtimestamp(END, UTC) + timedelta(days=1),
    ],
)
def test_outside_its_window_the_pass_is_refused_naming_the_window(at):
    decision = check_vehicle_pass(PASS, at, driver_colour="green")
    assert decision.reasons == ("通行证有效期为04-19 10:00至04-26 10:00,当前不在有效期内",)


def test_the_first_and_last_second_of_the_window():
    first = datetime.fromtimestamp(START, UTC)
    last = datetime.fromtimestamp(END - 1, UTC)
    assert check_vehicle_pass(PASS, first, driver_colour="green").passed
    assert check_vehicle_pass(PASS, last, driver_colour="green").passed


@pytest.mark.parametrize(
    "claims", [{**PASS, "nbf": None}, {**PASS, "exp": "tomorrow"}, {"pl": "吉A12345"}]
)
def test_a_pass_without_a_window_is_refused(claims):
    decision = check_vehicle_pass(claims, NOW, driver_colour="green")
    assert decision.reasons == ("通行证有效期为未知,当前不在有效期内",)


def test_another_plate_is_refused_and_every_reason_is_named():
    decision = check_vehicle_pass(
        {k: v for k, v in PASS.items() if k != "pl"},
        NOW,
        driver_colour="yellow",
        plate="吉b99999",
        revoked=True,
    )
    assert decision.reasons == (
        VEHICLE_REVOKED,
        "车牌吉b99999与通行证登记的未知不符",
        "驾驶员健康码为黄码,车辆通行证暂停使用",
    )
    other = check_vehicle_pass(PASS, NOW, driver_colour="green", plate="吉A54321")
    assert other.reasons == ("车牌吉A54321与通行证登记的吉A12345不符",)


def test_the_code_after_the_pass_must_be_the_drivers_own():
    assert check_driver_code(PASS, {"sub": "driver-ref", "col": "green"}).passed
    assert check_driver_code(PASS, {"sub": "someone-else"}).reasons == (NOT_THE_DRIVER,)
    assert check_driver_code({"sub": None}, {"sub": None}).reasons == (NOT_THE_DRIVER,)
    assert check_driver_code({}, {}).reasons == (NOT_THE_DRIVER,)


def test_road_checkpoints_may_require_vehicle_passes():
    req = parse_requirements({"kinds": ["fk-vehicle", "fk-code"], "colours": ["green"]})
    assert req.kinds == (tokens.VEHICLE, tokens.CODE)
    with pytest.raises(RuleError, match="fk-truck"):
        parse_requirements({"kinds": ["fk-truck"]})
    assert tokens.KIND_LABELS[tokens.VEHICLE] == "车辆通行证"
    assert tokens.VEHICLE == "fk-vehicle"
