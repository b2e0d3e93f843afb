"""The synthetic demo city: what it generates, and that it loads through ingestion."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import numpy as np
import pyarrow.compute as pc
import pytest

from fangkong.demo.accounts import DEMO_PASSWORD, print_logins, staff_accounts
from fangkong.demo.build import build_demo
from fangkong.demo.city import city_blocks
from fangkong.demo.geography import ID_REGION_OF_ZONE, load_geography
from fangkong.engine.id_numbers import check_id_number

CST = dt.timezone(dt.timedelta(hours=8))
ROUND_START = dt.datetime(2022, 4, 20, tzinfo=CST)
ROUND_END = dt.datetime(2022, 4, 23, tzinfo=CST)
SIZE = 2000


@pytest.fixture
def demo(db):
    return build_demo(residents=SIZE, seed=7)


def _facts():
    from fangkong.people.models import Designation, Person, Presence
    from fangkong.testing.models import LabResult, Sampling, TestingSite, Tube

    return {
        model.__name__: model.objects.count()
        for model in (Person, Sampling, Tube, LabResult, Designation, Presence, TestingSite)
    }


# -- through the database -----------------------------------------------------------------------


def test_demo_city_of_2000_people_loads_through_ingestion_without_rejected_rows(demo):
    from fangkong.ingest.models import Batch

    assert demo["rejected"] == 0, demo["loaded"]
    facts = _facts()
    generated = demo["generated"]
    assert facts["Person"] == SIZE
    assert facts["Sampling"] == generated["samplings"]
    assert facts["Tube"] == generated["tubes"] == facts["LabResult"]
    assert facts["Designation"] == generated["close_contacts"] + generated["secondary_contacts"]
    assert facts["Presence"] == generated["presence"]
    kinds = set(Batch.objects.filter(source="demo").values_list("kind", flat=True))
    assert kinds == {"residents", "samplings", "results", "designations", "presence"}
    assert "居民2,000人" in demo["text"]


def test_people_are_spread_over_counties_in_census_proportion(demo):
    from fangkong.people.models import Person
    from fangkong.places.loading import census_2020
    from fangkong.places.models import Division

    census = census_2020()
    counties = {c: p for c, p in census.items() if c != "220100"}
    total = sum(counties.values())
    counts = Counter(Person.objects.values_list("county_code", flat=True))
    assert set(counts) == set(counties)
    for code, population in counties.items():
        assert counts[code] == pytest.approx(SIZE * population / total, abs=1)
    communities = set(Person.objects.values_list("community_id", flat=True))
    current = set(Division.objects.filter(level=5, is_current=True).values_list("code", flat=True))
    assert communities <= current
    assert len(communities) > 500  # spread, not piled into a few


def test_development_zone_residents_carry_their_parent_districts_code(demo):
    from fangkong.people.models import Person

    for zone, district in ID_REGION_OF_ZONE.items():
        prefixes = {
            n[:6]
            for n in Person.objects.filter(county_code=zone).values_list("id_number", flat=True)
        }
        assert prefixes == {district}


def test_some_older_people_carry_historic_county_codes(demo):
    from fangkong.people.models import Person

    def births(county, prefix):
        return [
            int(n[6:10])
            for n in Person.objects.filter(
                county_code=county, id_number__startswith=prefix
            ).values_list("id_number", flat=True)
        ]

    jiutai = births("220113", "220181")  # 九台市 1989–2014
    gongzhuling = births("220184", "220381")  # 公主岭市 (四平) 1989–2020
    assert jiutai and max(jiutai) <= 2014
    assert gongzhuling and max(gongzhuling) <= 2020
    assert demo["generated"]["historic_id_codes"] < SIZE * 0.15


def test_most_people_were_sampled_between_20_and_22_april(demo):
    from fangkong.testing.models import Sampling

    sampled = set(
        Sampling.objects.filter(sampled_at__gte=ROUND_START, sampled_at__lt=ROUND_END).values_list(
            "person_id", flat=True
        )
    )
    assert 0.85 * SIZE <= len(sampled) <= 0.93 * SIZE
    first = Sampling.objects.order_by("sampled_at").first()
    assert first.sampled_at >= ROUND_START


def test_people_sampled_without_scanning_have_employers_and_no_sampling(db):
    from fangkong.people.models import Person
    from fangkong.testing.models import Sampling

    summary = build_demo(residents=SIZE, seed=7)
    unscanned = [n for b in city_blocks(SIZE, 7) for n in b.unscanned.to_pylist()]
    assert len(unscanned) == summary["generated"]["unscanned"]
    assert 0.01 * SIZE <= len(unscanned) <= 0.03 * SIZE
    people = Person.objects.filter(id_number__in=unscanned)
    assert people.count() == len(unscanned)
    assert not people.filter(employer="").exists()
    assert not Sampling.objects.filter(person__in=people, sampled_at__lt=ROUND_END).exists()


def test_running_the_demo_twice_changes_no_facts(demo):
    before = _facts()
    again = build_demo(residents=SIZE, seed=7)
    assert _facts() == before
    for kind, loaded in again["loaded"].items():
        assert loaded["inserted"] == 0, kind
        assert loaded["flagged"] == 0, kind
        assert loaded["duplicates"] == loaded["rows"], kind


def test_positive_pooled_tubes_have_single_tube_retests(demo):
    from fangkong.testing.models import LabResult, Sampling

    positive_pools = LabResult.objects.filter(result="positive", tube__capacity__gt=1)
    assert positive_pools.count() >= demo["generated"]["positive_pools"] >= 2
    individual_positives = 0
    for pool in positive_pools.select_related("tube"):
        members = Sampling.objects.filter(tube=pool.tube)
        assert members.exists()
        for member in members:
            retest = Sampling.objects.get(
                person_id=member.person_id, tube__capacity=1, sampled_at__gt=pool.reported_at
            )
            result = LabResult.objects.get(tube_id=retest.tube_id)
            assert result.reported_at > retest.sampled_at
            individual_positives += result.result == "positive"
    assert individual_positives >= positive_pools.count()


def test_invalid_tubes_are_sampled_again(demo):
    from fangkong.testing.models import LabResult, Sampling

    invalid = LabResult.objects.filter(result="invalid").select_related("tube")
    assert invalid.exists()
    for result in invalid:
        for member in Sampling.objects.filter(tube=result.tube):
            again = Sampling.objects.filter(
                person_id=member.person_id, sampled_at__gt=result.reported_at
            ).exclude(tube=result.tube)
            assert again.exists()


def test_positives_have_close_and_secondary_contacts(demo):
    from fangkong.people.models import Designation

    kinds = Counter(Designation.objects.values_list("kind", flat=True))
    assert kinds["close_contact"] > 0 and kinds["secondary_contact"] > 0
    for designation in Designation.objects.all():
        days = (designation.end_at - designation.start_at).days
        assert days == (14 if designation.kind == "close_contact" else 7)


def test_the_city_as_the_press_conference_saw_it(db):
    from fangkong.testing.models import LabResult, Sampling

    moment = dt.datetime(2022, 4, 21, 16, 37, tzinfo=CST)
    summary = build_demo(residents=SIZE, seed=7, now=moment)
    assert summary["rejected"] == 0, summary["loaded"]
    assert Sampling.objects.exists()
    assert not Sampling.objects.filter(sampled_at__gt=moment).exists()
    assert not LabResult.objects.filter(reported_at__gt=moment).exists()


def test_staff_accounts_one_per_role_share_the_demo_password(demo):
    from django.contrib.auth import authenticate

    from fangkong.accounts.models import Role, StaffProfile

    roles = set(StaffProfile.objects.values_list("role", flat=True))
    assert roles == {r.value for r in Role} - {Role.RESIDENT}
    nanguan = StaffProfile.objects.get(user__username="district_nanguan")
    assert (nanguan.role, nanguan.districts) == (Role.DISTRICT_REVIEWER, ["220102"])
    assert StaffProfile.objects.get(user__username="district_chaoyang").districts == ["220104"]
    admin = authenticate(username="admin", password=DEMO_PASSWORD)
    assert admin is not None and admin.is_superuser and admin.is_staff


def test_print_logins_lists_every_account(demo):
    out = io.StringIO()
    print_logins(out, host="example.test", port=8123)
    text = out.getvalue()
    assert "http://example.test:8123/" in text and DEMO_PASSWORD in text
    for account in staff_accounts():
        assert account.username in text
    assert "南关区(220102)" in text


def test_the_logins_say_which_accounts_open_the_audit_log(demo, client):
    from django.contrib.auth import get_user_model

    out = io.StringIO()
    print_logins(out)
    line = next(line for line in out.getvalue().splitlines() if line.startswith("审计日志"))
    assert "/audit/" in line
    named = [a.username for a in staff_accounts() if a.username in line.replace("、", " ").split()]
    assert "auditor" in named
    users = get_user_model().objects
    for account in staff_accounts():
        client.force_login(users.get(username=account.username))
        opens = client.get("/audit/").status_code == 200
        assert opens == (account.username in named), account.username


def test_the_logins_name_two_command_centre_accounts_for_the_override(demo):
    from fangkong.accounts.models import Role, StaffProfile

    command = StaffProfile.objects.filter(role=Role.COMMAND_CENTRE).values_list(
        "user__username", flat=True
    )
    assert sorted(command) == ["command", "command2"]
    out = io.StringIO()
    print_logins(out)
    line = next(line for line in out.getvalue().splitlines() if "人工复核(双人)" in line)
    assert "command " in line and "command2 " in line


# -- the generator alone ------------------------------------------------------------------------


def test_identifiers_are_unique_and_valid_across_blocks():
    blocks = list(city_blocks(3000, 11, block_rows=1000))
    assert len(blocks) == 3

    def column(kind, name):
        return [v for b in blocks for v in b.tables[kind][name].to_pylist()]

    ids, phones = column("residents", "身份证号"), column("residents", "手机号")
    assert len(set(ids)) == len(ids) == 3000
    assert len(set(phones)) == 3000
    assert all(check_id_number(n, today=dt.date(2022, 4, 20)) is None for n in ids)
    assert all(p[0] == "1" and p[1] in "3456789" and len(p) == 11 for p in phones)
    tubes = column("results", "试管条码")
    assert len(set(tubes)) == len(tubes)
    assert set(column("samplings", "试管条码")) == set(tubes)


def test_every_time_is_written_with_the_utc_offset():
    block = next(city_blocks(1500, 3))
    for kind, names in {
        "samplings": ["采样时间"],
        "results": ["报告时间"],
        "designations": ["起始时间", "截止时间"],
        "presence": ["开始时间", "结束时间"],
    }.items():
        for name in names:
            values = block.tables[kind][name]
            assert len(values) > 0
            assert pc.all(
                pc.match_substring_regex(values, r"^2022-0[45]-\d\dT\d\d:\d\d:\d\d\+08:00$")
            ).as_py(), (kind, name)


def test_pools_hold_ten_one_or_twenty_and_children_get_single_tubes():
    block = next(city_blocks(20_000, 5))  # generation only: a fraction of a second
    samplings = block.tables["samplings"]
    per_tube = samplings.group_by(["试管条码", "混采人数"]).aggregate([("身份证号", "count")])
    sizes = per_tube["混采人数"].to_numpy(zero_copy_only=False).astype(int)
    members = per_tube["身份证号_count"].to_numpy()
    assert set(sizes) == {1, 10, 20}
    assert (members <= sizes).all()
    assert Counter(sizes.tolist()).most_common(1)[0][0] == 10
    assert np.mean(members[sizes == 10]) > 6
    single = samplings.filter(pc.equal(samplings["混采人数"], "1"))["身份证号"].to_pylist()
    ages = np.array([2022 - int(n[6:10]) for n in single])
    assert np.mean((ages <= 6) | (ages >= 80)) > 0.9


def test_the_same_seed_gives_the_same_city():
    geo = load_geography()
    one = next(city_blocks(1200, 42, geo=geo))
    two = next(city_blocks(1200, 42, geo=geo))
    other = next(city_blocks(1200, 43, geo=geo))
    for kind in one.tables:
        assert one.tables[kind].equals(two.tables[kind]), kind
    assert not one.tables["residents"].equals(other.tables["residents"])
