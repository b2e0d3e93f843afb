"""An enterprise in 南关区, its account, pass officers and an application, for the tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from stdnum.cn import uscc

from fangkong.accounts.models import Role, StaffProfile
from fangkong.enterprises.models import Enterprise
from fangkong.ingest.tests.support import BJ, community
from fangkong.passes.actions import do_apply

MORNING = datetime(2022, 4, 20, 8, 0, tzinfo=BJ)


def make_enterprise(name="一汽解放长春工厂", county="220102", serial=1) -> Enterprise:
    body = f"91{county}{serial:09d}"
    return Enterprise.objects.create(
        uscc=body + uscc.calc_check_digit(body),
        name=name,
        county_code=county,
        community=community(county),
        industry="automotive",
        above_scale=True,
        normal_staff=1000,
        recorded_at=datetime(2022, 4, 1, tzinfo=BJ),
    )


def enterprise_account(make_staff, enterprise, username=None):
    user = make_staff(Role.EMPLOYER, username=username)
    StaffProfile.objects.filter(user=user).update(enterprise=enterprise)
    user.refresh_from_db()
    return user


def apply(user, enterprise, driver_id: str, now, plate="吉A12345", **more):
    facts = {
        "plate": plate,
        "vehicle_type": "truck",
        "driver_id_number": driver_id,
        "driver_phone": "13904310001",
        "origin": "南关区一汽解放长春工厂",
        "origin_code": "220102",
        "destination": "长春汽车经济技术开发区一汽总装厂",
        "destination_code": "",
        "cargo": "汽车零部件",
        "valid_from": now,
        "valid_until": now + timedelta(days=7),
        "now": now,
    }
    return do_apply(user, enterprise=enterprise, **{**facts, **more})
