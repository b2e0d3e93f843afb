"""`fangkong ingest cases FILE`: a register of case events loads through the one ingestion path,
opens the cases of people who have none, and obeys the same rules as staff entry."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fangkong.cases.actions import do_open_case
from fangkong.cases.models import Case, CaseEvent
from fangkong.cases.queries import day_figures
from fangkong.cases.tests.support import APRIL_21_MORNING, at, case_of, person
from fangkong.cli import build_parser
from fangkong.engine.id_numbers import make_id_number
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.flags import do_resolve_flag
from fangkong.ingest.models import Batch, Flag
from fangkong.ingest.tests.support import build_city, community, write_csv

pytestmark = pytest.mark.django_db
HEADER = ["id_number", "event", "at", "clinical_type", "found_by", "community_code"]
CHINESE = ["身份证号", "病例事件", "时间", "临床分型", "发现途径", "社区代码"]


def when(month_day: str, hour: int) -> str:
    return at(month_day, hour).isoformat()


@pytest.fixture
def city(db):
    return build_city()


def register(city) -> list[list[str]]:
    """Three people: one converts, one is confirmed in the community, one is asymptomatic."""
    a, b, c = city.nanguan[:3]
    return [
        [a, "无症状感染者", when("04-19", 10), "", "隔离点筛查", ""],
        [a, "无症状转确诊", when("04-20", 9), "轻型", "", ""],
        [b, "确诊", when("04-20", 11), "普通型", "community", community("220104").code],
        [c, "asymptomatic", when("04-20", 12), "", "control", ""],
    ]


def load(path, now=APRIL_21_MORNING, user=None):
    return do_ingest("cases", path=path, now=now, user=user)


def test_a_file_of_cases_opens_the_cases_and_the_day_figures_count_them(city, tmp_path):
    path = write_csv(tmp_path / "cases.csv", CHINESE, register(city))
    report = load(path)
    assert (report.rows, report.inserted, report.rejected) == (4, 4, 0), report.errors
    assert Case.objects.count() == 3 and CaseEvent.objects.count() == 4
    figures = day_figures(date(2022, 4, 20), APRIL_21_MORNING)
    assert (figures.new_confirmed, figures.of_which_conversions) == (2, 1)
    assert (figures.new_asymptomatic, figures.found_in_community) == (1, 1)
    assert day_figures(date(2022, 4, 19), APRIL_21_MORNING).new_asymptomatic == 1


def test_each_case_says_where_it_was_found_and_the_community_given_or_the_residents(city, tmp_path):
    load(write_csv(tmp_path / "cases.csv", HEADER, register(city)))
    a, b = (Case.objects.get(person__id_number=n) for n in city.nanguan[:2])
    assert (a.found_by, a.community_id, a.county_code) == (
        "isolation",
        community("220102").code,
        "220102",
    )
    assert (b.found_by, b.community_id, b.county_code) == (
        "community",
        community("220104").code,
        "220104",
    )


def test_the_events_are_recorded_at_the_loads_time_with_their_clinical_type(city, tmp_path):
    load(write_csv(tmp_path / "cases.csv", HEADER, register(city)))
    events = CaseEvent.objects.filter(case__person__id_number=city.nanguan[0]).order_by("at")
    assert [(e.kind, e.clinical_type) for e in events] == [
        ("asymptomatic", ""),
        ("reclassified", "mild"),
    ]
    assert {e.recorded_at for e in events} == {APRIL_21_MORNING}
    assert {e.batch_id for e in events} == {events[0].batch_id} != {None}


def test_submitting_the_same_file_again_changes_nothing(city, tmp_path):
    path = write_csv(tmp_path / "cases.csv", HEADER, register(city))
    load(path)
    again = load(path, now=at("04-21", 9))
    assert (again.inserted, again.duplicates, again.rejected, again.flagged) == (0, 4, 0, 0)
    assert Case.objects.count() == 3 and CaseEvent.objects.count() == 4


def test_bad_rows_are_reported_with_row_and_reason_and_good_rows_kept(city, tmp_path):
    a, b, c, d = city.nanguan[:4]
    stranger = make_id_number("220102", date(1990, 1, 1), 999)
    rows = [
        [stranger, "确诊", when("04-20", 9), "轻型", "isolation", ""],
        [a, "确诊", when("04-20", 9), "", "isolation", ""],
        [b, "无症状转确诊", when("04-20", 9), "重型", "isolation", ""],
        [c, "痊愈", when("04-20", 9), "", "isolation", ""],
        [d, "确诊", when("04-20", 9), "危重型", "isolation", ""],
        [c, "asymptomatic", when("04-20", 10), "", "isolation", ""],
    ]
    report = load(write_csv(tmp_path / "cases.csv", HEADER, rows))
    assert (report.inserted, report.rejected) == (2, 4)
    reasons = {e["row"]: (e["field"], e["reason"]) for e in report.errors}
    assert reasons[2] == ("id_number", "未知人员:该身份证号尚未登记为居民")
    assert reasons[3] == ("clinical_type", "确诊病例须填写临床分型")
    assert reasons[4] == ("event", "只有尚未转为确诊的无症状感染者才能转为确诊")
    assert reasons[5][0] == "event" and "取值应为" in reasons[5][1]
    kept = CaseEvent.objects.values_list("case__person__id_number", "kind", "clinical_type")
    assert sorted(kept) == sorted([(d, "confirmed", "critical"), (c, "asymptomatic", "")])
    assert not Case.objects.filter(person__id_number__in=[a, b]).exists()


def test_rows_are_checked_against_the_cases_standing_events(city, tmp_path):
    a = city.nanguan[0]
    case_of(a, [("confirmed", at("04-18", 9))])
    rows = [
        [a, "asymptomatic", when("04-19", 9), "", "isolation", ""],
        [a, "discharged", when("04-20", 9), "", "", ""],
        [a, "discharged", when("04-20", 10), "", "", ""],
    ]
    report = load(write_csv(tmp_path / "cases.csv", HEADER, rows))
    assert (report.inserted, report.rejected) == (1, 2)
    reasons = [(e["row"], e["reason"]) for e in report.errors]
    assert reasons == [(2, "该病例已分类"), (4, "该病例已出院")]
    kinds = CaseEvent.objects.filter(case__person__id_number=a).values_list("kind", flat=True)
    assert sorted(kinds) == ["confirmed", "discharged"]


def test_a_first_classification_must_say_where_the_case_was_found(city, tmp_path):
    a = city.nanguan[0]
    rows = [[a, "asymptomatic", when("04-20", 9), "", "", ""]]
    report = load(write_csv(tmp_path / "cases.csv", HEADER, rows))
    assert report.rejected == 1 and report.errors[0]["reason"] == "首次分类须填写发现途径"
    assert not Case.objects.exists()


def run(*argv) -> int:
    args = build_parser().parse_args([str(a) for a in argv])
    return args.func(args)


def test_the_command_line_loads_a_file_of_cases(city, tmp_path, capsys):
    path = write_csv(tmp_path / "cases.csv", CHINESE, register(city))
    assert run("ingest", "cases", path) == 0
    assert "共4行" in capsys.readouterr().out
    assert CaseEvent.objects.count() == 4
    assert run("ingest", "cases", path, "--json") == 0
    assert '"duplicates": 4' in capsys.readouterr().out


def test_a_repeat_with_another_clinical_type_is_flagged_and_accepting_it_corrects(
    city, tmp_path, make_staff
):
    load(write_csv(tmp_path / "cases.csv", HEADER, register(city)))
    changed = register(city)[1]
    changed[3] = "重型"
    report = load(write_csv(tmp_path / "changed.csv", HEADER, [changed]))
    assert (report.flagged, report.inserted) == (1, 0)
    flag = Flag.objects.get()
    assert (flag.kind, flag.county_code, flag.existing["临床分型"]) == ("cases", "220102", "轻型")

    reviewer = make_staff("district_reviewer", ["220102"])
    do_resolve_flag(flag, reviewer, accept=True, note="医院复核:重型")
    correction = CaseEvent.objects.get(supersedes__isnull=False)
    assert (correction.kind, correction.clinical_type) == ("reclassified", "severe")
    assert (correction.recorded_by, correction.correction_reason) == (reviewer, "医院复核:重型")


def test_a_district_reviewer_loads_only_the_cases_of_their_districts(city, tmp_path, make_staff):
    reviewer = make_staff("district_reviewer", ["220104"])
    rows = [
        [city.chaoyang[0], "确诊", when("04-20", 9), "轻型", "fever_clinic", ""],
        [city.nanguan[0], "确诊", when("04-20", 9), "轻型", "fever_clinic", ""],
    ]
    report = load(write_csv(tmp_path / "cases.csv", HEADER, rows), user=reviewer)
    assert (report.inserted, report.rejected) == (1, 1)
    assert report.errors[0]["reason"] == "该人员不在您负责的区县"
    event = CaseEvent.objects.get()
    assert (event.recorded_by, event.case.opened_by, event.case.found_by) == (
        reviewer,
        reviewer,
        "fever_clinic",
    )


def test_a_district_reviewer_uploads_a_register_from_the_upload_page(city, make_staff, client):
    client.force_login(make_staff("district_reviewer", ["220102"]))
    page = client.get(reverse("ingest:upload", args=["cases"])).content.decode()
    assert "clinical_type" in page and "临床分型" in page
    lines = [",".join(HEADER), *(",".join(row) for row in register(city))]
    file = SimpleUploadedFile("cases.csv", ("\n".join(lines) + "\n").encode(), "text/csv")
    response = client.post(reverse("ingest:upload", args=["cases"]), {"file": file})
    assert response.status_code == 302
    assert Batch.objects.get(source="web").inserted == 4
    assert CaseEvent.objects.count() == 4


def test_a_pending_case_is_classified_by_the_file_and_learns_where_it_was_found(city, tmp_path):
    a = city.nanguan[0]
    pending = do_open_case(None, person(a), now=at("04-19", 9))
    rows = [[a, "无症状感染者", when("04-20", 9), "", "管控区筛查", ""]]
    report = load(write_csv(tmp_path / "cases.csv", HEADER, rows))
    assert report.inserted == 1
    pending.refresh_from_db()
    assert pending.found_by == "control"
    assert CaseEvent.objects.get().case == pending
