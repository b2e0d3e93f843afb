"""Staff keep a case's classification history; a positive single tube opens a pending case."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from fangkong.accounts.models import Role
from fangkong.audit.models import AuditEntry
from fangkong.cases.actions import do_correct_event, do_open_case, do_record_event
from fangkong.cases.models import Case, CaseEvent
from fangkong.cases.tests.support import at, case_of, person
from fangkong.clock.hooks import run_after_sweep
from fangkong.ingest.tests.support import report_result, sample

pytestmark = pytest.mark.django_db


def test_a_case_goes_from_asymptomatic_to_discharged_with_who_recorded_each_step(city, make_staff):
    reviewer = make_staff(Role.DISTRICT_REVIEWER, districts=["220102"])
    case = do_open_case(reviewer, person(city.nanguan[0]), now=at("4-19", 8))
    do_record_event(
        reviewer, case, "asymptomatic", at("4-19", 7), now=at("4-19", 9), found_by="control"
    )
    do_record_event(
        reviewer, case, "reclassified", at("4-20", 7), now=at("4-20", 9), clinical_type="mild"
    )
    do_record_event(reviewer, case, "discharged", at("4-30", 10), now=at("4-30", 11))
    events = CaseEvent.objects.filter(case=case).order_by("at")
    assert [(e.kind, e.recorded_by) for e in events] == [
        ("asymptomatic", reviewer),
        ("reclassified", reviewer),
        ("discharged", reviewer),
    ]
    assert Case.objects.get(pk=case.pk).found_by == "control"
    audited = AuditEntry.objects.filter(target_type="case", target_id=str(case.pk)).order_by("pk")
    assert list(audited.values_list("action", flat=True)) == ["case.open"] + ["case.event"] * 3


def test_a_confirmation_needs_its_clinical_type(city):
    case = do_open_case(None, person(city.nanguan[0]), now=at("4-20", 8), found_by="isolation")
    with pytest.raises(ValueError, match="临床分型"):
        do_record_event(None, case, "confirmed", at("4-20", 7), now=at("4-20", 8))


def test_the_first_classification_must_say_where_the_case_was_found(city):
    case = do_open_case(None, person(city.nanguan[0]), now=at("4-20", 8))
    with pytest.raises(ValueError, match="发现途径"):
        do_record_event(None, case, "asymptomatic", at("4-20", 7), now=at("4-20", 8))


def test_a_confirmed_case_is_not_confirmed_again_nor_released_from_observation(city):
    case = case_of(city.nanguan[0], [("confirmed", at("4-20", 7))])
    for kind in ("confirmed", "reclassified", "released"):
        with pytest.raises(ValueError):
            do_record_event(
                None, case, kind, at("4-21", 7), now=at("4-21", 8), clinical_type="mild"
            )


def test_an_event_cannot_be_dated_after_it_was_recorded(city):
    case = do_open_case(None, person(city.nanguan[0]), now=at("4-20", 8), found_by="isolation")
    with pytest.raises(ValueError, match="晚于"):
        do_record_event(None, case, "asymptomatic", at("4-20", 9), now=at("4-20", 8))


def test_a_district_reviewer_keeps_only_the_cases_of_their_districts(city, make_staff):
    reviewer = make_staff(Role.DISTRICT_REVIEWER, districts=["220104"])
    with pytest.raises(PermissionDenied):
        do_open_case(reviewer, person(city.nanguan[0]), now=at("4-20", 8))
    sampler = make_staff(Role.SAMPLER, districts=["220102"])
    with pytest.raises(PermissionDenied):
        do_open_case(sampler, person(city.nanguan[0]), now=at("4-20", 8))


def test_a_correction_is_a_new_event_and_the_original_stays(city):
    case = case_of(city.nanguan[0], [("asymptomatic", at("4-19", 23))])
    original = CaseEvent.objects.get(case=case)
    corrected = do_correct_event(
        None, original, now=at("4-21", 9), reason="采样时间录入错误", at=at("4-20", 1)
    )
    assert corrected.supersedes == original
    assert CaseEvent.objects.get(pk=original.pk).at == at("4-19", 23)
    with pytest.raises(ValueError, match="已被更正"):
        do_correct_event(None, original, now=at("4-21", 10), reason="再次更正")


def test_a_positive_single_tube_opens_a_pending_case_on_the_next_sweep(city):
    sample([city.nanguan[0]], "T-SINGLE", 1, at("4-20", 8))
    report_result("T-SINGLE", "positive", at("4-20", 14))
    run_after_sweep(at("4-20", 15))
    case = Case.objects.get(person=person(city.nanguan[0]))
    assert case.source_result.tube.barcode == "T-SINGLE"
    assert (case.found_by, case.events.count()) == ("", 0)
    run_after_sweep(at("4-20", 16))
    assert Case.objects.count() == 1


def test_a_positive_pooled_tube_or_a_negative_single_tube_opens_no_case(city):
    sample(city.nanguan[:10], "T-POOL", 10, at("4-20", 8))
    report_result("T-POOL", "positive", at("4-20", 14))
    sample([city.nanguan[10]], "T-NEG", 1, at("4-20", 8))
    report_result("T-NEG", "negative", at("4-20", 14))
    run_after_sweep(at("4-20", 15) + timedelta(minutes=1))
    assert not Case.objects.exists()
