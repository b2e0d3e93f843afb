"""The case pages: district reviewers list and open the cases of their districts (pending first,
names and ID numbers masked), classify a pending case, record its later events and add its
contacts, whose codes change at once; the command centre drafts, approves and publishes the day's
bulletin from the desk; residents read the published bulletins, signed out, and download them."""

import io
import json
import re
from datetime import date, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from fangkong.accounts.models import Role
from fangkong.audit.models import AuditEntry
from fangkong.cases.actions import (
    do_approve_bulletin,
    do_draft_bulletin,
    do_open_case,
    do_publish_bulletin,
)
from fangkong.cases.figures import BEIJING
from fangkong.cases.models import Bulletin, BulletinStatus, CaseEvent
from fangkong.cases.tests.support import at, case_of, person
from fangkong.codes.models import PersonCode
from fangkong.engine.id_numbers import mask
from fangkong.ingest.tests.support import policy_source
from fangkong.policies.actions import do_publish

pytestmark = pytest.mark.django_db
APRIL_20 = date(2022, 4, 20)
MORNING_AFTER = at("4-21", 8)
LIST = reverse("cases:list")
DESK = reverse("cases:desk")
PUBLIC = reverse("cases:public")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def cases(city):
    """In 南关区 a confirmed case and a pending one (a positive single tube, not yet classified);
    in 朝阳区 an asymptomatic case."""
    confirmed = case_of(city.nanguan[0], [("confirmed", at("4-20", 9))])
    pending = do_open_case(None, person(city.nanguan[1]), now=at("4-20", 10))
    elsewhere = case_of(city.chaoyang[0], [("asymptomatic", at("4-20", 11))], found_by="community")
    return {"confirmed": confirmed, "pending": pending, "elsewhere": elsewhere}


@pytest.fixture
def reviewer(make_staff):
    return signed_in(make_staff(Role.DISTRICT_REVIEWER, ["220102"]))


@pytest.fixture
def centre(make_staff):
    return signed_in(make_staff(Role.COMMAND_CENTRE))


def test_a_reviewer_lists_the_cases_of_their_district_pending_first_masked(city, cases, reviewer):
    html = reviewer.get(LIST).content.decode()
    rows = re.findall(r'href="/cases/(\d+)/"', html)
    assert rows == [str(cases["pending"].pk), str(cases["confirmed"].pk)]
    assert mask(city.nanguan[1]) in html and city.nanguan[1] not in html
    assert "居民2" not in html and "*2" in html
    assert "待分类" in html and "确诊病例(在院)" in html


def test_only_pending_cases_are_listed_when_asked(cases, reviewer):
    html = reviewer.get(LIST, {"show": "pending"}).content.decode()
    assert re.findall(r'href="/cases/(\d+)/"', html) == [str(cases["pending"].pk)]


def test_another_districts_case_is_not_found(cases, reviewer):
    elsewhere = cases["elsewhere"].pk
    assert reviewer.get(reverse("cases:case", args=[elsewhere])).status_code == 404
    post = reviewer.post(reverse("cases:case_event", args=[elsewhere]), {"kind": "released"})
    assert post.status_code == 404
    assert not CaseEvent.objects.filter(case_id=elsewhere, kind="released").exists()


def test_the_hotline_reads_no_cases_and_nobody_signed_out_does(cases, make_staff):
    assert signed_in(make_staff(Role.HOTLINE)).get(LIST).status_code == 403
    assert Client().get(LIST).status_code == 302


def test_a_pending_case_is_classified_from_its_page(cases, reviewer):
    pending = cases["pending"]
    url = reverse("cases:case_event", args=[pending.pk])
    page = reviewer.get(reverse("cases:case", args=[pending.pk])).content.decode()
    assert 'id="classify"' in page

    refused = reviewer.post(url, {"kind": "confirmed", "found_by": "community"}, follow=True)
    assert "确诊病例须填写临床分型" in refused.content.decode()
    assert not pending.events.exists()

    done = reviewer.post(
        url,
        {"kind": "confirmed", "clinical_type": "ordinary", "found_by": "community"},
        follow=True,
    )
    assert "已登记:确诊病例" in done.content.decode()
    event = pending.events.get()
    assert (event.kind, event.clinical_type) == ("confirmed", "ordinary")
    pending.refresh_from_db()
    assert pending.found_by == "community"
    assert AuditEntry.objects.filter(action="case.event", target_id=str(pending.pk)).exists()
    assert 'id="classify"' not in done.content.decode()


