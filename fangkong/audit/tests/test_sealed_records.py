"""Beyond code changes, the records that decide a colour are sealed too: a stored code or a
policy version edited, slipped in or deleted in SQL is named by `fangkong audit verify`."""

from datetime import datetime

import pytest
from django.db import connection

from fangkong.audit.tests.test_chain import audit_verify
from fangkong.codes.models import PersonCode
from fangkong.ingest.tests.support import BJ, policy_source
from fangkong.policies.actions import do_publish, do_withdraw
from fangkong.policies.models import PolicyVersion

pytestmark = pytest.mark.django_db
AT = datetime(2022, 4, 23, 0, 0, tzinfo=BJ)


@pytest.fixture
def published(city, capsys):
    do_publish(policy_source("cc-2022-0420-untested"), user=None, now=AT)
    assert audit_verify(capsys)[0] == 0
    return city


def test_a_stored_code_turned_green_in_sql_is_named(published, capsys):
    person = PersonCode.objects.order_by("person_id").first().person_id
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE codes_personcode SET colour = 'green', reasons = %s WHERE person_id = %s",
            ["[]", person],
        )
    code, report = audit_verify(capsys)
    assert code == 1 and f"居民 #{person} 的健康码与其最后一次变更记录不符" in report["problem"]


def test_a_stored_code_deleted_or_slipped_in_is_named(published, capsys):
    first, second = PersonCode.objects.order_by("person_id")[:2]
    PersonCode.objects.filter(pk=first.pk).delete()
    code, report = audit_verify(capsys)
    assert (
        code == 1
        and f"居民 #{first.person_id} 有健康码变更记录,但当前健康码已被删除" in (report["problem"])
    )


def test_a_red_code_written_for_someone_with_no_change_is_named(city, capsys):
    from fangkong.people.models import Person

    person = Person.objects.order_by("id").first()
    PersonCode.objects.create(
        person=person, colour="red", county_code=person.county_code, evaluated_at=AT
    )
    code, report = audit_verify(capsys)
    assert code == 1 and f"居民 #{person.pk} 的健康码没有任何变更记录" in report["problem"]


def test_a_policy_version_edited_in_sql_is_named(published, capsys):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE policies_policyversion SET colour = 'red'")
    code, report = audit_verify(capsys)
    assert code == 1 and "政策 cc-2022-0420-untested@1 与发布存证不符" in report["problem"]


def test_a_policy_version_slipped_in_or_deleted_is_named(published, capsys):
    version = PolicyVersion.objects.get()
    version.pk, version.version = None, 2
    version.save()
    code, report = audit_verify(capsys)
    assert code == 1 and "政策 cc-2022-0420-untested@2 没有发布存证" in report["problem"]
    PolicyVersion.objects.all().delete()
    assert "有发布存证,但记录已不存在" in audit_verify(capsys)[1]["problem"]


def test_a_withdrawal_is_sealed_like_a_publication(published, capsys):
    do_withdraw("cc-2022-0420-untested", user=None, now=AT.replace(day=24), reason="误发,撤回")
    assert audit_verify(capsys)[0] == 0


@pytest.fixture
def approved(published, make_staff):
    """A hotline request for one unsampled resident, approved by a 南关区 reviewer."""
    from fangkong.clearances.actions import do_review, do_submit
    from fangkong.engine import clearances as machine
    from fangkong.people.models import Person

    person = Person.objects.get(id_number=published.nanguan[3])
    hotline = make_staff("hotline")
    reviewer = make_staff("district_reviewer", ["220102"])
    call = AT.replace(hour=9)
    clearance = do_submit(person, "cc-2022-0420-untested", "hotline", call, user=hotline)
    do_review(clearance.pk, machine.APPROVE, reviewer, call.replace(hour=10), "采样点记录核实")
    return person


def test_an_approved_exemption_is_sealed_and_an_edit_is_named(approved, capsys):
    from fangkong.codes.models import Exemption

    assert audit_verify(capsys)[0] == 0
    exemption = Exemption.objects.get(person=approved)
    Exemption.objects.filter(pk=exemption.pk).update(policy_version=None)  # every version
    code, report = audit_verify(capsys)
    assert code == 1 and f"解码豁免 #{exemption.pk} 与审批存证不符" in report["problem"]


def test_an_exemption_slipped_in_or_deleted_is_named(approved, capsys):
    from fangkong.codes.models import Exemption
    from fangkong.people.models import Person

    other = Person.objects.exclude(pk=approved.pk).first()
    slipped = Exemption.objects.create(
        person=other, policy_id="cc-2022-0420-untested", approved_at=AT, reason="无"
    )
    assert f"解码豁免 #{slipped.pk} 没有审批存证" in audit_verify(capsys)[1]["problem"]
    Exemption.objects.all().delete()
    assert "有审批存证,但记录已不存在" in audit_verify(capsys)[1]["problem"]
