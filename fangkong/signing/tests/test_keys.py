"""Signing keys: created on first use, kept out of the database, rotated and revoked from the
command line with an audit record."""

import json
import stat
from datetime import datetime, timedelta

import pytest
from django.conf import settings

from fangkong.audit.models import AuditEntry
from fangkong.cli import build_parser
from fangkong.engine import tokens
from fangkong.ingest.tests.support import BJ
from fangkong.signing import keys
from fangkong.signing.models import SigningKey

pytestmark = pytest.mark.django_db
NOW = datetime(2022, 4, 24, 10, tzinfo=BJ)


def run(capsys, *argv):
    args = build_parser().parse_args(list(argv))
    assert args.func(args) == 0
    return capsys.readouterr().out


def test_the_first_token_creates_a_key_whose_private_half_is_a_private_file():
    assert not SigningKey.objects.exists()
    token = keys.issue(tokens.CODE, {"iat": 1, "exp": 2}, NOW)
    key = SigningKey.objects.get()
    path = keys.key_dir() / f"{key.kid}.pem"
    assert token.count(".") == 2 and path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert str(keys.key_dir()).startswith(str(settings.KEY_DIR))
    assert "PRIVATE" not in json.dumps(keys.key_set(NOW))


def test_rotate_and_revoke_from_the_command_line(capsys):
    keys.issue(tokens.CODE, {"iat": 1, "exp": 2}, NOW)
    first = SigningKey.objects.get().kid
    out = run(capsys, "keys", "rotate")
    assert "新签名密钥" in out
    second = SigningKey.objects.exclude(kid=first).get().kid
    run(capsys, "keys", "revoke", first, "--reason", "设备丢失")
    listed = json.loads(run(capsys, "keys", "list", "--json"))
    states = {row["kid"]: row for row in listed}
    assert states[first]["revoked_reason"] == "设备丢失" and states[second]["revoked_at"] is None
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {"key.rotate", "key.revoke"}


def test_the_key_set_lists_retired_keys_until_their_codes_expire_and_revoked_ones_apart():
    keys.issue(tokens.CODE, {"iat": 1, "exp": 2}, NOW)
    old = SigningKey.objects.get().kid
    keys.rotate(NOW)
    assert old in {k["kid"] for k in keys.key_set(NOW + timedelta(hours=1))["keys"]}
    assert old not in {k["kid"] for k in keys.key_set(NOW + timedelta(days=2))["keys"]}
    keys.revoke(old, "泄露", NOW)
    published = keys.key_set(NOW)
    assert old not in {k["kid"] for k in published["keys"]}
    assert [r["kid"] for r in published["revoked"]] == [old]


def test_every_key_id_can_be_typed_on_the_command_line():
    # A base64url id could begin with "-" and read as an option (seen once in CI).
    for _ in range(40):
        kid = keys.create_key(NOW).kid
        args = build_parser().parse_args(["keys", "revoke", kid, "--reason", "演练"])
        assert args.kid == kid and kid.isalnum()
