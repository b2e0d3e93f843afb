"""Hand-made timelines for the eligibility tests: a street of 南关区 with two communities of
three residents, rounds, cases and designations loaded through ingestion itself."""

from datetime import date, datetime

import pytest

from fangkong.engine.id_numbers import make_id_number
from fangkong.ingest.actions import do_ingest
from fangkong.ingest.tests.support import BJ, report_result, sample
from fangkong.places.models import CommunityZone, Division
from fangkong.testing.models import TestingSite
from fangkong.zones.eligibility import assess_areas

REGISTERED = datetime(2022, 3, 20, tzinfo=BJ)


def bj(month, day, hour=0, minute=0):
    return datetime(2022, month, day, hour, minute, tzinfo=BJ)


class Street:
    """The first street of 南关区 with two of its communities, three residents in each."""

    def __init__(self):
        self.town = Division.objects.filter(level=4, county_code="220102").order_by("code").first()
        first, second = Division.objects.filter(parent=self.town).order_by("code")[:2]
        self.a, self.b = first.code, second.code
        self.names = {first.code: first.name, second.code: second.name}
        TestingSite.objects.create(
            code="S-NG-1", name="南关区第1采样点", community=first, county_code="220102"
        )
        self.people = {self.a: self.register(self.a, 1), self.b: self.register(self.b, 10)}

    @staticmethod
    def register(code, start, count=3):
        rows = [
            {
                "id_number": make_id_number("220102", date(1980, 1, 1), start + i),
                "name": f"居民{start + i}",
                "phone": f"139{start + i:08d}",
                "community_code": code,
            }
            for i in range(count)
        ]
        assert do_ingest("residents", rows=rows, now=REGISTERED).inserted == count
        return [r["id_number"] for r in rows]

    def negative_round(self, code, day, tube):
        sample(self.people[code], tube, 10, bj(4, day, 8))
        report_result(tube, "negative", bj(4, day, 20))

    def case(self, id_number, sampled, tube, reported):
        sample([id_number], tube, 1, sampled)
        report_result(tube, "positive", reported)

    def lockdown(self, code, since=None):
        since = since or bj(4, 1, 12)
        CommunityZone.objects.create(
            community_id=code, level="lockdown", start_at=since, recorded_at=since
        )


@pytest.fixture(name="street")
def street_fixture(db):
    """Import `street_fixture` into a test module to use the `street` fixture."""
    return Street()


def found(now, code):
    return next(a for a in assess_areas(now, ["220102"]) if a.code == code)


def designate(id_number, kind, start, end, now):
    row = {
        "id_number": id_number,
        "kind": kind,
        "start_at": start.isoformat(),
        "end_at": end.isoformat() if end else "",
        "designated_by": "南关区疾病预防控制中心",
    }
    assert do_ingest("designations", rows=[row], now=now).inserted == 1
