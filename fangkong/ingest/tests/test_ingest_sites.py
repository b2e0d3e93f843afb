"""Site lists (采样点名单) load like every other file: bad rows named, the same list twice
changes nothing, a changed site is flagged for a person unless the row is a correction."""

import json
from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from fangkong.cli import build_parser
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.flags import do_resolve_flag
from fangkong.ingest.models import Flag
from fangkong.ingest.tests.support import community, write_csv
from fangkong.testing.models import Sampling, TestingSite, TestingSiteRevision

pytestmark = pytest.mark.django_db
HEADER = ["采样点编码", "采样点名称", "社区代码", "地址", "类型", "状态"]
NOW = datetime(2022, 4, 25, 2, tzinfo=UTC)  # 10:00 in Beijing


def site_rows() -> list[list[str]]:
    nanguan, chaoyang = community("220102").code, community("220104").code
    return [
        ["NG-001", "南关区自由大路社区采样点", nanguan, "自由大路1号", "固定采样点", "开放"],
        ["NG-002", "南关区流动采样一队", nanguan, "", "流动采样队", ""],
        ["CY-001", "朝阳区人民医院采样点", chaoyang, "工农大路2号", "医疗机构", "停用"],
    ]


def site_list(tmp_path, rows=None, name="sites.csv") -> str:
    return write_csv(tmp_path / name, HEADER, site_rows() if rows is None else rows)


def as_row(values: list[str], correction: str = "") -> dict:
    keys = ["site_code", "name", "community_code", "address", "kind", "site_status"]
    row = dict(zip(keys, values, strict=True))
    return {**row, "correction_reason": correction} if correction else row


def test_a_site_list_loads_each_site_into_the_district_of_its_community(db, tmp_path):
    report = do_ingest("sites", path=site_list(tmp_path), now=NOW)
    assert (report.rows, report.inserted, report.rejected) == (3, 3, 0), report.errors
    sites = {s.code: s for s in TestingSite.objects.all()}
    assert sites["NG-001"].county_code == "220102" and sites["CY-001"].county_code == "220104"
    assert (sites["NG-001"].kind, sites["NG-002"].kind, sites["CY-001"].kind) == (
        "fixed",
        "mobile",
        "hospital",
    )
    # No status means open; a site listed as closed is closed from the time of the upload.
    assert (sites["NG-002"].status, sites["NG-002"].closed_at) == ("open", None)
    assert (sites["CY-001"].status, sites["CY-001"].closed_at) == ("closed", NOW)
    assert sites["NG-001"].address == "自由大路1号"


def test_a_site_list_with_bad_rows_keeps_the_good_ones_and_names_each_bad_row(db, tmp_path):
    nanguan = community("220102").code
    rows = site_rows()[:1] + [
        ["NG-003", "南关区第3采样点", "220102999999", "", "固定", ""],
        ["NG-004", "南关区第4采样点", "22010200100", "", "固定", ""],
        ["NG-005", "南关区第5采样点", nanguan, "", "方舱", ""],
        ["NG-006", "", nanguan, "", "固定", ""],
        ["NG-007", "南关区第7采样点", nanguan, "", "固定", "暂停"],
        ["X" * 33, "南关区第8采样点", nanguan, "", "固定", ""],
    ]
    report = do_ingest("sites", path=site_list(tmp_path, rows), now=NOW)
    assert (report.rows, report.inserted, report.rejected) == (7, 1, 6)
    reasons = {(e["row"], e["field"]): e["reason"] for e in report.errors}
    assert reasons == {
        (3, "community_code"): "未知社区代码:应为长春市现行社区/村的12位代码",
        (4, "community_code"): "应为12位数字的区划代码",
        (5, "kind"): "取值应为 fixed、mobile、hospital 之一",
        (6, "name"): "必填项为空",
        (7, "site_status"): "取值应为 open、closed 之一",
        (8, "site_code"): "超过32个字符",
    }
    assert list(TestingSite.objects.values_list("code", flat=True)) == ["NG-001"]


def test_the_same_site_list_twice_changes_nothing(db, tmp_path):
    path = site_list(tmp_path)
    first = do_ingest("sites", path=path, now=NOW)
    before = list(TestingSite.objects.order_by("code").values())
    second = do_ingest("sites", path=path, now=NOW.replace(hour=9))
    assert (first.inserted, second.inserted, second.duplicates, second.flagged) == (3, 0, 3, 0)
    assert list(TestingSite.objects.order_by("code").values()) == before
    assert not TestingSiteRevision.objects.exists() and not Flag.objects.exists()


def test_a_changed_site_is_flagged_for_a_person_not_overwritten(db, tmp_path, make_staff):
    do_ingest("sites", path=site_list(tmp_path), now=NOW)
    renamed = site_rows()[0]
    renamed[1] = "南关区自由大路社区便民采样屋"
    report = do_ingest("sites", rows=[as_row(renamed)], now=NOW)
    again = do_ingest("sites", rows=[as_row(renamed)], now=NOW)
    assert (report.flagged, report.inserted, again.flagged) == (1, 0, 1)
    assert TestingSite.objects.get(code="NG-001").name == "南关区自由大路社区采样点"
    flag = Flag.objects.get()
    assert (flag.kind, flag.key, flag.county_code) == ("sites", "NG-001", "220102")
    assert flag.existing["名称"] == "南关区自由大路社区采样点"
    assert flag.incoming["name"] == "南关区自由大路社区便民采样屋"

    reviewer = make_staff("district_reviewer", ["220102"])
    do_resolve_flag(flag, reviewer, accept=True, note="街道来函:采样点更名")
    site = TestingSite.objects.get(code="NG-001")
    assert site.name == "南关区自由大路社区便民采样屋"
    kept = TestingSiteRevision.objects.get(site=site)
    assert (kept.name, kept.reason, kept.recorded_by) == (
        "南关区自由大路社区采样点",
        "街道来函:采样点更名",
        reviewer,
    )


