"""The code page and its QR renewal read the stored code, the person's own tests and antigen
reports, and nothing else: no evaluation, no write, a handful of queries (issue 13)."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.clock.actions import do_sweep
from fangkong.codes.models import CodeChange, PersonCode
from fangkong.ingest.tests.support import BJ, policy_source, report_result, sample
from fangkong.people.models import Person
from fangkong.policies.actions import do_publish
from fangkong.residents.session import SESSION_KEY
from fangkong.residents.tests.guards import no_evaluation
from fangkong.residents.views import SHELL_ASSETS
from fangkong.signing import keys

pytestmark = pytest.mark.django_db
UNTESTED = "cc-2022-0420-untested"  # yellow from 23 April 00:00 for the unsampled
PUBLISHED = datetime(2022, 4, 21, 20, tzinfo=BJ)
RULE_STARTS = datetime(2022, 4, 23, tzinfo=BJ)
# The renewal's queries: the session, the person with their code and antigen tests, their
# samplings with their tubes' results. One more is a regression.
CODE_JSON_QUERIES = 3


def signed_in(client, person: Person):
    session = client.session
    session[SESSION_KEY] = person.pk
    session.save()
    return client


def writes(queries) -> list[str]:
    verbs = ("INSERT", "UPDATE", "DELETE")
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(verbs)]


@pytest.fixture
def announced(city):
    """The rule of 21 April, published that evening to start at 23 April 00:00."""
    do_publish(policy_source(UNTESTED), user=None, now=PUBLISHED)
    do_sweep(PUBLISHED)
    return city


def test_the_page_shows_the_stored_code_until_the_clock_changes_it(client, announced):
    person = Person.objects.get(id_number=announced.nanguan[20])
    signed_in(client, person)
    after = RULE_STARTS + timedelta(minutes=1)
    # The rule has started but no sweep has applied it: the page shows what is stored.
    with time_machine.travel(after, tick=False), no_evaluation():
        before_sweep = client.get("/r/").content.decode()
    assert 'data-colour="green"' in before_sweep
    do_sweep(after)
    with (
        time_machine.travel(after, tick=False),
        no_evaluation(),
        CaptureQueriesContext(connection) as queries,
    ):
        page = client.get("/r/").content.decode()
    assert 'data-colour="yellow"' in page and "为什么是黄码" in page
    assert "4月20日至22日未参加核酸检测人员赋黄码" in page
    assert writes(queries.captured_queries) == []


def test_each_reason_says_how_it_clears_in_the_words_of_its_policy(client, announced):
    do_sweep(RULE_STARTS + timedelta(minutes=1))
    person = Person.objects.get(id_number=announced.nanguan[20])
    stored = PersonCode.objects.get(person=person).reasons
    assert stored and "clears" not in stored[0]  # the batch evaluation stores no explanation
    with time_machine.travel(RULE_STARTS + timedelta(minutes=2), tick=False), no_evaluation():
        page = signed_in(client, person).get("/r/").content.decode()
    assert "如何转绿" in page and "核酸检测结果为阴性" in page
    assert f'href="/r/clear/{UNTESTED}/"' in page and "查看依据与解码" in page


def test_the_page_shows_a_pooled_positive_awaiting_its_single_tube_retest(client, city):
    sample(city.nanguan[:10], "T-0423-9", "10", datetime(2022, 4, 23, 9, tzinfo=BJ))
    report_result("T-0423-9", "positive", datetime(2022, 4, 23, 20, tzinfo=BJ))
    person = Person.objects.get(id_number=city.nanguan[3])
    morning = datetime(2022, 4, 24, 8, tzinfo=BJ)
    with time_machine.travel(morning, tick=False), no_evaluation():
        page = signed_in(client, person).get("/r/").content.decode()
        renewal = client.get("/r/code.json").json()
    assert "最近采样:4月23日 09:00(23小时前),10混1" in page
    assert "混管阳性,待单管复核" in page
    claims = keys.verify(renewal["token"], morning).claims
    assert claims["tst"] == "pooled_positive_awaiting_retest" and claims["pcr"] is None
    assert renewal["negative_within"] is None


def test_the_renewal_carries_what_the_page_needs_to_draw_the_qr(client, city):
    sample(city.nanguan[:10], "T-0423-1", "10", datetime(2022, 4, 23, 9, tzinfo=BJ))
    report_result("T-0423-1", "negative", datetime(2022, 4, 23, 20, tzinfo=BJ))
    person = Person.objects.get(id_number=city.nanguan[0])
    morning = datetime(2022, 4, 24, 10, tzinfo=BJ)
    with time_machine.travel(morning, tick=False):
        answer = signed_in(client, person).get("/r/code.json")
    assert answer["Content-Type"] == "application/json" and "no-store" in answer["Cache-Control"]
    body = answer.json()
    claims = keys.verify(body["token"], morning).claims
    now = int(morning.timestamp())
    assert (body["now"], body["iat"], body["exp"]) == (now, now, claims["exp"])
    assert body["exp"] - now == 180 and body["refresh_in"] == 150
    assert (body["colour"], body["label"], body["since"]) == ("green", "绿码", None)
    assert body["name"] == claims["nm"] and body["id_number"].startswith("220102********")
    assert body["negative_within"] == 48
    assert claims["col"] == "green" and claims["pcr"] == int(
        datetime(2022, 4, 23, 9, tzinfo=BJ).timestamp()
    )


def test_the_renewal_reads_a_handful_of_rows_and_writes_nothing(client, announced):
    do_sweep(RULE_STARTS + timedelta(minutes=1))
    person = Person.objects.get(id_number=announced.nanguan[20])
    signed_in(client, person)
    client.get("/r/code.json")  # the signing key is read once per process, not per renewal
    changes = CodeChange.objects.count()
    with no_evaluation(), CaptureQueriesContext(connection) as queries:
        body = client.get("/r/code.json").json()
    assert (body["colour"], body["label"]) == ("yellow", "黄码")
    assert body["since"] == RULE_STARTS.isoformat()
    assert len(queries.captured_queries) <= CODE_JSON_QUERIES, queries.captured_queries
    assert writes(queries.captured_queries) == []
    assert CodeChange.objects.count() == changes


def test_a_stale_stored_code_is_shown_as_stored_and_not_corrected_by_a_view(client, announced):
    """The rule started, no sweep yet: the old page stored the change itself. Now the clock's
    sweep does, at the instant; a page view leaves the codes as they are."""
    person = Person.objects.get(id_number=announced.nanguan[20])
    signed_in(client, person)
    with time_machine.travel(RULE_STARTS + timedelta(hours=1), tick=False):
        page = client.get("/r/").content.decode()
        body = client.get("/r/code.json").json()
    assert 'data-colour="green"' in page and body["colour"] == "green"
    assert not PersonCode.objects.filter(person=person).exists()
    assert not CodeChange.objects.filter(person=person).exists()


def test_signed_out_the_renewal_answers_401_in_json_and_the_page_sends_to_sign_in(client, city):
    answer = client.get("/r/code.json")
    assert answer.status_code == 401 and answer.json()["login"] == "/r/login/?next=/r/"
    page = client.get("/r/")
    assert page.status_code == 302 and page["Location"] == "/r/login/?next=/r/"


def test_the_service_worker_is_served_from_r_for_the_code_page_scope(client):
    answer = client.get("/r/sw.js")
    assert answer["Content-Type"] == "application/javascript"
    assert answer["Service-Worker-Allowed"] == "/r/" and answer["Cache-Control"] == "no-cache"
    script = answer.content.decode()
    assert all(f'"/static/{asset}"' in script for asset in SHELL_ASSETS)
    assert 'const CODE_PATH = "/r/code.json"' in script


def test_the_antigen_form_offers_the_present_time_and_shows_the_latest_report(client, city):
    person = Person.objects.get(id_number=city.nanguan[0])
    signed_in(client, person)
    morning = datetime(2022, 4, 24, 10, 30, tzinfo=BJ)
    with time_machine.travel(morning, tick=False):
        assert 'name="tested_at" value="2022-04-24T10:30"' in client.get("/r/").content.decode()
        client.post("/r/antigen/", {"result": "positive", "tested_at": "2022-04-24T10:00"})
        page = client.get("/r/").content.decode()
    assert "最近上报:阳性(4月24日 10:00)" in page.replace("2022年", "")
