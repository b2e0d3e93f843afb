"""`fangkong demo` issues the first batch of vehicle passes in 长春新区 (220173) on 20 April 2022,
every application handled within 24 hours; at the road checkpoint a pass is let through, a
revoked one refused, and a pass verifies offline against the published key set and revocation
list. Figures are computed from the stored rows, and a second replay creates nothing."""

import json
from datetime import timedelta

import pytest
from django.db.models import F

from fangkong.audit.models import AuditEntry
from fangkong.checkpoints.models import GateScan
from fangkong.cli import build_parser
from fangkong.demo.april import at
from fangkong.demo.enterprises import DISTRICT
from fangkong.demo.passes import (
    BATCH_CLOSED,
    CHECKPOINT_DAY,
    SEED_FIRST_BATCH,
    SEED_RESIDENTS,
    default_count,
    replay_passes,
)
from fangkong.engine import tokens
from fangkong.engine.gate_rules import check_driver_code, check_vehicle_pass
from fangkong.passes.models import PassBatch, VehiclePass
from fangkong.passes.queries import revoked_ids
from fangkong.people.models import Person
from fangkong.signing import keys

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def replayed(story_city, django_db_blocker):
    """The story city (fangkong.demo.tests.conftest) with the passes replayed once."""
    with django_db_blocker.unblock():
        yield replay_passes(seed=7)


def test_the_default_count_is_proportional_to_the_residents(replayed):
    expected = max(20, round(SEED_FIRST_BATCH * Person.objects.count() / SEED_RESIDENTS))
    assert default_count() == expected
    assert PassBatch.objects.get(number=1).passes.count() == expected
    assert replayed["batches"] == [
        {"number": 1, "issued": expected, "closed_at": BATCH_CLOSED.isoformat()}
    ]


def test_every_application_was_handled_within_24_hours(replayed):
    decided = VehiclePass.objects.filter(county_code=DISTRICT, decided_at__isnull=False)
    assert decided.count() == replayed["applied"]
    assert not decided.filter(decided_at__gte=F("applied_at") + timedelta(hours=24)).exists()
    assert replayed["within_24h"] == 1.0
    assert replayed["longest_handling_hours"] < 24
    rejected = VehiclePass.objects.filter(decision="rejected")
    assert rejected.count() == replayed["rejected"] == replayed["reapplied"] > 0
    assert all(r.reapplication.decision == "approved" for r in rejected)


def test_the_cli_gives_the_same_figures(replayed, capsys):
    args = build_parser().parse_args(
        ["passes", "stats", "--as-of", "2022-04-20T18:00", "--county", DISTRICT, "--json"]
    )
    capsys.readouterr()
    assert args.func(args) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["issued"] == replayed["issued"] == PassBatch.objects.get(number=1).passes.count()
    assert shown["median_handling_hours"] == replayed["median_handling_hours"]
    assert f"第一批{shown['issued']:,}个车辆通行证" in replayed["text"]


def test_at_the_road_checkpoint_one_passes_and_the_revoked_one_is_refused(replayed):
    checkpoint = replayed["checkpoint"]
    assert checkpoint["passed"]["outcome"] == "pass"
    assert checkpoint["revoked"]["outcome"] == "deny"
    assert checkpoint["revoked"]["reasons"] == ["通行证已吊销"]
    scans = GateScan.objects.filter(checkpoint_id=checkpoint["id"], kind=tokens.VEHICLE)
    assert sorted(scans.values_list("outcome", flat=True)) == ["deny", "pass"]


def test_a_pass_verifies_offline_and_the_revoked_one_is_on_the_list(replayed):
    """What a device holds after its last refresh: the key set and the revoked passes; the
    pass is checked with no database, then paired with its driver's own code."""
    moment = at(CHECKPOINT_DAY, 11)
    bundle = keys.key_set(moment)
    revoked = set(revoked_ids(moment))
    offline_keys = {
        k["kid"]: tokens.PublicKey(k["kid"], tokens.key_from_jwk(k)) for k in bundle["keys"]
    }
    first, second = VehiclePass.objects.filter(batch__number=1).order_by("number")[:2]
    verified = tokens.verify(first.token, offline_keys, moment, (tokens.VEHICLE, tokens.CODE))
    decision = check_vehicle_pass(
        verified.claims, moment, driver_colour=None, revoked=verified.claims["pid"] in revoked
    )
    assert decision.passed and verified.claims["pl"] == first.plate
    from fangkong.checkpoints.tests.support import token_for

    code = tokens.verify(
        token_for(first.driver.id_number, moment), offline_keys, moment, (tokens.CODE,)
    )
    assert check_driver_code(verified.claims, code.claims).passed
    again = tokens.verify(second.token, offline_keys, moment, (tokens.VEHICLE,))
    refused = check_vehicle_pass(
        again.claims, moment, driver_colour=None, revoked=again.claims["pid"] in revoked
    )
    assert refused.reasons == ("通行证已吊销",)


def test_a_second_replay_creates_nothing(replayed):
    before = (VehiclePass.objects.count(), GateScan.objects.count(), AuditEntry.objects.count())
    again = replay_passes(seed=7)
    after = (VehiclePass.objects.count(), GateScan.objects.count(), AuditEntry.objects.count())
    assert after == before
    assert again["issued"] == replayed["issued"]
