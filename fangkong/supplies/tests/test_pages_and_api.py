"""The pages and the JSON API: district scoping (another district's firm is a 404, its figures
a 403), an enterprise account sees only its own requests, the import page reports errors by row
and field, and the API requests, delivers and confirms with the same refusals."""

import json

import pytest
from django.test import Client

from fangkong.supplies.actions import do_register_firm, do_request
from fangkong.supplies.models import Delivery, SupplyRequest
from fangkong.supplies.tests.support import CHAOYANG, NANGUAN, account_of, bj, enterprise

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def firm_in(county, code):
    return do_register_firm(
        None,
        code=code,
        name=f"超市{code}",
        level="district",
        kind="supermarket",
        county_code=county,
        effective_at=bj(8),
        now=bj(8),
    )


def test_the_registry_pages_keep_to_the_district(make_staff):
    mine, theirs = firm_in(NANGUAN, "BG1"), firm_in(CHAOYANG, "BG2")
    officer = client_of(make_staff("supply_officer", [NANGUAN]))
    listing = officer.get("/supplies/firms/").content.decode()
    assert "BG1" in listing and "BG2" not in listing
    assert officer.get(f"/supplies/firms/{mine.pk}/").status_code == 200
    assert officer.get(f"/supplies/firms/{theirs.pk}/").status_code == 404
    answer = officer.post(f"/supplies/firms/{mine.pk}/", {"status": "suspended", "reason": ""})
    assert answer.status_code == 400 and "原因:必填" in answer.content.decode()
    answer = officer.post(f"/supplies/firms/{mine.pk}/", {"status": "suspended", "reason": "消杀"})
    assert answer.status_code == 302
    page = officer.get("/supplies/").content.decode()
    assert 'id="fig-supply-firms">0<' in page
    assert officer.get(f"/supplies/?county={CHAOYANG}").status_code == 404
    employer = client_of(account_of(make_staff, enterprise()))
    assert employer.get("/supplies/firms/").status_code == 403
    assert employer.get("/supplies/").status_code == 403


def test_the_import_page_reports_rows_and_fields(make_staff):
    officer = client_of(make_staff("supply_officer", [NANGUAN]))
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = (
        "登记编号,名称,级别,类型,区县代码,状态,生效时间\n"
        "BG1,南关市场,区级,农贸市场,220102,营业,2022-04-08\n"
        "BG2,坏行,区级,农贸市场,220102,开张,2022-04-08\n"
    ).encode()
    answer = officer.post("/supplies/import/", {"file": SimpleUploadedFile("名录.csv", content)})
    page = answer.content.decode()
    assert answer.status_code == 200
    assert "新登记 1 户" in page and "<td>3</td><td>状态</td>" in page
    answer = officer.post("/supplies/import/", {"file": SimpleUploadedFile("名录.txt", b"x")})
    assert answer.status_code == 400 and "只接受 CSV 或 XLSX" in answer.content.decode()


def test_an_enterprise_sees_only_its_own_requests(make_staff):
    firm, other = enterprise(), enterprise("另一家企业", serial=2)
    do_request(
        None, enterprise=other, category="living", items=[("vegetables", "吨", "1")], now=bj(12)
    )
    account = client_of(account_of(make_staff, firm))
    answer = account.post(
        "/supplies/requests/new/",
        {
            "receiver": f"e{firm.pk}",
            "category": "living",
            "item-0": "vegetables",
            "unit-0": "吨",
            "quantity-0": "1.5",
        },
    )
    assert answer.status_code == 302
    mine = SupplyRequest.objects.get(enterprise=firm)
    assert account.get(answer["Location"]).status_code == 200
    theirs = SupplyRequest.objects.get(enterprise=other)
    assert account.get(f"/supplies/requests/{theirs.pk}/").status_code == 404
    listing = account.get("/supplies/requests/").content.decode()
    assert f"#{mine.pk}" in listing and f"#{theirs.pk}<" not in listing
    answer = account.post(
        "/supplies/requests/new/",
        {
            "receiver": f"e{other.pk}",
            "category": "living",
            "item-0": "vegetables",
            "unit-0": "吨",
            "quantity-0": "1",
        },
    )
    assert answer.status_code == 403


