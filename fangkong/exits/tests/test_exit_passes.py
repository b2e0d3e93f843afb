"""A resident of a community in 防范区 asks for an exit pass (易行码): granted with a QR when
the community's rules are met, denied with every reason when they are not."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from fangkong.audit.models import AuditEntry
from fangkong.engine.id_numbers import mask_name
from fangkong.exits.actions import do_publish_rules, do_request_exit_pass, show_current
from fangkong.exits.models import ExitPass
from fangkong.exits.tests.support import MORNING, as_resident, claims_of, person, place
from fangkong.ingest.tests.support import BJ, policy_source, report_result, sample
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db


def ask(client):
    return client.post(reverse("exits:resident")).content.decode()


def test_a_green_resident_of_a_prevention_zone_with_a_fresh_negative_gets_a_pass(client, compound):
    city, home = compound
    someone = person(city.nanguan[2])
    as_resident(client, someone)
    with time_machine.travel(MORNING, tick=False):
        before = client.get(reverse("exits:resident")).content.decode()
        granted = ask(client)
        exit_pass = ExitPass.objects.get()
        # the QR shown again on the next visit: a fresh token for the same pass
        claims = claims_of(show_current(someone, MORNING).token, MORNING)
    assert "今日可以申请外出" in before and "防范区" in before
    assert "每户每天限1人次外出" in before and "外出时段为每天06:00至20:00" in before
    assert "已签发通行码" in granted and "<svg" in granted
    assert "10:00 – 14:00 有效" in granted and "待出门" in granted
    assert (exit_pass.person_id, exit_pass.community_id, exit_pass.household) == (
        someone.pk,
        home.code,
        f"p{someone.pk}",
    )
    assert exit_pass.valid_until == MORNING + timedelta(hours=4)
    assert claims["pid"] == exit_pass.pk and claims["com"] == home.code
    assert claims["nbf"] == int(MORNING.timestamp())
    assert claims["exp"] == int((MORNING + timedelta(hours=4)).timestamp())
    assert claims["idm"].startswith("220102********") and claims["nm"].startswith("*")
    entry = AuditEntry.objects.get(action="exit_pass.issue")
    assert entry.actor_name == f"居民#{someone.pk}" and entry.target_id == str(exit_pass.pk)


def test_opening_the_page_again_shows_the_same_pass_and_counts_it_once(client, compound):
    city, _ = compound
    someone = person(city.nanguan[2])
    as_resident(client, someone)
    with time_machine.travel(MORNING, tick=False):
        ask(client)
    with time_machine.travel(MORNING + timedelta(minutes=30), tick=False):
        again = client.get(reverse("exits:resident")).content.decode()
        asked_again = do_request_exit_pass(someone, MORNING + timedelta(minutes=30))
    assert ExitPass.objects.count() == 1
    assert asked_again.existing and asked_again.exit_pass.pk == ExitPass.objects.get().pk
    assert "<svg" in again and "已用 1 / 1 人次" in again and "本人 · 10:00 签发 · 待出门" in again
    assert AuditEntry.objects.filter(action="exit_pass.issue").count() == 1


@pytest.mark.parametrize(("level", "label"), [("lockdown", "封控区"), ("control", "管控区")])
def test_a_resident_of_a_lockdown_or_control_zone_is_denied_with_the_zone(
    client, compound, level, label
):
    city, home = compound
    place(home.code, level, MORNING - timedelta(hours=1))
    as_resident(client, person(city.nanguan[2]))
    with time_machine.travel(MORNING, tick=False):
        before = client.get(reverse("exits:resident")).content.decode()
        denied = ask(client)
    assert "暂不能申请外出" in before and "申请通行码</button>" not in before
    assert "申请未通过" in denied and f"所在小区为{label},暂不能外出" in denied
    assert not ExitPass.objects.exists()
    entry = AuditEntry.objects.get(action="exit_pass.deny")
    assert entry.detail["reasons"] == [f"所在小区为{label},暂不能外出"]


def test_a_community_never_zoned_may_go_out_under_the_city_default(compound):
    city, _ = compound
    # 朝阳区's community was never placed in a zone; its residents tested negative too
    sample(city.chaoyang[:1], "T-CY-1", "1", MORNING - timedelta(hours=3), site="S-CY-1")
    report_result("T-CY-1", "negative", MORNING - timedelta(hours=1))
    outcome = do_request_exit_pass(person(city.chaoyang[0]), MORNING)
    assert outcome.decision.passed and outcome.token


def test_a_yellow_code_is_denied_even_with_a_negative_test(compound):
    city, _ = compound
    published = MORNING - timedelta(hours=4)
    do_publish(policy_source("std-pooled-positive-yellow"), user=None, now=published)
    # after this morning's negative, a positive pool: yellow until the single-tube retest
    sample(city.nanguan[2:3], "T-0424-P", "10", MORNING - timedelta(minutes=90))
    report_result("T-0424-P", "positive", MORNING - timedelta(minutes=20))
    outcome = do_request_exit_pass(person(city.nanguan[2]), MORNING)
    assert outcome.decision.reasons == ("健康码为黄码,需为绿码",)
    assert outcome.exit_pass is None and outcome.token is None


def test_without_a_negative_test_in_48_hours_the_request_is_denied(compound):
    city, _ = compound
    old = do_request_exit_pass(person(city.nanguan[20]), MORNING)  # never sampled
    assert old.decision.reasons == ("无48小时内核酸阴性记录",)
    later = do_request_exit_pass(person(city.nanguan[3]), MORNING + timedelta(hours=50))
    assert "无48小时内核酸阴性记录(最近一次阴性采样于04-24 07:00,距今53小时)" in (
        later.decision.reasons
    )


def test_one_member_per_household_per_day_and_the_next_day_again(client, compound):
    city, _ = compound
    first, second = person(city.nanguan[0]), person(city.nanguan[1])
    assert do_request_exit_pass(first, MORNING).decision.passed
    with time_machine.travel(MORNING + timedelta(hours=1), tick=False):
        page = as_resident(client, second).get(reverse("exits:resident")).content.decode()
        denied = ask(client)
    assert "已用 1 / 1 人次" in page and f"{mask_name(first.name)} · 10:00 签发 · 待出门" in page
    assert "每户每天限1人次外出,今日名额已用完" in denied
    # a neighbour of another household is not affected
    assert do_request_exit_pass(person(city.nanguan[4]), MORNING).decision.passed
    tomorrow = do_request_exit_pass(second, MORNING + timedelta(days=1))
    assert tomorrow.decision.passed and tomorrow.exit_pass.household == "H-1"


def test_a_community_rule_beats_the_city_default(compound, make_staff):
    city, home = compound
    reviewer = make_staff("district_reviewer", ["220102"])
    do_publish_rules(reviewer, home.code, "per_household_per_day = 2", MORNING - timedelta(days=1))
    assert do_request_exit_pass(person(city.nanguan[0]), MORNING).decision.passed
    assert do_request_exit_pass(person(city.nanguan[1]), MORNING).decision.passed


@pytest.mark.parametrize(
    ("at", "passed"),
    [
        (datetime(2022, 4, 24, 5, 59, tzinfo=BJ), False),
        (datetime(2022, 4, 24, 6, 0, tzinfo=BJ), True),
        (datetime(2022, 4, 24, 19, 59, tzinfo=BJ), True),
        (datetime(2022, 4, 24, 20, 0, tzinfo=BJ), False),
    ],
)
def test_passes_are_issued_only_within_the_hours(compound, at, passed):
    city, _ = compound
    # this morning's negative was sampled at 07:00; an earlier one covers 05:59
    sample(city.nanguan[5:6], "T-0423-E", "1", datetime(2022, 4, 23, 5, tzinfo=BJ))
    report_result("T-0423-E", "negative", datetime(2022, 4, 23, 9, tzinfo=BJ))
    outcome = do_request_exit_pass(person(city.nanguan[5]), at)
    assert outcome.decision.passed is passed
    if not passed:
        assert outcome.decision.reasons == ("外出时段为06:00-20:00,当前不在时段内",)


def test_a_pass_issued_late_ends_at_closing_time(compound):
    city, _ = compound
    outcome = do_request_exit_pass(person(city.nanguan[2]), datetime(2022, 4, 24, 18, tzinfo=BJ))
    assert outcome.exit_pass.valid_until == datetime(2022, 4, 24, 20, tzinfo=BJ)


def test_asking_requires_a_signed_in_resident_and_the_csrf_token(compound):
    city, _ = compound
    anonymous = Client()
    response = anonymous.get(reverse("exits:resident"))
    assert response.status_code == 302 and response["Location"].startswith("/r/login/")
    strict = as_resident(Client(enforce_csrf_checks=True), person(city.nanguan[2]))
    with time_machine.travel(MORNING, tick=False):
        assert strict.post(reverse("exits:resident")).status_code == 403
    assert not ExitPass.objects.exists()
