"""A clearance, decided by a reviewer of the person's district, clears that reason at once and
nothing else; every step is audited."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from fangkong.accounts.models import Role
from fangkong.audit.models import AuditEntry
from fangkong.clearances.actions import ClearanceError, do_review, do_submit
from fangkong.codes.models import CodeChange, PersonCode
from fangkong.engine import clearances as machine
from fangkong.ingest.tests.support import BJ, policy_source
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db
PUBLISHED = datetime(2022, 4, 23, tzinfo=BJ)
CALL = datetime(2022, 4, 24, 10, tzinfo=BJ)


@pytest.fixture
def yellow(city):
    """Everyone is yellow under the rule of 21 April (nobody sampled)."""
    do_publish(policy_source("cc-2022-0420-untested"), user=None, now=PUBLISHED)
    return Person.objects.get(id_number=city.nanguan[0])


def colour(person):
    code = PersonCode.objects.filter(pk=person.pk).first()
    return code.colour if code else "green"


def test_an_approved_clearance_turns_the_code_green_at_once_with_the_cause(yellow, make_staff):
    hotline = make_staff(Role.HOTLINE)
    reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220102"])
    clearance = do_submit(yellow, "cc-2022-0420-untested", "hotline", CALL, user=hotline)
    do_review(clearance.pk, machine.START_REVIEW, reviewer, CALL + timedelta(hours=1))
    do_review(clearance.pk, machine.APPROVE, reviewer, CALL + timedelta(hours=2), "采样点记录核实")
    assert colour(yellow) == "green"
    change = CodeChange.objects.filter(person=yellow).latest("at")
    assert change.cause == CodeChange.Cause.CLEARANCE and change.new_colour == "green"
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"clearance.submit", "clearance.start_review", "clearance.approve"} <= actions


def test_a_rejected_clearance_leaves_the_code_and_records_the_reason(yellow, make_staff):
    reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220102"])
    clearance = do_submit(yellow, "cc-2022-0420-untested", "appeal", CALL)
    do_review(clearance.pk, machine.START_REVIEW, reviewer, CALL)
    done = do_review(clearance.pk, machine.REJECT, reviewer, CALL, "无采样记录,也无凭证")
    assert colour(yellow) == "yellow"
    assert done.decision_reason == "无采样记录,也无凭证"
    assert [s["status"] for s in done.steps] == ["submitted", "under_review", "rejected"]


def test_a_reviewer_of_another_district_cannot_decide(yellow, make_staff):
    clearance = do_submit(yellow, "cc-2022-0420-untested", "appeal", CALL)
    with pytest.raises(PermissionDenied):
        do_review(
            clearance.pk, machine.START_REVIEW, make_staff(Role.DISTRICT_REVIEWER, ["220104"]), CALL
        )


def test_one_open_request_per_reason_and_none_for_a_reason_not_held(yellow, city):
    do_submit(yellow, "cc-2022-0420-untested", "appeal", CALL)
    with pytest.raises(ClearanceError, match="已有进行中的申请"):
        do_submit(yellow, "cc-2022-0420-untested", "hotline", CALL)
    with pytest.raises(ClearanceError, match="无需申请"):
        do_submit(yellow, "std-positive-red", "appeal", CALL)


def test_nobody_approves_a_request_they_opened(yellow, make_staff):
    reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220102"])
    clearance = do_submit(yellow, "cc-2022-0420-untested", "hotline", CALL, user=reviewer)
    with pytest.raises(ClearanceError, match="不能审核本人提交的申请"):
        do_review(clearance.pk, machine.START_REVIEW, reviewer, CALL)


def test_the_clearance_answers_the_decision_it_contested_and_not_a_restarted_one(
    yellow, make_staff
):
    reviewer = make_staff(Role.DISTRICT_REVIEWER, ["220102"])
    clearance = do_submit(yellow, "cc-2022-0420-untested", "appeal", CALL)
    do_review(clearance.pk, machine.APPROVE, reviewer, CALL, "凭证属实")
    assert colour(yellow) == "green"
    # The same rule again (a reworded version would be the same): it continues the decision.
    source = policy_source("cc-2022-0420-untested")
    do_publish(source, user=None, now=CALL + timedelta(days=1))
    assert colour(yellow) == "green"
    # A version that says it restarts is a new decision for everyone.
    do_publish("restart = true\n" + source, user=None, now=CALL + timedelta(days=2))
    assert colour(yellow) == "yellow"
