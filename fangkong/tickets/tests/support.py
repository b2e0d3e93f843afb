"""A district's task force, its members and an enterprise with its own account, for the tests."""

from dataclasses import dataclass
from datetime import datetime

from fangkong.enterprises.tests.test_gate import make_enterprise
from fangkong.tickets.actions import do_add_member, do_create_task_force
from fangkong.tickets.rules import LOCAL

FORMED = datetime(2022, 4, 8, 8, tzinfo=LOCAL)


@dataclass
class Desk:
    enterprise: object
    other: object  # an enterprise of another district
    groups: dict
    plant: object  # the enterprise's own account
    hotline: object
    district: object
    coordinator: object
    staff_return: object  # member of 员工返岗协调组
    traffic: object
    outsider: object  # a task-group member of another district


def make_desk(make_staff, county="220173") -> Desk:
    enterprise = make_enterprise("天合富奥汽车安全系统(长春)有限公司", county=county, serial=7)
    other = make_enterprise("长春南关示例机械有限公司", county="220102", serial=8)
    groups = {g.kind: g for g in do_create_task_force(None, county, now=FORMED)}
    far = {g.kind: g for g in do_create_task_force(None, "220102", now=FORMED)}
    plant = make_staff("employer", username="tianhe")
    plant.staff.enterprise = enterprise
    plant.staff.save()
    desk = Desk(
        enterprise=enterprise,
        other=other,
        groups=groups,
        plant=plant,
        hotline=make_staff("hotline", username="hotline"),
        district=make_staff("district_reviewer", [county], username="district_xinqu"),
        coordinator=make_staff("task_group", [county], username="zonghe"),
        staff_return=make_staff("task_group", [county], username="fangang"),
        traffic=make_staff("task_group", [county], username="jiaotong"),
        outsider=make_staff("task_group", ["220102"], username="nanguan_zonghe"),
    )
    do_add_member(None, groups["coordination"], desk.coordinator, lead=True, now=FORMED)
    do_add_member(None, groups["staff_return"], desk.staff_return, now=FORMED)
    do_add_member(None, groups["traffic"], desk.traffic, now=FORMED)
    do_add_member(None, far["coordination"], desk.outsider, now=FORMED)
    return desk