def test_later_events_are_those_the_course_allows(cases, reviewer):
    confirmed = cases["confirmed"]
    page = reviewer.get(reverse("cases:case", args=[confirmed.pk])).content.decode()
    offered = re.findall(r'<option value="(\w+)">', page[page.index('id="event-kind"') :])[:4]
    assert offered[:2] == ["discharged", "died"]
    response = reviewer.post(
        reverse("cases:case_event", args=[confirmed.pk]),
        {"kind": "discharged", "at": "2022-04-30T10:00"},
        follow=True,
    )
    assert "已登记:治愈出院" in response.content.decode()
    discharged = confirmed.events.get(kind="discharged")
    assert discharged.at == datetime(2022, 4, 30, 10, tzinfo=BEIJING)
    again = reviewer.post(reverse("cases:case_event", args=[confirmed.pk]), {"kind": "discharged"})
    assert confirmed.events.filter(kind="discharged").count() == 1
    assert again.status_code == 302


def test_contacts_added_from_a_case_page_have_their_codes_changed_at_once(city, cases, reviewer):
    for rule in ("std-close-contact-red", "std-secondary-contact-yellow"):
        do_publish(policy_source(rule), user=None, now=datetime(2022, 4, 1, tzinfo=BEIJING))
    case = cases["confirmed"]
    url = reverse("cases:case_contacts", args=[case.pk])
    close, secondary = city.nanguan[5], city.nanguan[6]
    reviewer.post(
        url, {"kind": "close_contact", "id_numbers": f" {close}\n\n", "designated_by": "南关区疾控"}
    )
    response = reviewer.post(
        url,
        {"kind": "secondary_contact", "id_numbers": secondary, "designated_by": "南关区疾控"},
        follow=True,
    )
    html = response.content.decode()
    assert "已判定1名接触者" in html
    colours = dict(
        PersonCode.objects.filter(person__id_number__in=[close, secondary]).values_list(
            "person__id_number", "colour"
        )
    )
    assert colours == {close: "red", secondary: "yellow"}
    contacts = html[html.index('id="contact-list"') :]
    assert re.findall(r'data-colour="(\w+)"', contacts) == ["red", "yellow"]
    assert mask(close) in contacts and close not in contacts


def test_a_contact_who_is_not_a_resident_is_refused_with_the_reason(city, cases, reviewer):
    case = cases["confirmed"]
    response = reviewer.post(
        reverse("cases:case_contacts", args=[case.pk]),
        {
            "kind": "close_contact",
            "id_numbers": f"{city.nanguan[5]}\n11010519491231002X",
            "designated_by": "南关区疾控",
        },
        follow=True,
    )
    assert "未能添加接触者:无法判定" in response.content.decode()
    assert not case.contacts.exists()


def test_posting_without_the_csrf_token_is_refused(cases, make_staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff(Role.DISTRICT_REVIEWER, ["220102"]))
    url = reverse("cases:case_event", args=[cases["pending"].pk])
    assert client.post(url, {"kind": "asymptomatic", "found_by": "control"}).status_code == 403
    assert not cases["pending"].events.exists()


