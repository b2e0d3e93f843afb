"""At the compound gate: a pass goes out once and comes back once, only at its own compound,
and not out of a compound placed under control since it was issued."""

from datetime import timedelta

import pytest

from fangkong.audit.models import AuditEntry
from fangkong.exits.actions import do_request_exit_pass, show_current
from fangkong.exits.gate import check_pass_at_gate, do_record_passage
from fangkong.exits.models import ExitPass
from fangkong.exits.tests.support import MORNING, claims_of, person, place
from fangkong.ingest.tests.support import community
from fangkong.signing import keys

pytestmark = pytest.mark.django_db
GATE = "gate-1"


@pytest.fixture
def issued(compound):
    city, home = compound
    outcome = do_request_exit_pass(person(city.nanguan[2]), MORNING)
    return home, outcome.exit_pass, claims_of(outcome.token, MORNING)


def test_going_out_and_coming_back_are_both_recorded(issued):
    home, exit_pass, claims = issued
    out_at, back_at = MORNING + timedelta(minutes=5), MORNING + timedelta(hours=2)
    assert check_pass_at_gate(claims, home.code, "exit", out_at).passed
    do_record_passage(exit_pass.pk, "exit", out_at, GATE)
    assert check_pass_at_gate(claims, home.code, "return", back_at).passed
    do_record_passage(exit_pass.pk, "return", back_at, 7)
    exit_pass.refresh_from_db()
    assert exit_pass.status == ExitPass.Status.RETURNED
    assert (exit_pass.exited_at, exit_pass.exit_checkpoint) == (out_at, GATE)
    assert (exit_pass.returned_at, exit_pass.return_checkpoint) == (back_at, "7")
    assert list(
        AuditEntry.objects.filter(target_type="exit_pass", target_id=str(exit_pass.pk))
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["exit_pass.issue", "exit_pass.exit", "exit_pass.return"]


def test_a_pass_goes_out_only_once_and_a_repeated_scan_changes_nothing(issued):
    home, exit_pass, claims = issued
    out_at = MORNING + timedelta(minutes=5)
    do_record_passage(exit_pass.pk, "exit", out_at, GATE)
    do_record_passage(exit_pass.pk, "exit", out_at + timedelta(minutes=1), "gate-2")
    exit_pass.refresh_from_db()
    assert (exit_pass.exited_at, exit_pass.exit_checkpoint) == (out_at, GATE)
    again = check_pass_at_gate(claims, home.code, "exit", out_at + timedelta(minutes=2))
    assert again.reasons == ("此通行码已登记出门,尚未返回",)
    assert AuditEntry.objects.filter(action="exit_pass.exit").count() == 1
    do_record_passage(exit_pass.pk, "return", out_at + timedelta(hours=1), GATE)
    used = check_pass_at_gate(claims, home.code, "exit", out_at + timedelta(hours=2))
    assert used.reasons == ("此通行码已使用(已出门并返回),如需再次外出请重新申请",)


def test_a_pass_not_yet_out_cannot_come_back(issued):
    home, _, claims = issued
    decision = check_pass_at_gate(claims, home.code, "return", MORNING)
    assert decision.reasons == ("此通行码尚未登记出门",)


def test_another_compounds_gate_denies_the_pass(issued):
    _, _, claims = issued
    elsewhere = community("220104").code
    decision = check_pass_at_gate(claims, elsewhere, "exit", MORNING)
    assert decision.reasons == ("此通行码不属于本小区",)


def test_a_compound_placed_under_control_since_stops_its_passes_but_lets_people_back(
    compound,
):
    city, home = compound
    going = do_request_exit_pass(person(city.nanguan[2]), MORNING)
    gone = do_request_exit_pass(person(city.nanguan[3]), MORNING)
    do_record_passage(gone.exit_pass.pk, "exit", MORNING, GATE)
    place(home.code, "control", MORNING + timedelta(minutes=30))
    later = MORNING + timedelta(hours=1)
    stopped = check_pass_at_gate(claims_of(going.token, MORNING), home.code, "exit", later)
    assert stopped.reasons == ("小区已调整为管控区,通行码停用",)
    back = check_pass_at_gate(claims_of(gone.token, MORNING), home.code, "return", later)
    assert back.passed
    # the resident who had not gone out sees the pass stopped, and gets no new one
    shown = show_current(person(city.nanguan[2]), later)
    assert shown.token is None and shown.decision.reasons == ("小区已调整为管控区,通行码停用",)


def test_a_pass_belongs_to_its_holder_and_must_exist(issued, compound):
    city, home = compound
    _, exit_pass, claims = issued
    someone_else = {**claims, "sub": keys.person_ref(person(city.nanguan[4]).pk)}
    assert check_pass_at_gate(someone_else, home.code, "exit", MORNING).reasons == (
        "查无此通行码,或通行码与持码人不符",
    )
    invented = {**claims, "pid": exit_pass.pk + 100}
    assert not check_pass_at_gate(invented, home.code, "exit", MORNING).passed
    exit_pass.status = ExitPass.Status.CANCELLED
    exit_pass.save()
    assert check_pass_at_gate(claims, home.code, "exit", MORNING).reasons == ("通行码已作废",)


def test_an_expired_pass_cannot_go_out_but_one_who_is_out_gets_a_token_to_come_back(compound):
    city, home = compound
    idle = do_request_exit_pass(person(city.nanguan[2]), MORNING).exit_pass
    walker = person(city.nanguan[3])
    out = do_request_exit_pass(walker, MORNING).exit_pass
    do_record_passage(out.pk, "exit", MORNING, GATE)
    late = MORNING + timedelta(hours=5)  # the passes ran until 14:00
    token_claims = {"sub": keys.person_ref(idle.person_id), "pid": idle.pk, "com": home.code}
    assert check_pass_at_gate(token_claims, home.code, "exit", late).reasons == (
        "通行码已过有效期",
    )
    assert show_current(person(city.nanguan[2]), late) is None  # expired: ask again tomorrow
    shown = show_current(walker, late)
    claims = claims_of(shown.token, late)
    assert claims["exp"] == int((late + timedelta(minutes=30)).timestamp())
    assert check_pass_at_gate(claims, home.code, "return", late).passed


def test_an_unknown_direction_is_denied(issued):
    home, _, claims = issued
    assert check_pass_at_gate(claims, home.code, "sideways", MORNING).reasons == (
        "请选择出门或返回",
    )
