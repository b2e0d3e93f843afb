"""An exceptional manual override takes two people: one proposes with a reason the resident will
read, another member of the command centre approves; it only ever removes a reason."""

from datetime import datetime, timedelta

import pytest
import time_machine

from fangkong.accounts.models import Role
from fangkong.audit.models import AuditEntry
from fangkong.clearances.models import Clearance
from fangkong.codes.models import PersonCode
from fangkong.ingest.tests.support import BJ, policy_source
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish
from fangkong.residents.tests.test_resident_pages import sign_in

pytestmark = pytest.mark.django_db
AT = datetime(2022, 4, 24, 10, tzinfo=BJ)
POLICY = "cc-2022-0420-untested"
WHY = "核实为方舱医院医护人员,封闭管理期间由院内采样,记录在院内系统"


@pytest.fixture
def yellow(city):
    do_publish(policy_source(POLICY), user=None, now=AT - timedelta(days=1))
    person = Person.objects.get(id_number=city.nanguan[0])
    with time_machine.travel(AT, tick=False):
        from fangkong.codes.actions import do_reevaluate

        do_reevaluate([person.pk], AT)
    assert PersonCode.objects.get(person=person).colour == "yellow"
    return person


def staff_client(client_class, user):
    staff = client_class()
    staff.force_login(user)
    return staff


def propose(staff, person, reason=WHY, **extra):
    with time_machine.travel(AT + timedelta(minutes=5), tick=False):
        return staff.post(
            f"/clearances/override/{person.pk}/",
            {"policy": POLICY, "reason": reason, **extra},
            follow=True,
        )


def decide(staff, clearance, action, reason="", minutes=10):
    with time_machine.travel(AT + timedelta(minutes=minutes), tick=False):
        return staff.post(
            f"/clearances/{clearance.pk}/", {"action": action, "reason": reason}, follow=True
        )