def test_the_api_requests_delivers_and_confirms(make_staff):
    firm, other = enterprise(), enterprise("另一家企业", serial=2)
    account = client_of(account_of(make_staff, firm, "jiefang"))
    stranger = client_of(account_of(make_staff, other, "fuwei"))
    officer = client_of(make_staff("supply_officer", [NANGUAN]))
    made = account.post(
        "/api/supplies/requests",
        json.dumps(
            {
                "enterprise_id": firm.pk,
                "category": "protective",
                "items": [{"item": "herbal", "unit": "副", "quantity": "500"}],
            }
        ),
        content_type="application/json",
    )
    assert made.status_code == 200, made.content
    shown = made.json()
    item = shown["items"][0]["id"]
    too_much = officer.post(
        f"/api/supplies/requests/{shown['id']}/deliveries",
        json.dumps({"lines": [{"item_id": item, "quantity": "600"}], "supplier": "敖东大药房"}),
        content_type="application/json",
    )
    assert too_much.status_code == 400 and "不能超量配送" in too_much.json()["detail"]
    sent = officer.post(
        f"/api/supplies/requests/{shown['id']}/deliveries",
        json.dumps(
            {
                "lines": [{"item_id": item, "quantity": "200"}],
                "supplier": "敖东大药房",
                "courier_name": "王建国",
                "courier_phone": "13904318800",
            }
        ),
        content_type="application/json",
    )
    assert sent.status_code == 200
    assert sent.json()["items"][0]["delivered"] == "200"
    assert sent.json()["deliveries"][0]["courier_phone"] != "13904318800"
    delivery = Delivery.objects.get()
    assert stranger.post(f"/api/supplies/deliveries/{delivery.pk}/confirm").status_code == 404
    assert officer.post(f"/api/supplies/deliveries/{delivery.pk}/confirm").status_code == 403
    assert account.post(f"/api/supplies/deliveries/{delivery.pk}/confirm").status_code == 200
    stats = officer.get("/api/supplies/stats?as_of=2030-01-01T00:00").json()
    assert stats["deliveries"] == 1 and stats["confirmed_deliveries"] == 1
    assert officer.get(f"/api/supplies/stats?county={CHAOYANG}").status_code == 403
    assert account.get("/api/supplies/stats").status_code == 403
    firm_row = firm_in(NANGUAN, "BG1")
    changed = officer.post(
        f"/api/supplies/firms/{firm_row.pk}/status",
        json.dumps({"status": "closed", "reason": "停止经营"}),
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["status"] == "closed"
    listed = officer.get("/api/supplies/firms").json()
    assert listed["total"] == 1 and listed["firms"][0]["status"] == "closed"


def test_the_housing_page_opens_a_site_and_places_workers(make_staff):
    firm = enterprise()
    officer = client_of(make_staff("supply_officer", [NANGUAN]))
    answer = officer.post(
        "/supplies/housing/",
        {
            "form": "site",
            "name": "南关区某学校",
            "kind": "school",
            "county": NANGUAN,
            "beds": "360",
        },
    )
    assert answer.status_code == 302
    from fangkong.supplies.models import HousingSite

    site = HousingSite.objects.get()
    place = {"form": "place", "site": site.pk, "enterprise": firm.pk}
    assert officer.post("/supplies/housing/", place | {"people": "300"}).status_code == 302
    refused = officer.post("/supplies/housing/", place | {"people": "61"})
    assert refused.status_code == 400
    assert "安置人数:超过该安置点的空余床位(60张)" in refused.content.decode()
    page = officer.get("/supplies/housing/").content.decode()
    assert "一汽解放长春工厂 300人" in page
    figures_page = officer.get("/supplies/").content.decode()
    assert 'id="fig-beds">360<' in figures_page
    far = client_of(make_staff("supply_officer", [CHAOYANG]))
    assert "南关区某学校" not in far.get("/supplies/housing/").content.decode()
    refused = far.post(
        "/supplies/housing/",
        {"form": "site", "name": "越区", "kind": "school", "county": NANGUAN, "beds": "10"},
    )
    assert refused.status_code == 403
