"""The offline verifier (static/fangkong/verifier/rules.js) judges a vehicle pass as the
server's engine does (fangkong.engine.gate_rules.check_vehicle_pass, check_driver_code): the
same claims to both, in Chromium, the same verdicts and reason texts; and its verdict for a
scanned pass uses the bundle's revoked passes."""

from datetime import UTC, datetime, timedelta

import pytest

from fangkong.checkpoints.tests.test_verifier_js import (  # noqa: F401 — module fixtures
    Keyring,
    rules,
    site,
)
from fangkong.engine import gate_rules, tokens

pytestmark = pytest.mark.browser
NOW = datetime(2026, 4, 20, 2, 30, 15, 250000, tzinfo=UTC)
AT = int(NOW.timestamp())
DAY = 86400
PASS = {
    "v": 1,
    "pid": 12,
    "no": "吉车证000012",
    "pl": "吉A12345",
    "sub": "AbCdEfGhIjKlMnOpQrStUv",
    "nm": "*三",
    "idm": "220102********123X",
    "rt": "南关区→汽开区",
    "iat": AT - DAY,
    "nbf": AT - DAY,
    "exp": AT + 6 * DAY,
}

CASES = {
    "green driver": (PASS, NOW, {"driverColour": "green"}),
    "offline, no colour": (PASS, NOW, {}),
    "yellow driver": (PASS, NOW, {"driverColour": "yellow"}),
    "unknown colour": (PASS, NOW, {"driverColour": "purple"}),
    "revoked": (PASS, NOW, {"revoked": True}),
    "before its window": (PASS, NOW - timedelta(days=2), {}),
    "at its end": (PASS, datetime.fromtimestamp(AT + 6 * DAY, UTC), {}),
    "a second before its end": (PASS, datetime.fromtimestamp(AT + 6 * DAY - 1, UTC), {}),
    "no window": ({k: v for k, v in PASS.items() if k != "nbf"}, NOW, {}),
    "another plate": (PASS, NOW, {"plate": "吉B 54321"}),
    "the plate with a space": (PASS, NOW, {"plate": "吉a 12345"}),
    "no plate in the pass": ({k: v for k, v in PASS.items() if k != "pl"}, NOW, {"plate": "吉A1"}),
    "everything wrong": (
        PASS,
        NOW + timedelta(days=9),
        {"driverColour": "red", "revoked": True, "plate": "吉C1"},
    ),
}
PY_NAMES = {"driverColour": "driver_colour", "plate": "plate", "revoked": "revoked"}


def python_check(claims, now, options):
    given = {PY_NAMES[k]: v for k, v in options.items()}
    given.setdefault("driver_colour", None)
    decision = gate_rules.check_vehicle_pass(claims, now, **given)
    return {"passed": decision.passed, "reasons": list(decision.reasons)}


def test_every_vehicle_pass_case_is_judged_alike_offline_and_online(rules):  # noqa: F811
    differences = {}
    for name, (claims, now, options) in CASES.items():
        python = python_check(claims, now, options)
        js = rules.evaluate(
            "([claims, now, options]) => FKRules.checkVehiclePass(claims, now, options)",
            [claims, now.timestamp(), options],
        )
        if python != js:
            differences[name] = (python, js)
    assert not differences
    assert python_check(PASS, NOW, {"driverColour": "yellow"})["reasons"] == [
        "驾驶员健康码为黄码,车辆通行证暂停使用"
    ]


def test_the_drivers_own_code_is_checked_alike(rules):  # noqa: F811
    for code in ({"sub": PASS["sub"]}, {"sub": "someone-else"}, {}, {"sub": None}):
        python = gate_rules.check_driver_code(PASS, code)
        js = rules.evaluate("([p, c]) => FKRules.checkDriverCode(p, c)", [PASS, code])
        assert js == {"passed": python.passed, "reasons": list(python.reasons)}


def test_offline_a_pass_on_the_bundles_revoked_list_is_refused(rules):  # noqa: F811
    ring = Keyring()
    ring.add("k-active")
    token = ring.sign(tokens.VEHICLE, PASS, "k-active")
    bundle = {
        "checkpoint": {
            "id": 3,
            "name": "道路卡口",
            "type": "road_checkpoint",
            "type_name": "道路卡口",
            "community": None,
        },
        "requirements": {"kinds": ["fk-vehicle", "fk-code"], "colours": ["green"]},
        **ring.key_set(),
    }
    decide = "({bundle, token, now}) => FKRules.decide(bundle, token, now, {})"
    fine = rules.evaluate(decide, {"bundle": bundle, "token": token, "now": NOW.timestamp()})
    assert (fine["outcome"], fine["kind"], fine["reasons"]) == ("pass", tokens.VEHICLE, [])
    listed = {**bundle, "revoked_passes": [PASS["pid"]]}
    refused = rules.evaluate(decide, {"bundle": listed, "token": token, "now": NOW.timestamp()})
    assert (refused["outcome"], refused["reasons"]) == ("deny", ["通行证已吊销"])
    elsewhere = {**bundle, "requirements": {"kinds": ["fk-code"]}}
    wrong = rules.evaluate(decide, {"bundle": elsewhere, "token": token, "now": NOW.timestamp()})
    assert wrong["reasons"] == ["此处不接受该类型的码(出示的是车辆通行证)"]
