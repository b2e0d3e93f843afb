"""Helpers of the supplies tests: times in Beijing, an enterprise and its account."""

from datetime import datetime

from fangkong.enterprises.tests.test_gate import make_enterprise
from fangkong.ingest.tests.support import BJ

NANGUAN, CHAOYANG = "220102", "220104"


def bj(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2022, 4, day, hour, minute, tzinfo=BJ)


def enterprise(name="一汽解放长春工厂", county=NANGUAN, serial=1):
    return make_enterprise(name=name, county=county, serial=serial)


def account_of(make_staff, firm, username=None):
    user = make_staff("employer", [firm.county_code], username=username)
    user.staff.enterprise = firm
    user.staff.save()
    return user