@time_machine.travel(MORNING_AFTER, tick=False)
def test_the_desk_shows_the_days_text_figures_trend_and_counties(cases, centre):
    response = centre.get(DESK, {"date": "2022-04-20"})
    html = response.content.decode()
    assert "4月20日0-24时,全市新增本地确诊病例1例,新增本地无症状感染者1例。" in html
    assert "其中社会面筛查发现1例。" in html
    by_county = html[html.index('id="by-county"') :]
    assert "南关区" in by_county and "朝阳区" in by_county
    data = json.loads(re.search(r'id="cases-trend-data"[^>]*>(.*?)</script>', html, re.S)[1])
    assert data["days"][0] == "2022-04-14" and data["days"][-1] == "2022-04-20"
    confirmed = next(s for s in data["series"] if s["key"] == "new_confirmed")
    assert confirmed["values"] == [0, 0, 0, 0, 0, 0, 1]
    assert "fangkong/cases-trend.js" in html and "<script>" not in html


def test_a_date_that_is_not_one_is_said_so(centre):
    response = centre.get(DESK, {"date": "4月20日"})
    assert response.status_code == 400
    assert "不是有效的日期" in response.content.decode()


@time_machine.travel(MORNING_AFTER, tick=False)
def test_the_centre_drafts_approves_and_publishes_from_the_desk(cases, centre):
    centre.post(reverse("cases:bulletin_draft"), {"date": "2022-04-20"})
    bulletin = Bulletin.objects.get(date=APRIL_20)
    assert bulletin.status == BulletinStatus.DRAFT
    centre.post(reverse("cases:bulletin_approve", args=[bulletin.pk]))
    again = centre.post(reverse("cases:bulletin_approve", args=[bulletin.pk]), follow=True)
    assert "不能进行此操作" in again.content.decode()
    response = centre.post(reverse("cases:bulletin_publish", args=[bulletin.pk]), follow=True)
    assert "4月20日通报第1版已发布" in response.content.decode()
    bulletin.refresh_from_db()
    assert bulletin.status == BulletinStatus.PUBLISHED
    assert AuditEntry.objects.filter(action="bulletin.publish").count() == 1


def test_a_district_reviewer_neither_reads_the_desk_nor_drafts(reviewer):
    assert reviewer.get(DESK).status_code == 403
    assert reviewer.post(reverse("cases:bulletin_draft"), {"date": "2022-04-20"}).status_code == 403
    assert not Bulletin.objects.exists()


def published(now):
    draft = do_draft_bulletin(None, APRIL_20, now=now)
    do_approve_bulletin(None, draft, now=now)
    return do_publish_bulletin(None, draft, now=now)


def test_residents_read_the_published_bulletins_newest_first_with_corrections(city, cases):
    first = published(MORNING_AFTER)
    case_of(
        city.nanguan[3],
        [("asymptomatic", at("4-20", 20))],
        recorded_after=at("4-21", 10) - at("4-20", 20),
    )
    second = published(at("4-21", 12))
    do_draft_bulletin(None, date(2022, 4, 21), now=at("4-22", 8))  # a draft is not public
    html = Client().get(PUBLIC).content.decode()
    assert html.index(f'id="bulletin-{second.pk}"') < html.index(f'id="bulletin-{first.pk}"')
    assert "新增本地无症状感染者2例" in html and "(第2版)" in html
    assert "更正:新增无症状感染者由1更正为2" in re.sub(r"<[^>]+>", "", html)
    assert "4月21日疫情通报" not in html


def test_a_published_bulletin_downloads_as_text_and_as_excel(cases):
    bulletin = published(MORNING_AFTER)
    text = Client().get(reverse("cases:public_text", args=[bulletin.pk]))
    assert text["Content-Type"] == "text/plain; charset=utf-8"
    assert bulletin.text in text.content.decode()
    sheet = Client().get(reverse("cases:public_xlsx", args=[bulletin.pk]))
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert ("通报文本", bulletin.text) in rows
    assert ("新增确诊病例", 1) in rows and ("新增无症状感染者", 1) in rows


def test_a_bulletin_not_yet_published_does_not_download(cases):
    draft = do_draft_bulletin(None, APRIL_20, now=MORNING_AFTER)
    assert Client().get(reverse("cases:public_text", args=[draft.pk])).status_code == 404
    assert Client().get(reverse("cases:public_xlsx", args=[draft.pk])).status_code == 404