def test_an_override_needs_a_second_person_from_the_command_centre(client, yellow, make_staff):
    proposer = staff_client(type(client), make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    page = propose(proposer, yellow, colour="green").content.decode()
    assert "须由指挥部另一名工作人员批准" in page
    override = Clearance.objects.get(channel="override")
    assert override.description == WHY
    assert PersonCode.objects.get(person=yellow).colour == "yellow"  # nothing yet

    # The proposer cannot decide, nor can another district reviewer of the same district.
    assert "不能审核本人提交的申请" in decide(proposer, override, "start_review").content.decode()
    colleague = staff_client(type(client), make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    assert "须由指挥部" in decide(colleague, override, "start_review").content.decode()
    command = staff_client(type(client), make_staff(Role.COMMAND_CENTRE))
    decide(command, override, "start_review")
    decide(command, override, "approve", "情况属实,同意解除", minutes=11)
    assert PersonCode.objects.get(person=yellow).colour == "green"


def test_the_command_centre_member_who_proposed_cannot_approve_it(client, yellow, make_staff):
    command = staff_client(type(client), make_staff(Role.COMMAND_CENTRE))
    propose(command, yellow)
    override = Clearance.objects.get(channel="override")
    refused = decide(command, override, "start_review").content.decode()
    assert "不能审核本人提交的申请" in refused
    assert Clearance.objects.get(pk=override.pk).status == "submitted"


def test_the_resident_reads_the_reason_of_the_override(client, yellow, city, make_staff):
    proposer = staff_client(type(client), make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    propose(proposer, yellow)
    override = Clearance.objects.get(channel="override")
    command = staff_client(type(client), make_staff(Role.COMMAND_CENTRE))
    decide(command, override, "start_review")
    decide(command, override, "approve", "情况属实,同意解除", minutes=11)
    with time_machine.travel(AT + timedelta(minutes=20), tick=False):
        sign_in(client, city.nanguan[0])
        page = client.get("/r/").content.decode()
    assert "人工复核理由:" + WHY in page and "审核意见:情况属实,同意解除" in page
    assert 'data-colour="green"' in page


def test_an_override_needs_a_reason_and_a_person_in_ones_districts(client, yellow, make_staff):
    nanguan = staff_client(type(client), make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    assert "请写明人工复核的理由" in propose(nanguan, yellow, reason="同意").content.decode()
    chaoyang = staff_client(type(client), make_staff(Role.DISTRICT_REVIEWER, ["220104"]))
    assert propose(chaoyang, yellow).status_code == 404
    hotline = staff_client(type(client), make_staff(Role.HOTLINE))
    assert "只有区县审核员和指挥部" in propose(hotline, yellow).content.decode()
    assert not Clearance.objects.exists()


def withdraw(staff, override, minutes=8, **extra):
    with time_machine.travel(AT + timedelta(minutes=minutes), tick=False):
        return staff.post(f"/clearances/override/withdraw/{override.pk}/", extra, follow=True)


def test_the_proposer_sees_the_override_waiting_for_a_second_person(client, yellow, make_staff):
    proposer = make_staff(Role.DISTRICT_REVIEWER, ["220102"])
    staff = staff_client(type(client), proposer)
    detail = propose(staff, yellow).content.decode()
    override = Clearance.objects.get(channel="override")
    with time_machine.travel(AT + timedelta(minutes=6), tick=False):
        person = staff.get(f"/people/{yellow.pk}/").content.decode()
        queue = staff.get("/clearances/").content.decode()
    for page in (detail, person, queue):
        assert "等待另一名工作人员批准" in page, page
    assert f'data-clearance="{override.pk}"' in person
    assert 'id="my-overrides"' in queue
    assert "撤回人工复核" in person and "提出人工复核</button>" not in person  # not twice


def test_the_proposer_withdraws_an_override_and_the_withdrawal_is_audited(
    client, yellow, make_staff
):
    proposer = staff_client(type(client), make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    propose(proposer, yellow)
    override = Clearance.objects.get(channel="override")
    back = f"/people/{yellow.pk}/#code"
    reply = withdraw(proposer, override, next=back, reason="已核实居民另行采样")
    assert reply.redirect_chain[-1][0] == back and "已撤回人工复核" in reply.content.decode()
    override.refresh_from_db()
    assert override.status == "withdrawn"
    assert override.steps[-1]["reason"] == "已核实居民另行采样"
    entry = AuditEntry.objects.get(action="clearance.withdraw", target_id=str(override.pk))
    assert entry.detail["reason"] == "已核实居民另行采样"
    page = reply.content.decode()
    assert "等待另一名工作人员批准" not in page and "提出人工复核</button>" in page
    # The command centre finds nothing left to approve.
    command = staff_client(type(client), make_staff(Role.COMMAND_CENTRE))
    refused = decide(command, override, "approve", "情况属实,同意解除").content.decode()
    assert "申请已撤回" in refused
    assert PersonCode.objects.get(person=yellow).colour == "yellow"


def test_only_the_proposer_withdraws_and_only_before_the_review_starts(client, yellow, make_staff):
    proposer = staff_client(type(client), make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    propose(proposer, yellow)
    override = Clearance.objects.get(channel="override")
    colleague = staff_client(type(client), make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    assert "只有提出人工复核的工作人员可以撤回" in withdraw(colleague, override).content.decode()
    command = staff_client(type(client), make_staff(Role.COMMAND_CENTRE))
    decide(command, override, "start_review", minutes=7)
    assert "审核中时不能撤回" in withdraw(proposer, override).content.decode()
    override.refresh_from_db()
    assert override.status == "under_review"
    assert not AuditEntry.objects.filter(action="clearance.withdraw").exists()


def test_an_override_outliving_its_reason_stays_in_sight_of_its_proposer(
    client, yellow, city, make_staff
):
    from fangkong.ingest.tests.support import report_result, sample

    proposer = staff_client(type(client), make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    propose(proposer, yellow)
    sample([city.nanguan[0]], "T-AFTER", 1, AT + timedelta(hours=1))
    report_result("T-AFTER", "negative", AT + timedelta(hours=5))  # the rule clears by itself
    with time_machine.travel(AT + timedelta(hours=6), tick=False):
        page = proposer.get(f"/people/{yellow.pk}/").content.decode()
    assert f'class="reason yellow" data-policy="{POLICY}"' not in page
    assert "其他进行中的申请" in page and "等待另一名工作人员批准" in page
    assert "撤回人工复核" in page
