"""The offline verifier's rules (static/fangkong/verifier/rules.js) decide as the server's engine
does (fangkong.engine.tokens, fangkong.engine.gate_rules): the same tokens, signed here with fresh
Ed25519 keys, and the same claims go to both, in Debian's Chromium driven by Playwright, and the
verdicts and reason texts must be identical.

No Django server: a small threaded http.server on 127.0.0.1 (a secure context, so WebCrypto and
service workers work) serves fangkong/static, the verifier page rendered from its template, and a
stand-in for the checkpoint API.
"""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fangkong.engine import gate_rules, tokens
from fangkong.engine.gate_rules import parse_requirements

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
STATIC = Path(__file__).resolve().parents[2] / "static"
# 10:30:15.25 in Beijing; the fraction checks that both sides truncate the same way.
NOW = datetime(2026, 4, 20, 2, 30, 15, 250000, tzinfo=UTC)
AT = int(NOW.timestamp())
HOUR = 3600


# --- the stand-in server ------------------------------------------------------------------------


class Handler(SimpleHTTPRequestHandler):
    """/static/... from fangkong/static; the API stand-in from `self.server.api`; anything else
    from the test's directory (harness and rendered pages)."""

    def translate_path(self, path):
        if path.startswith("/static/"):
            return str(STATIC / path.removeprefix("/static/").split("?")[0])
        return super().translate_path(path)

    def do_GET(self):
        if self.path.startswith("/api/"):
            return self._api("GET", None)
        return super().do_GET()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        return self._api("POST", json.loads(body or b"null"))

    def _api(self, method, body):
        answer = self.server.api(method, self.path, body, dict(self.headers))
        if answer is None:
            self.send_error(404)
            return
        status, payload = answer
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def end_headers(self):
        if not self.path.startswith("/api/"):
            # Let every reload reach the service worker's logic, not the HTTP cache.
            self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    (root / "harness.html").write_text(
        '<!DOCTYPE html><meta charset="utf-8"><title>rules</title>'
        '<script type="module">import "/static/fangkong/verifier/rules.js";'
        "window.rulesLoaded = true;</script>",
        encoding="utf-8",
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    server.api = lambda *args: None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(root=root, server=server, url=f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def rules(browser, site):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(f"{site.url}/harness.html")
    page.wait_for_function("window.rulesLoaded && window.FKRules")
    yield page
    assert not errors
    page.close()


# --- keys, tokens and the two verifiers ---------------------------------------------------------


class Keyring:
    """Signing keys as the server holds them, and the key set a device downloads."""

    def __init__(self):
        self.private: dict[str, Ed25519PrivateKey] = {}
        self.revoked: dict[str, datetime] = {}

    def add(self, kid: str, revoked_at: datetime | None = None) -> str:
        self.private[kid] = Ed25519PrivateKey.generate()
        if revoked_at is not None:
            self.revoked[kid] = revoked_at
        return kid

    def sign(self, kind: str, claims: dict, kid: str) -> str:
        return tokens.sign(kind, claims, kid, self.private[kid])

    def python_keys(self) -> dict[str, tokens.PublicKey]:
        return {
            kid: tokens.PublicKey(kid, key.public_key(), self.revoked.get(kid))
            for kid, key in self.private.items()
        }

    def key_set(self) -> dict:
        """As signing.keys.key_set publishes it: revoked keys only in "revoked", by kid."""
        return {
            "keys": [
                tokens.public_jwk(kid, key.public_key())
                for kid, key in self.private.items()
                if kid not in self.revoked
            ],
            "revoked": [
                {"kid": kid, "revoked_at": at.isoformat()} for kid, at in self.revoked.items()
            ],
            "issued_at": NOW.isoformat(),
        }


@pytest.fixture(scope="module")
def ring():
    ring = Keyring()
    ring.add("k-active")
    ring.add("k-revoked", revoked_at=NOW - timedelta(hours=2))
    return ring


def code_claims(**changes) -> dict:
    claims = {
        "v": 1,
        "sub": "p" * 22,
        "iat": AT - 20,
        "exp": AT + 160,
        "col": "green",
        "nm": "张*明",
        "idm": "220102********1234",
        "smp": AT - 30 * HOUR,
        "pcr": AT - 30 * HOUR,
        "tst": "regular",
        "ag": AT - HOUR,
    }
    return {**claims, **changes}


def exit_claims(**changes) -> dict:
    claims = {
        "v": 1,
        "sub": "p" * 22,
        "iat": AT - 600,
        "nbf": AT - 600,
        "exp": AT + 3 * HOUR,
        "pid": 42,
        "com": "220102001001",
        "nm": "张*明",
        "idm": "220102********1234",
    }
    return {**claims, **changes}


def b64(data: bytes) -> str:
    return tokens.b64encode(data)


def raw_token(header: dict | bytes, claims: dict | bytes, signature: bytes = b"\0" * 64) -> str:
    """A token built by hand (not signed): for shapes sign() would never produce."""

    def part(value):
        return b64(value if isinstance(value, bytes) else json.dumps(value).encode())

    return f"{part(header)}.{part(claims)}.{b64(signature)}"


def resign(ring: Keyring, kid: str, header_b64: str, payload_b64: str) -> str:
    signature = ring.private[kid].sign(f"{header_b64}.{payload_b64}".encode("ascii"))
    return f"{header_b64}.{payload_b64}.{b64(signature)}"


def python_verify(ring, token, now, kinds) -> dict:
    try:
        verified = tokens.verify(token, ring.python_keys(), now, kinds)
    except tokens.TokenError as error:
        return {"ok": False, "code": error.code, "reason": error.reason}
    return {"ok": True, "kind": verified.kind, "kid": verified.kid, "claims": verified.claims}


JS_VERIFY = """async ({token, bundle, now, kinds}) => {
  try {
    const v = await FKRules.verify(token, bundle, now, kinds);
    return {ok: true, kind: v.kind, kid: v.kid, claims: JSON.parse(JSON.stringify(v.claims))};
  } catch (e) {
    if (e instanceof FKRules.TokenError) return {ok: false, code: e.code, reason: e.reason};
    throw e;
  }
}"""


def js_verify(page, ring, token, now, kinds) -> dict:
    args = {"token": token, "bundle": ring.key_set(), "now": now.timestamp(), "kinds": kinds}
    return page.evaluate(JS_VERIFY, args)


def both_verify(page, ring, token, now=NOW, kinds=(tokens.CODE,)):
    python = python_verify(ring, token, now, list(kinds))
    return python, js_verify(page, ring, token, now, list(kinds))


def token_cases(ring: Keyring) -> dict[str, tuple[str, datetime, tuple[str, ...]]]:
    """name → (token, now, accepted kinds): every way a token passes or fails."""
    code = partial(ring.sign, tokens.CODE)
    valid = code(code_claims(), "k-active")
    header_b64, payload_b64, signature_b64 = valid.split(".")
    red = b64(json.dumps(code_claims(col="red"), separators=(",", ":")).encode())
    flipped = ("B" if signature_b64[5] == "A" else "A").join((signature_b64[:5], signature_b64[6:]))
    stranger = Keyring()
    stranger.add("k-stranger-with-a-long-name")
    header = {"alg": "EdDSA", "kid": "k-active", "typ": tokens.CODE}
    return {
        "valid code": (valid, NOW, (tokens.CODE,)),
        "valid exit pass at a gate": (
            ring.sign(tokens.EXIT, exit_claims(), "k-active"),
            NOW,
            (tokens.EXIT,),
        ),
        "code or pass accepted": (valid, NOW, (tokens.CODE, tokens.EXIT)),
        "expired 30 seconds ago": (valid, NOW + timedelta(seconds=190), (tokens.CODE,)),
        "expired this very second": (valid, NOW + timedelta(seconds=160), (tokens.CODE,)),
        "expired 5 minutes ago": (valid, NOW + timedelta(minutes=8), (tokens.CODE,)),
        "expired 3 hours ago": (valid, NOW + timedelta(hours=3, minutes=5), (tokens.CODE,)),
        "issued within the clock leeway": (
            code(code_claims(iat=AT + 60), "k-active"),
            NOW,
            (tokens.CODE,),
        ),
        "issued in the future": (code(code_claims(iat=AT + 61), "k-active"), NOW, (tokens.CODE,)),
        "pass not before later": (
            ring.sign(tokens.EXIT, exit_claims(nbf=AT + 5), "k-active"),
            NOW,
            (tokens.EXIT,),
        ),
        "payload tampered": (f"{header_b64}.{red}.{signature_b64}", NOW, (tokens.CODE,)),
        "signature tampered": (f"{header_b64}.{payload_b64}.{flipped}", NOW, (tokens.CODE,)),
        "signature cut short": (
            f"{header_b64}.{payload_b64}.{signature_b64[:40]}",
            NOW,
            (tokens.CODE,),
        ),
        "unknown key": (
            stranger.sign(tokens.CODE, code_claims(), "k-stranger-with-a-long-name"),
            NOW,
            (tokens.CODE,),
        ),
        "revoked key": (code(code_claims(), "k-revoked"), NOW, (tokens.CODE,)),
        "revoked key, tampered too": (
            ".".join((*code(code_claims(), "k-revoked").split(".")[:2], signature_b64)),
            NOW,
            (tokens.CODE,),
        ),
        "exit pass at a health-code checkpoint": (
            ring.sign(tokens.EXIT, exit_claims(), "k-active"),
            NOW,
            (tokens.CODE,),
        ),
        "health code at a compound gate": (valid, NOW, (tokens.EXIT,)),
        "unknown type": (ring.sign("fk-other", code_claims(), "k-active"), NOW, (tokens.CODE,)),
        "surrounded by whitespace": (f" \n{valid}\t ", NOW, (tokens.CODE,)),
        "not a token": ("今天天气很好", NOW, (tokens.CODE,)),
        "two parts": (f"{header_b64}.{payload_b64}", NOW, (tokens.CODE,)),
        "four parts": (f"{valid}.{signature_b64}", NOW, (tokens.CODE,)),
        "padded base64": (f"{header_b64}.{payload_b64}=.{signature_b64}", NOW, (tokens.CODE,)),
        "stray character in the signature": (
            f"{header_b64}.{payload_b64}.{signature_b64[:10]}!{signature_b64[10:]}",
            NOW,
            (tokens.CODE,),
        ),
        "stray characters Python's decoder skips": (
            f"{header_b64}.{payload_b64}.{signature_b64[:10]}!*~{signature_b64[10:]}",
            NOW,
            (tokens.CODE,),
        ),
        "stray characters in the signed part": (
            f"{header_b64}.{payload_b64[:10]}!*~{payload_b64[10:]}.{signature_b64}",
            NOW,
            (tokens.CODE,),
        ),
        "non-ASCII inside": (f"{header_b64}.{payload_b64}é.{signature_b64}", NOW, (tokens.CODE,)),
        "too long": (valid + "A" * 2048, NOW, (tokens.CODE,)),
        "header not an object": (raw_token(b"[]", code_claims()), NOW, (tokens.CODE,)),
        "another algorithm": (
            raw_token({**header, "alg": "ES256"}, code_claims()),
            NOW,
            (tokens.CODE,),
        ),
        "no key id": (raw_token({"alg": "EdDSA"}, code_claims()), NOW, (tokens.CODE,)),
        "no expiry": (
            raw_token(header, {k: v for k, v in code_claims().items() if k != "exp"}),
            NOW,
            (tokens.CODE,),
        ),
        "issued-at a boolean": (raw_token(header, code_claims(iat=True)), NOW, (tokens.CODE,)),
        "expiry written as a float": (
            raw_token(header, code_claims(exp=float(AT + 160))),
            NOW,
            (tokens.CODE,),
        ),
        "payload with a byte-order mark, signed": (
            resign(
                ring,
                "k-active",
                header_b64,
                b64(b"\xef\xbb\xbf" + json.dumps(code_claims()).encode()),
            ),
            NOW,
            (tokens.CODE,),
        ),
        "payload not UTF-8": (raw_token(header, b'{"nm":"\xff"}'), NOW, (tokens.CODE,)),
    }


def test_a_valid_health_code_passes_offline_with_the_claims_python_reads(rules, ring):
    token = ring.sign(tokens.CODE, code_claims(), "k-active")
    python, js = both_verify(rules, ring, token)
    assert js == python
    assert js["ok"] and js["kind"] == tokens.CODE and js["claims"]["nm"] == "张*明"


def test_a_tampered_payload_is_denied_offline_as_in_python(rules, ring):
    header, _, signature = ring.sign(tokens.CODE, code_claims(), "k-active").split(".")
    payload = b64(json.dumps(code_claims(col="green", nm="李*"), separators=(",", ":")).encode())
    python, js = both_verify(rules, ring, f"{header}.{payload}.{signature}")
    assert js == python
    assert js["reason"] == "签名校验失败,此码可能被篡改"


def test_a_tampered_signature_is_denied_offline_as_in_python(rules, ring):
    token = ring.sign(tokens.CODE, code_claims(), "k-active")
    raw = bytearray(base64.urlsafe_b64decode(token.split(".")[2] + "=="))
    raw[10] ^= 0x01
    python, js = both_verify(rules, ring, ".".join((*token.split(".")[:2], b64(bytes(raw)))))
    assert js == python
    assert js["code"] == tokens.BAD_SIGNATURE


def test_an_expired_code_gives_the_same_reason_and_age_as_python(rules, ring):
    token = ring.sign(tokens.CODE, code_claims(), "k-active")
    python, js = both_verify(rules, ring, token, NOW + timedelta(minutes=8))
    assert js == python
    assert js["reason"] == "二维码已过期,请刷新后重新出示(已过期5分钟)"


def test_a_code_signed_by_an_unknown_key_asks_to_update_the_keys(rules, ring):
    stranger = Keyring()
    stranger.add("k-from-another-city-entirely")
    token = stranger.sign(tokens.CODE, code_claims(), "k-from-another-city-entirely")
    python, js = both_verify(rules, ring, token)
    assert js == python
    assert js["reason"] == "签名密钥未知(请更新核验设备的公钥)(k-from-another-c)"


def test_a_code_signed_by_a_revoked_key_is_denied_as_revoked_though_the_key_set_omits_it(
    rules, ring
):
    assert "k-revoked" not in [k["kid"] for k in ring.key_set()["keys"]]
    token = ring.sign(tokens.CODE, code_claims(), "k-revoked")
    python, js = both_verify(rules, ring, token)
    assert js == python
    assert js["code"] == tokens.REVOKED_KEY


def test_a_code_signed_before_a_revocation_still_counts_until_the_key_is_revoked(rules):
    ring = Keyring()
    ring.add("k-soon-revoked", revoked_at=NOW + timedelta(minutes=1))
    token = ring.sign(tokens.CODE, code_claims(), "k-soon-revoked")
    bundle = {
        **ring.key_set(),
        "keys": [tokens.public_jwk(k, v.public_key()) for k, v in ring.private.items()],
    }
    python = python_verify(ring, token, NOW, [tokens.CODE])
    js = rules.evaluate(
        JS_VERIFY, {"token": token, "bundle": bundle, "now": NOW.timestamp(), "kinds": ["fk-code"]}
    )
    assert js == python and js["ok"]


def test_a_token_of_the_wrong_type_is_refused_with_its_kind_named(rules, ring):
    token = ring.sign(tokens.EXIT, exit_claims(), "k-active")
    python, js = both_verify(rules, ring, token, kinds=(tokens.CODE,))
    assert js == python
    assert js["reason"] == "此处不接受该类型的码(出示的是出入通行码(易行码))"


def test_every_way_a_token_passes_or_fails_is_judged_alike_offline_and_online(rules, ring):
    differences = {}
    for name, (token, now, kinds) in token_cases(ring).items():
        python, js = both_verify(rules, ring, token, now, kinds)
        if python != js:
            differences[name] = (python, js)
    assert not differences


# --- gate rules ---------------------------------------------------------------------------------

JS_CHECK_CODE = """({req, claims, now, live}) => FKRules.checkCode(req, claims, now, live)"""
FACTORY = {"colours": ["green"], "pcr_negative_within_hours": 48, "antigen_negative_today": True}
PUBLIC_PLACE = {"colours": ["green"]}
TESTING_SITE = {"colours": ["green", "yellow", "red"], "records_sampling": True}
# 00:30 on 21 April in Beijing, still 20 April in UTC: "today" must be the Beijing day.
AFTER_MIDNIGHT = datetime(2026, 4, 20, 16, 30, tzinfo=UTC)
MIDNIGHT = int(datetime(2026, 4, 20, 16, 0, tzinfo=UTC).timestamp())


def both_check_code(page, req: dict, claims: dict, now: datetime, live: str | None = None):
    python = gate_rules.check_code(parse_requirements(req), claims, now, live)
    js = page.evaluate(
        JS_CHECK_CODE, {"req": req, "claims": claims, "now": now.timestamp(), "live": live}
    )
    return {"passed": python.passed, "reasons": list(python.reasons)}, js


CHECK_CODE_CASES = {
    "green at a public place": (PUBLIC_PLACE, code_claims(), NOW, None),
    "yellow at a green-only place": (PUBLIC_PLACE, code_claims(col="yellow"), NOW, None),
    "red at a testing site": (TESTING_SITE, code_claims(col="red"), NOW, None),
    "unknown colour": (PUBLIC_PLACE, code_claims(col="purple"), NOW, None),
    "no colour": (PUBLIC_PLACE, {k: v for k, v in code_claims().items() if k != "col"}, NOW, None),
    "live colour overrides": (PUBLIC_PLACE, code_claims(), NOW, "red"),
    "all satisfied at a factory": (FACTORY, code_claims(), NOW, None),
    "pcr older than 48 hours": (FACTORY, code_claims(pcr=AT - 50 * HOUR - 1200), NOW, None),
    "pcr 48 hours and a moment old": (FACTORY, code_claims(pcr=AT - 48 * HOUR), NOW, None),
    "pcr exactly 48 hours old": (
        FACTORY,
        code_claims(pcr=AT - 48 * HOUR),
        NOW.replace(microsecond=0),
        None,
    ),
    "no pcr": (FACTORY, code_claims(pcr=None), NOW, None),
    "pcr a boolean": (FACTORY, code_claims(pcr=True), NOW, None),
    "antigen yesterday in Beijing": (
        FACTORY,
        code_claims(ag=MIDNIGHT - 60, pcr=MIDNIGHT - 10 * HOUR),
        AFTER_MIDNIGHT,
        None,
    ),
    "antigen at midnight in Beijing": (
        FACTORY,
        code_claims(ag=MIDNIGHT, pcr=MIDNIGHT - 10 * HOUR),
        AFTER_MIDNIGHT,
        None,
    ),
    "no antigen": (FACTORY, code_claims(ag=None), NOW, None),
    "everything wrong at once": (
        FACTORY,
        code_claims(col="red", pcr=AT - 100 * HOUR, ag=AT - 30 * HOUR),
        NOW,
        None,
    ),
}


def test_a_yellow_code_at_a_green_only_place_is_denied_with_pythons_words(rules):
    python, js = both_check_code(rules, PUBLIC_PLACE, code_claims(col="yellow"), NOW)
    assert js == python
    assert js == {"passed": False, "reasons": ["健康码为黄码,此处要求绿码"]}


def test_a_pcr_older_than_48_hours_is_denied_with_its_beijing_time_and_age(rules):
    claims = code_claims(pcr=AT - 50 * HOUR - 1200)
    python, js = both_check_code(rules, FACTORY, claims, NOW)
    assert js == python
    assert js["reasons"] == ["无48小时内核酸阴性记录(最近一次阴性采样于04-18 08:10,距今50小时)"]


def test_an_antigen_test_before_midnight_in_beijing_is_not_todays(rules):
    claims = code_claims(ag=MIDNIGHT - 60, pcr=MIDNIGHT - 10 * HOUR)
    python, js = both_check_code(rules, FACTORY, claims, AFTER_MIDNIGHT)
    assert js == python
    assert js["reasons"] == ["今日无抗原自测阴性记录"]


def test_a_code_meeting_every_requirement_passes(rules):
    python, js = both_check_code(rules, FACTORY, code_claims(), NOW)
    assert js == python == {"passed": True, "reasons": []}


def test_every_checkpoint_rule_combination_is_judged_alike_offline_and_online(rules):
    differences = {}
    for name, (req, claims, now, live) in CHECK_CODE_CASES.items():
        python, js = both_check_code(rules, req, claims, now, live)
        if python != js:
            differences[name] = (python, js)
    assert not differences


def test_an_exit_pass_is_checked_at_the_gate_as_in_python(rules):
    cases = [
        (exit_claims(), "220102001001", None),
        (exit_claims(), "220102001002", None),
        (exit_claims(), "220102001001", "prevention"),
        (exit_claims(), "220102001001", "control"),
        (exit_claims(), "220102001002", "lockdown"),
        ({k: v for k, v in exit_claims().items() if k != "com"}, "220102001001", None),
    ]
    verdicts = []
    for claims, community, zone in cases:
        python = gate_rules.check_exit_pass(claims, community_code=community, zone_level=zone)
        js = rules.evaluate(
            "([claims, communityCode, zoneLevel]) => "
            "FKRules.checkExitPass(claims, {communityCode, zoneLevel})",
            [claims, community, zone],
        )
        assert js == {"passed": python.passed, "reasons": list(python.reasons)}
        verdicts.append(js)
    assert verdicts[0] == {"passed": True, "reasons": []}
    assert verdicts[4]["reasons"] == ["此通行码不属于本小区", "小区已调整为封控区,通行码停用"]


# --- the offline verdict for a scan -------------------------------------------------------------

JS_DECIDE = """({bundle, token, now, direction}) =>
  FKRules.decide(bundle, token, now, {direction})"""


def bundle_for(ring, requirements: dict, community: str | None = None) -> dict:
    return {
        "checkpoint": {"id": 7, "name": "一汽厂门", "type": "x", "type_name": "x"}
        | {"community": community},
        "requirements": requirements,
        **ring.key_set(),
    }


def test_offline_a_factory_gate_applies_its_requirements_to_the_tokens_own_colour(rules, ring):
    claims = code_claims(ag=None, col="yellow")
    token = ring.sign(tokens.CODE, claims, "k-active")
    expected = gate_rules.check_code(parse_requirements(FACTORY), claims, NOW)
    verdict = rules.evaluate(
        JS_DECIDE,
        {
            "bundle": bundle_for(ring, FACTORY),
            "token": token,
            "now": NOW.timestamp(),
            "direction": "",
        },
    )
    assert verdict == {
        "outcome": "deny",
        "reasons": list(expected.reasons),
        "kind": "fk-code",
        "colour": "yellow",
        "name": "张*明",
        "id_number": "220102********1234",
        "mode": "offline",
    }


def test_offline_a_forged_code_is_denied_with_the_token_reason_only(rules, ring):
    header, _, signature = ring.sign(tokens.CODE, code_claims(), "k-active").split(".")
    forged = f"{header}.{b64(json.dumps(code_claims(col='green')).encode())}.{signature}"
    verdict = rules.evaluate(
        JS_DECIDE,
        {"bundle": bundle_for(ring, FACTORY), "token": forged, "now": AT, "direction": ""},
    )
    assert verdict["outcome"] == "deny"
    assert verdict["reasons"] == ["签名校验失败,此码可能被篡改"]
    assert verdict["name"] == ""


def test_offline_a_compound_gate_needs_a_direction_and_its_own_community(rules, ring):
    gate = {"kinds": ["fk-exit"], "colours": ["green"]}
    token = ring.sign(tokens.EXIT, exit_claims(), "k-active")

    def decide(community, direction):
        args = {
            "bundle": bundle_for(ring, gate, community),
            "token": token,
            "now": AT,
            "direction": direction,
        }
        return rules.evaluate(JS_DECIDE, args)

    assert decide("220102001001", "")["reasons"] == ["请选择出门或回小区"]
    assert decide("220102001001", "exit")["outcome"] == "pass"
    assert decide("220102001001", "return")["outcome"] == "pass"
    assert decide("220102009009", "exit")["reasons"] == ["此通行码不属于本小区"]


# --- the verifier page (verifier.js, the template, the service worker) ---------------------------

CHECKPOINT = 7
BUNDLE_URL = f"/api/checkpoints/{CHECKPOINT}/bundle"
VERIFY_URL = f"/api/checkpoints/{CHECKPOINT}/verify"
SCANS_URL = f"/api/checkpoints/{CHECKPOINT}/scans"
PAGE_PATH = f"/checkpoints/{CHECKPOINT}/verify/"
# Deliberately without the vendored files: the worker must also keep what the page loaded.
VERIFIER_ASSETS = [
    "fangkong/site.css",
    "fangkong/verifier/rules.js",
    "fangkong/verifier/verifier.js",
]


@pytest.fixture(scope="module")
def pages(site):
    """The verifier page and its service worker, rendered from their templates as the lead's
    views render them, saved where the stand-in server serves them."""
    from django.template.loader import render_to_string
    from django.templatetags.static import static
    from django.test import RequestFactory

    request = RequestFactory().get(PAGE_PATH)
    checkpoint = SimpleNamespace(pk=CHECKPOINT, name="一汽厂门(东门)", type_name="企业厂门")
    html = render_to_string(
        "checkpoints/verify.html",
        {
            "checkpoint": checkpoint,
            "bundle_url": BUNDLE_URL,
            "verify_url": VERIFY_URL,
            "scans_url": SCANS_URL,
            "sw_url": "/checkpoints/sw.js",
        },
        request=request,
    )
    page_dir = site.root / PAGE_PATH.strip("/")
    page_dir.mkdir(parents=True)
    (page_dir / "index.html").write_text(html, encoding="utf-8")
    script = render_to_string(
        "checkpoints/sw.js",
        {"assets": [static(path) for path in VERIFIER_ASSETS], "version": "test-1"},
    )
    (site.root / "checkpoints" / "sw.js").write_text(script, encoding="utf-8")
    return SimpleNamespace(html=html, script=script, url=f"{site.url}{PAGE_PATH}")


class FakeApi:
    """The checkpoint API as the page sees it; `verify` answers a POSTed body (or raises
    TimeoutError to hang past the page's deadline, or returns a status for an error)."""

    def __init__(self, bundle):
        self.bundle = bundle
        self.verify = lambda body: {"outcome": "pass", "reasons": [], "mode": "online"}
        self.verify_requests: list[tuple[dict, dict]] = []
        self.uploads: list[dict] = []
        self.rejects: set[str] = set()
        self.scans_down = False

    def __call__(self, method, path, body, headers):
        if method == "GET" and path.split("?")[0] == BUNDLE_URL:
            return 200, self.bundle
        if method == "POST" and path == VERIFY_URL:
            self.verify_requests.append((body, headers))
            answer = self.verify(body)
            if isinstance(answer, int):
                return answer, {"detail": "error"}
            return 200, {"scan_id": body.get("scan_id"), "recorded": True, **answer}
        if method == "POST" and path == SCANS_URL:
            if self.scans_down:
                return 503, {"detail": "down"}
            if any(len(scan["token"]) > tokens.MAX_TOKEN_LENGTH for scan in body["scans"]):
                return 422, {"detail": "token too long"}  # as Ninja's schema answers
            if any("unreadable" in scan["token"] for scan in body["scans"]):
                return 422, {"detail": "invalid"}
            self.uploads.append(body)
            rejected = [s for s in body["scans"] if s["scan_id"] in self.rejects]
            return 200, {
                "accepted": len(body["scans"]) - len(rejected),
                "duplicates": 0,
                "rejected": [{"scan_id": s["scan_id"], "reason": "早于7天前"} for s in rejected],
            }
        return None


def live_bundle(ring, requirements=None, community=None) -> dict:
    """A bundle issued now (the page shows its age against the real clock)."""
    bundle = bundle_for(ring, requirements or PUBLIC_PLACE, community)
    return {**bundle, "issued_at": datetime.now(UTC).isoformat()}


def live_code(ring, **changes) -> str:
    """A health code valid against the browser's real clock (the page uses Date.now())."""
    at = int(datetime.now(UTC).timestamp())
    claims = code_claims(iat=at - 5, exp=at + 170, pcr=at - 20 * HOUR, ag=at - HOUR)
    return ring.sign(tokens.CODE, {**claims, **changes}, "k-active")


@pytest.fixture
def api(site, ring):
    api = FakeApi(live_bundle(ring))
    site.server.api = api
    yield api
    site.server.api = lambda *args: None


@pytest.fixture
def open_verifier(browser, site, pages):
    contexts = []

    def open_page():
        context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
        context.add_cookies([{"name": "csrftoken", "value": "csrf-abc", "url": site.url}])
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(error))
        page.goto(pages.url)
        page.wait_for_selector("#verifier[data-ready=true]")
        page.wait_for_function(
            "document.querySelector('#bundle-age').textContent.includes('公钥更新于')"
        )
        return page

    yield open_page
    for context in contexts:
        for page in context.pages:
            assert not page.errors
        context.close()


def scan(page, token):
    page.fill("#token-input", token)
    page.click("#verify-button")
    page.wait_for_selector("#result:not([hidden])")
    page.wait_for_function("!document.querySelector('#verify-button').disabled")
    return page.locator("#result")


def test_online_a_scan_goes_to_the_server_with_a_scan_id_and_the_csrf_token(
    open_verifier, api, ring, tmp_path
):
    api.verify = lambda body: {
        "outcome": "pass",
        "reasons": [],
        "kind": "fk-code",
        "colour": "green",
        "name": "张*明",
        "id_number": "220102********1234",
        "mode": "online",
    }
    page = open_verifier()
    token = live_code(ring)
    result = scan(page, token)
    body, headers = api.verify_requests[0]
    assert body["token"] == token and "direction" not in body
    assert len(body["scan_id"]) == 36 and body["scan_id"].count("-") == 4
    assert headers["X-CSRFToken"] == "csrf-abc"
    assert result.get_attribute("data-outcome") == "pass"
    assert result.get_attribute("data-mode") == "online"
    text = result.inner_text()
    assert "通过" in text and "在线核验" in text and "张*明" in text and "绿码" in text
    assert page.inner_text("#queue-count") == "待上传 0 条"
    page.screenshot(path=str(tmp_path / "online-pass.png"), full_page=True)


def test_offline_a_scan_is_decided_on_the_device_queued_and_uploaded_when_back_online(
    open_verifier, api, ring, tmp_path
):
    page = open_verifier()
    page.context.set_offline(True)
    page.wait_for_function("document.querySelector('#network-state').textContent === '离线'")
    token = live_code(ring, col="yellow")
    result = scan(page, token)
    assert result.get_attribute("data-outcome") == "deny"
    assert result.get_attribute("data-mode") == "offline"
    assert "离线核验" in result.inner_text()
    assert "健康码为黄码,此处要求绿码" in page.inner_text("#result-reasons")
    assert page.inner_text("#queue-count") == "待上传 1 条"
    assert not api.verify_requests
    page.screenshot(path=str(tmp_path / "offline-deny.png"), full_page=True)

    page.context.set_offline(False)
    page.wait_for_function("document.querySelector('#queue-count').dataset.count === '0'")
    (entry,) = api.uploads[0]["scans"]
    assert entry["token"] == token
    assert entry["outcome"] == "deny"
    assert entry["reasons"] == ["健康码为黄码,此处要求绿码"]
    assert datetime.fromisoformat(entry["scanned_at"]) <= datetime.now(UTC)
    assert "direction" not in entry


def test_when_the_server_does_not_answer_in_time_the_device_decides_and_queues_the_same_scan_id(
    open_verifier, api, ring
):
    import time

    def slow(body):
        time.sleep(4)
        return {"outcome": "pass", "reasons": [], "mode": "online"}

    api.verify = slow
    page = open_verifier()
    result = scan(page, live_code(ring))
    assert result.get_attribute("data-mode") == "offline"
    assert result.get_attribute("data-outcome") == "pass"
    assert "服务器未及时响应" in page.inner_text("#result-mode")
    queued = page.evaluate(f"JSON.parse(localStorage.getItem('fk.verifier.queue:{SCANS_URL}'))")
    assert queued[0]["scan_id"] == api.verify_requests[0][0]["scan_id"]


def test_a_server_error_falls_back_to_offline_and_a_forged_code_is_still_denied(
    open_verifier, api, ring
):
    api.verify = lambda body: 500
    page = open_verifier()
    header, _, signature = live_code(ring).split(".")
    payload = b64(json.dumps(code_claims(col="green"), separators=(",", ":")).encode())
    result = scan(page, f"{header}.{payload}.{signature}")
    assert result.get_attribute("data-mode") == "offline"
    assert result.get_attribute("data-outcome") == "deny"
    assert page.inner_text("#result-reasons") == "签名校验失败,此码可能被篡改"
    assert "服务器返回 500" in page.inner_text("#result-mode")


def test_the_queue_is_kept_until_the_server_answers_and_what_it_rejects_is_set_aside(
    open_verifier, api, ring
):
    page = open_verifier()
    page.context.set_offline(True)
    page.wait_for_function("!navigator.onLine")
    scan(page, live_code(ring))
    scan(page, live_code(ring, col="red"))
    assert page.inner_text("#queue-count") == "待上传 2 条"
    queued = page.evaluate(f"JSON.parse(localStorage.getItem('fk.verifier.queue:{SCANS_URL}'))")
    api.rejects = {queued[1]["scan_id"]}
    api.scans_down = True
    page.context.set_offline(False)
    page.wait_for_function(
        "document.querySelector('#upload-message').textContent.includes('上传失败')"
    )
    assert page.inner_text("#queue-count") == "待上传 2 条"

    api.scans_down = False
    page.click("#upload-button")
    page.wait_for_function("document.querySelector('#queue-count').dataset.count === '0'")
    assert [s["scan_id"] for s in api.uploads[0]["scans"]] == [e["scan_id"] for e in queued]
    assert "已上传 1 条" in page.inner_text("#upload-message")
    assert "1 条记录被服务器拒收" in page.inner_text("#rejected-box summary")


def test_one_record_the_api_cannot_read_does_not_block_the_rest_of_the_queue(
    open_verifier, api, ring
):
    page = open_verifier()
    page.context.set_offline(True)
    page.wait_for_function("!navigator.onLine")
    scan(page, "unreadable")
    scan(page, "x" * 3000)
    scan(page, live_code(ring))
    assert page.inner_text("#queue-count") == "待上传 3 条"
    page.context.set_offline(False)
    page.wait_for_function("document.querySelector('#queue-count').dataset.count === '0'")
    accepted = [s for upload in api.uploads for s in upload["scans"]]
    assert len(accepted) == 2
    assert len(accepted[0]["token"]) == tokens.MAX_TOKEN_LENGTH
    assert "服务器拒收(HTTP 422)" in page.text_content("#rejected-list")


def test_a_compound_gate_asks_which_way_and_sends_the_direction(open_verifier, api, ring):
    api.bundle = live_bundle(ring, {"kinds": ["fk-exit"], "colours": ["green"]}, "220102001001")
    page = open_verifier()
    assert page.is_visible("#direction")
    page.select_option("#direction", "return")
    at = int(datetime.now(UTC).timestamp())
    exit_pass = ring.sign(
        tokens.EXIT, exit_claims(iat=at - 60, nbf=at - 60, exp=at + HOUR), "k-active"
    )
    scan(page, exit_pass)
    assert api.verify_requests[0][0]["direction"] == "return"

    page.context.set_offline(True)
    page.wait_for_function("!navigator.onLine")
    result = scan(page, exit_pass)
    assert result.get_attribute("data-outcome") == "pass"
    assert result.get_attribute("data-mode") == "offline"
    queued = page.evaluate(f"JSON.parse(localStorage.getItem('fk.verifier.queue:{SCANS_URL}'))")
    assert queued[0]["direction"] == "return"


def test_a_device_without_a_camera_is_told_to_paste_instead(open_verifier, api):
    page = open_verifier()
    page.click("#camera-button")
    page.wait_for_function(
        "document.querySelector('#camera-message').textContent.includes('粘贴二维码内容')"
    )
    assert page.is_hidden("#camera-box")


def test_a_verifier_page_opened_once_reopens_and_verifies_offline(open_verifier, api, ring):
    page = open_verifier()
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=10_000)
    page.wait_for_function(
        f"""async () => {{
          const cache = await caches.open("fk-verifier-test-1");
          const files = ["{PAGE_PATH}", "/static/fangkong/verifier/rules.js",
            "/static/fangkong/vendor/noble-ed25519-3.2.0.js",
            "/static/fangkong/vendor/jsQR-1.4.0.js"];
          const found = await Promise.all(files.map((file) => cache.match(file)));
          return found.every(Boolean);
        }}""",
        timeout=10_000,
        polling=200,
    )
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("#verifier[data-ready=true]")
    assert "一汽厂门(东门)" in page.inner_text("h1")
    assert "公钥更新于" in page.inner_text("#bundle-age")
    result = scan(page, live_code(ring))
    assert result.get_attribute("data-outcome") == "pass"
    assert result.get_attribute("data-mode") == "offline"


def test_the_service_worker_script_is_valid_and_precaches_the_verifier_assets(rules, pages):
    import re

    assets = re.search(r"const ASSETS = (\[.*?\]);", pages.script, re.S).group(1)
    assert rules.evaluate(f"() => {assets}") == [f"/static/{path}" for path in VERIFIER_ASSETS]
    assert rules.evaluate("source => { new Function(source); return true; }", pages.script)
    assert 'const VERSION = "test\\u002D1";' in pages.script