def test_a_correction_closes_a_site_and_keeps_what_it_was(db, tmp_path):
    do_ingest("sites", path=site_list(tmp_path), now=NOW)
    closing = site_rows()[0]
    closing[5] = "关闭"
    report = do_ingest("sites", rows=[as_row(closing, "区指挥部通知:该点撤并")], now=NOW)
    assert report.inserted == 1, report.errors
    site = TestingSite.objects.get(code="NG-001")
    assert (site.status, site.closed_at) == ("closed", NOW)
    revision = TestingSiteRevision.objects.get(site=site)
    assert (revision.status, revision.valid_until, revision.replaced_by_batch_id) == (
        "open",
        NOW,
        report.batch_id,
    )


def test_samplings_at_a_site_after_it_closed_are_refused_and_earlier_ones_kept(city):
    rows = [as_row(["NG-001", "南关区采样点", community("220102").code, "", "固定", "关闭"])]
    do_ingest("sites", rows=rows, now=NOW)

    def sampling(i, at):
        row = {"id_number": city.nanguan[i], "tube": f"T-{i}", "pool_size": "1"}
        return {**row, "site_code": "NG-001", "sampled_at": at}

    report = do_ingest(
        "samplings",
        rows=[sampling(0, "2022-04-25T09:59:00+08:00"), sampling(1, "2022-04-25T10:00:00+08:00")],
        now=NOW.replace(hour=3),
    )
    assert (report.inserted, report.rejected) == (1, 1)
    assert report.errors[0]["row"] == 2
    assert report.errors[0]["reason"] == "该采样点已关闭:关闭后的采样不予接收"
    assert Sampling.objects.get().person.id_number == city.nanguan[0]


def test_a_district_reviewer_loads_and_moves_only_sites_of_their_districts(db, make_staff):
    do_ingest("sites", rows=[as_row(r) for r in site_rows()], now=NOW)
    chaoyang = make_staff("district_reviewer", ["220104"])
    rows = [
        as_row(["CY-002", "朝阳区第2采样点", community("220104").code, "", "固定", ""]),
        as_row(["NG-009", "南关区第9采样点", community("220102").code, "", "固定", ""]),
        # Taking a site of another district by "correcting" its community is refused too.
        as_row(site_rows()[0][:2] + [community("220104").code, "", "固定", ""], "迁址"),
    ]
    report = do_ingest("sites", rows=rows, user=chaoyang, now=NOW)
    assert (report.inserted, report.rejected) == (1, 2)
    assert {e["reason"] for e in report.errors} == {"该采样点不在您负责的区县"}
    assert TestingSite.objects.get(code="NG-001").county_code == "220102"


def test_samplers_and_labs_may_not_load_site_lists(db, make_staff):
    for role in ("sampler", "lab"):
        with pytest.raises(PermissionDenied):
            do_ingest("sites", rows=[], user=make_staff(role, ["220102"]))


def test_the_command_line_loads_a_site_list(db, tmp_path, capsys):
    args = build_parser().parse_args(["ingest", "sites", site_list(tmp_path)])
    assert args.func(args) == 0
    assert "新增3" in capsys.readouterr().out


def test_the_command_centre_uploads_a_site_list_on_the_upload_page(db, tmp_path, make_staff):
    client = Client()
    client.force_login(make_staff("command_centre"))
    with open(site_list(tmp_path), "rb") as upload:
        response = client.post(reverse("ingest:upload", args=["sites"]), {"file": upload})
    assert response.status_code == 302
    batch = client.get(response.url).content.decode()
    assert "采样点" in batch and TestingSite.objects.count() == 3
    sampler = Client()
    sampler.force_login(make_staff("sampler", ["220102"]))
    assert sampler.get(reverse("ingest:upload", args=["sites"])).status_code == 403


def test_sites_come_through_the_api_with_the_same_report(db, make_staff):
    client = Client()
    client.force_login(make_staff("district_reviewer", ["220102"]))
    rows = [as_row(r) for r in site_rows()]
    answer = client.post(
        "/api/ingest/sites", data=json.dumps({"rows": rows}), content_type="application/json"
    )
    report = answer.json()
    assert (answer.status_code, report["inserted"], report["rejected"]) == (200, 2, 1)
    assert report["errors"][0]["reason"] == "该采样点不在您负责的区县"


def test_a_reviewer_reads_a_site_flag_side_by_side(db, tmp_path, make_staff):
    do_ingest("sites", path=site_list(tmp_path), now=NOW)
    moved = site_rows()[1]
    moved[4], moved[5] = "固定采样点", "停用"
    do_ingest("sites", rows=[as_row(moved)], now=NOW)
    client = Client()
    client.force_login(make_staff("district_reviewer", ["220102"]))
    page = client.get(reverse("ingest:flag", args=[Flag.objects.get().pk])).content.decode()
    for shown in ("NG-002", "流动采样队", "固定采样点", "开放", "已关闭"):
        assert shown in page, shown
    other = Client()
    other.force_login(make_staff("district_reviewer", ["220104"]))
    assert other.get(reverse("ingest:flag", args=[Flag.objects.get().pk])).status_code == 404
