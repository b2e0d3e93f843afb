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


# -- the facts codes are computed from ------------------------------------------------------


@pytest.fixture
def tested(city, capsys):
    """Ten of 南关区 sampled into one pool, its result reported, a close contact designated."""
    from fangkong.ingest.actions import do_ingest
    from fangkong.ingest.tests.support import report_result, sample

    sample(city.nanguan[:10], "T-0421-1", "10", AT.replace(day=21, hour=9))
    report_result("T-0421-1", "negative", AT.replace(day=21, hour=20))
    row = {
        "id_number": city.nanguan[20],
        "kind": "close_contact",
        "start_at": "2022-04-22T08:00:00+08:00",
        "designated_by": "南关区疾控",
    }
    assert do_ingest("designations", rows=[row]).inserted == 1
    assert audit_verify(capsys)[0] == 0
    return city


@pytest.mark.parametrize(
    ("sql", "label"),
    [
        ("UPDATE testing_labresult SET result = 'positive'", "检测结果(testing_labresult)"),
        (
            "DELETE FROM testing_sampling WHERE id = (SELECT MIN(id) FROM testing_sampling)",
            "采样记录",
        ),
        ("UPDATE testing_tube SET capacity = 1", "试管(testing_tube)"),
        ("DELETE FROM people_designation", "密接判定(people_designation)"),
        (
            "UPDATE people_person SET community_id = '220104001001' "
            "WHERE id = (SELECT MIN(id) FROM people_person)",
            "居民住址(people_person)",
        ),
    ],
)
def test_a_fact_edited_deleted_or_slipped_in_by_sql_is_named(tested, capsys, sql, label):
    with connection.cursor() as cursor:
        cursor.execute(sql)
    code, report = audit_verify(capsys)
    assert code == 1 and label in report["problem"] and "与导入存证不符" in report["problem"]


def test_a_correction_loaded_through_ingestion_keeps_the_seals_whole(tested, capsys):
    from fangkong.ingest.actions import do_ingest
    from fangkong.ingest.tests.support import community
    from fangkong.people.models import Person

    person = Person.objects.get(id_number=tested.nanguan[0])
    row = {
        "id_number": person.id_number,
        "name": person.name,
        "phone": person.phone,
        "community_code": community("220104").code,
        "correction_reason": "户籍地址更正",
    }
    assert do_ingest("residents", rows=[row]).inserted == 1
    assert audit_verify(capsys)[0] == 0
