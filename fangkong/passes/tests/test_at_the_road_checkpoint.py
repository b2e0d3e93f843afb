"""An issued vehicle pass at a road checkpoint (道路卡口), online: valid with a green driver,
refused with the reason when the driver's code is yellow, when revoked (at once), when its
signing key is revoked, and outside its validity; the scans show on the pass's own list."""

from datetime import timedelta

import pytest

from fangkong.accounts.models import Role
from fangkong.checkpoints.actions import do_create_checkpoint, do_verify
from fangkong.checkpoints.models import GateScan
from fangkong.codes.models import PersonCode
from fangkong.engine import tokens
from fangkong.passes.actions import do_decide, do_issue_batch, do_revoke
from fangkong.passes.models import VehiclePass
from fangkong.passes.queries import revoked_ids, scans_of
from fangkong.passes.tests.support import MORNING, apply, enterprise_account, make_enterprise
from fangkong.people.models import Person
from fangkong.signing import keys

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(city, make_staff):
    enterprise = make_enterprise()
    account = enterprise_account(make_staff, enterprise)
    officer = make_staff(Role.PASS_OFFICER, ["220102"])
    vp = apply(account, enterprise, city.nanguan[0], MORNING)
    do_decide(officer, vp, approve=True, reason="", now=MORNING + timedelta(hours=2))
    do_issue_batch(officer, now=MORNING + timedelta(hours=3))
    checkpoint, _ = do_create_checkpoint(
        None, name="长春南收费站", type_code="road_checkpoint", county_code="220102", now=MORNING
    )
    return {"pass": VehiclePass.objects.get(pk=vp.pk), "officer": officer, "checkpoint": checkpoint}


def scan(issued, at):
    return do_verify(issued["checkpoint"], issued["pass"].token, at)


def test_a_valid_pass_of_a_green_driver_passes_and_is_logged(issued):
    verdict = scan(issued, MORNING + timedelta(hours=4))
    assert (verdict.outcome, verdict.kind, verdict.reasons) == ("pass", tokens.VEHICLE, [])
    assert verdict.name == "*三" or verdict.name.startswith("*")
    logged = list(scans_of(issued["pass"]))
    assert [s.outcome for s in logged] == ["pass"]
    assert logged[0].checkpoint == issued["checkpoint"]


def test_the_pass_page_lists_its_scans(issued, client):
    scan(issued, MORNING + timedelta(hours=4))
    client.force_login(issued["officer"])
    page = client.get(f"/passes/{issued['pass'].pk}/").content.decode()
    assert "长春南收费站" in page and "通过" in page and "在线核验" in page


def test_a_driver_with_a_yellow_code_is_refused_with_the_reason(issued):
    driver = Person.objects.get(pk=issued["pass"].driver_id)
    PersonCode.objects.create(
        person=driver, colour="yellow", county_code="220102", evaluated_at=MORNING
    )
    verdict = scan(issued, MORNING + timedelta(hours=4))
    assert verdict.outcome == "deny"
    assert verdict.reasons == ["驾驶员健康码为黄码,车辆通行证暂停使用"]
    assert GateScan.objects.get().colour == "yellow"


def test_a_revoked_pass_is_refused_at_once(issued):
    at = MORNING + timedelta(hours=5)
    assert scan(issued, at).outcome == "pass"
    do_revoke(issued["officer"], issued["pass"], reason="车辆转作他用", now=at)
    verdict = scan(issued, at + timedelta(seconds=1))
    assert (verdict.outcome, verdict.reasons) == ("deny", ["通行证已吊销"])
    assert revoked_ids(at) == [issued["pass"].pk]
    assert revoked_ids(at - timedelta(seconds=1)) == []


def test_revoking_the_signing_key_denies_every_pass_it_signed(issued):
    at = MORNING + timedelta(hours=5)
    keys.revoke(issued["pass"].kid, "密钥泄露", at)
    verdict = scan(issued, at + timedelta(seconds=1))
    assert verdict.outcome == "deny"
    assert verdict.reasons == [tokens.REASONS[tokens.REVOKED_KEY]]


def test_outside_its_validity_the_pass_is_refused(issued):
    verdict = scan(issued, issued["pass"].valid_until + timedelta(minutes=1))
    assert verdict.outcome == "deny"
    assert verdict.reasons[0].startswith(tokens.REASONS[tokens.EXPIRED])


def test_a_health_code_is_still_accepted_at_a_road_checkpoint(issued, city):
    from fangkong.checkpoints.tests.support import token_for

    at = MORNING + timedelta(hours=4)
    verdict = do_verify(issued["checkpoint"], token_for(city.nanguan[0], at), at)
    assert (verdict.outcome, verdict.kind) == ("pass", tokens.CODE)
