"""The enterprise-specific steps of `fangkong ingest enterprises|employees|daily_reports`
(fangkong.ingest.merge, through `specs.SPECS[kind].steps` and `.write`). They run inside the
merge's transaction, over its `res` table: each row there is already new, a correction, a
duplicate, flagged or rejected.

The registry (`Enterprise`) and its staff (`Employee`) are reference data, edited in place like
residents and sites: a correction (a row with `correction_reason`) updates them, and what they
held before is kept in its audit entry (`enterprise.correct`, `employee.correct`: before, after,
reason, batch). Daily reports are facts: a correction is a new row superseding the standing one
(the merge's generic insert)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError

from fangkong.accounts.models import StaffProfile
from fangkong.audit.actions import record
from fangkong.clearances.models import EmployerBatch
from fangkong.enterprises.linking import link_by_name
from fangkong.enterprises.models import DailyReport, Employee, Enterprise
from fangkong.people.models import Person

# The registry's own columns, as `res` holds them (fangkong.ingest.specs: "enterprises").
ENTERPRISE_FIELDS = (
    "name",
    "county_code",
    "community_id",
    "address",
    "industry",
    "above_scale",
    "normal_staff",
    "liaison_name",
    "liaison_phone",
    "instructor_name",
    "instructor_phone",
    "pcr_every_days",
    "antigen_every_days",
)


def enterprise_steps(cur, *, now: datetime, user_id: int | None, db_now) -> list[tuple]:
    """Refuse what the row-by-row checks cannot see: two enterprises of one file under one name
    (the later row), and a `supplies_to` naming an enterprise neither registered nor listed in
    the file. Returns the refused rows as (row, field, value, reason)."""
    cur.execute(
        "SELECT rn, uscc, name, supplies_to, customer_id FROM res "
        "WHERE status <> 'rejected' ORDER BY rn"
    )
    rows = cur.fetchall()
    refused: list[tuple] = []
    first_by_name: dict[str, tuple[int, str]] = {}
    for rn, uscc, name, _, _ in rows:
        first = first_by_name.setdefault(name, (rn, uscc))
        if first[1] != uscc:
            refused.append(
                (
                    rn,
                    "name",
                    name,
                    f"企业名称与同一文件第{first[0]}行的企业(统一社会信用代码 {first[1]})相同",
                )
            )
    out = {r[0] for r in refused}
    listed = {uscc for rn, uscc, *_ in rows if rn not in out}
    for rn, _, _, supplies_to, customer_id in rows:
        if rn in out or not supplies_to or customer_id is not None:
            continue
        if supplies_to not in listed:
            refused.append(
                (
                    rn,
                    "supplies_to",
                    supplies_to,
                    "配套企业尚未登记:该统一社会信用代码不在企业名录中,也不在本文件中",
                )
            )
    return refused


def _actor(user_id: int | None):
    return get_user_model().objects.filter(pk=user_id).first() if user_id else None


def _plain(value):
    return value if value is None or isinstance(value, bool | int | str) else str(value)


def _check_written(cur, written: int) -> None:
    cur.execute("SELECT COUNT(*) FROM res WHERE status = 'new'")
    if written != cur.fetchone()[0]:
        # A row counted as new collided with one the merge did not see: roll the chunk back.
        raise IntegrityError("合并期间有其他写入,本块已回滚,请重新导入")


def write_enterprises(cur, *, batch_id: int, user_id: int | None, now: datetime, db_now) -> None:
    """Corrections update the enterprise (the old values go to its audit entry), new rows are
    registered, `supplies_to` adds a supply link (links are only added, never removed by a
    file), and free-text employers naming the new or corrected enterprises are linked."""
    fields = ", ".join(ENTERPRISE_FIELDS)
    cur.execute(
        f"SELECT cur_id, correction_reason, {fields} FROM res "  # noqa: S608
        "WHERE status = 'correct' ORDER BY rn"
    )
    corrections = {row[0]: row[1:] for row in cur.fetchall()}
    if corrections:
        actor = _actor(user_id)
        held = Enterprise.objects.in_bulk(list(corrections))
        for pk, (reason, *after) in corrections.items():
            enterprise = held[pk]
            before = {f: _plain(getattr(enterprise, f)) for f in ENTERPRISE_FIELDS}
            incoming = dict(zip(ENTERPRISE_FIELDS, map(_plain, after), strict=True))
            record(
                actor,
                "enterprise.correct",
                "enterprise",
                pk,
                {
                    "uscc": enterprise.uscc,
                    "before": before,
                    "after": incoming,
                    "reason": reason,
                    "batch": batch_id,
                },
                at=now,
            )
        assignments = ", ".join(
            f"{f} = (SELECT r.{f} FROM res r WHERE r.cur_id = enterprises_enterprise.id "  # noqa: S608
            "AND r.status = 'correct')"
            for f in ENTERPRISE_FIELDS
        )
        cur.execute(
            f"UPDATE enterprises_enterprise SET {assignments} "  # noqa: S608
            "WHERE id IN (SELECT cur_id FROM res WHERE status = 'correct')"
        )
    cur.execute(
        f"INSERT INTO enterprises_enterprise (uscc, {fields}, batch_id, recorded_at) "  # noqa: S608
        f"SELECT uscc, {fields}, %s, %s FROM res WHERE status = 'new' ON CONFLICT DO NOTHING",
        [batch_id, db_now],
    )
    _check_written(cur, cur.rowcount)
    cur.execute(
        "INSERT INTO enterprises_supplylink (supplier_id, customer_id, note, recorded_at) "
        "SELECT DISTINCT supplier.id, customer.id, '', %s FROM res r "
        "JOIN enterprises_enterprise supplier ON supplier.uscc = r.uscc "
        "JOIN enterprises_enterprise customer ON customer.uscc = r.supplies_to "
        "WHERE r.status IN ('new', 'correct', 'dup') AND r.supplies_to <> '' "
        "ON CONFLICT DO NOTHING",
        [db_now],
    )
    cur.execute("SELECT DISTINCT name FROM res WHERE status IN ('new', 'correct')")
    names = [name for (name,) in cur.fetchall()]
    if names:
        link_by_name(
            Enterprise, Employee, Person, StaffProfile, EmployerBatch, names=names, now=now
        )


def write_employees(cur, *, batch_id: int, user_id: int | None, now: datetime, db_now) -> None:
    """Corrections change the role (and the start, when given; the old ones go to the audit
    entry); new rows employ the person from `since`, or from the load when it is empty."""
    cur.execute(
        "SELECT cur_id, correction_reason, role, since FROM res "
        "WHERE status = 'correct' ORDER BY rn"
    )
    corrections = {row[0]: row[1:] for row in cur.fetchall()}
    if corrections:
        actor = _actor(user_id)
        held = Employee.objects.select_related("enterprise").in_bulk(list(corrections))
        for pk, (reason, role, since) in corrections.items():
            employee = held[pk]
            record(
                actor,
                "employee.correct",
                "employee",
                pk,
                {
                    "uscc": employee.enterprise.uscc,
                    "person": employee.person_id,
                    "before": {"role": employee.role, "since": employee.since.isoformat()},
                    "after": {"role": role, "since": _plain(since) or ""},
                    "reason": reason,
                    "batch": batch_id,
                },
                at=now,
            )
        cur.execute(
            "UPDATE enterprises_employee SET "
            "role = (SELECT r.role FROM res r WHERE r.cur_id = enterprises_employee.id "
            "AND r.status = 'correct'), "
            "since = COALESCE((SELECT r.since FROM res r WHERE r.cur_id = enterprises_employee.id "
            "AND r.status = 'correct'), since) "
            "WHERE id IN (SELECT cur_id FROM res WHERE status = 'correct')"
        )
    cur.execute(
        "INSERT INTO enterprises_employee (enterprise_id, person_id, role, since, recorded_at, "
        "batch_id) SELECT enterprise_id, person_id, role, COALESCE(since, %s), %s, %s FROM res "
        "WHERE status = 'new' ON CONFLICT DO NOTHING",
        [db_now, db_now, batch_id],
    )
    _check_written(cur, cur.rowcount)


# -- what a flagged row conflicts with (fangkong.ingest.current) ----------------------------


def describe_enterprises(ids: list[int]) -> dict[int, dict]:
    return {
        e.id: {
            "企业名称": e.name,
            "所属区县代码": e.county_code,
            "所在社区代码": e.community_id or "",
            "地址": e.address,
            "行业": e.get_industry_display(),
            "规上": "是" if e.above_scale else "否",
            "正常用工人数": e.normal_staff,
            "包保联络员": e.liaison_name,
            "联络员电话": e.liaison_phone,
            "疫情防控指导员": e.instructor_name,
            "指导员电话": e.instructor_phone,
            "核酸检测间隔天数": e.pcr_every_days,
            "抗原检测间隔天数": e.antigen_every_days,
        }
        for e in Enterprise.objects.filter(id__in=ids)
    }


def describe_employees(ids: list[int]) -> dict[int, dict]:
    return {
        e.id: {
            "统一社会信用代码": e.enterprise.uscc,
            "身份": e.get_role_display(),
            "起始时间": e.since.isoformat(),
        }
        for e in Employee.objects.filter(id__in=ids).select_related("enterprise")
    }


def describe_daily_reports(ids: list[int]) -> dict[int, dict]:
    return {
        r.id: {
            "统一社会信用代码": r.enterprise.uscc,
            "日期": r.day.isoformat(),
            "在岗人数": r.staff_on_duty,
            "返岗人数": r.returning_staff,
            "产能恢复(%)": str(r.capacity_percent),
            "闭环生产": "是" if r.closed_loop else "否",
            "存在问题": r.problems,
        }
        for r in DailyReport.objects.filter(id__in=ids).select_related("enterprise")
    }
