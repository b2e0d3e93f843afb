"""What we hold for a record an incoming row conflicts with, in the words a reviewer reads."""

from __future__ import annotations

from django.utils.module_loading import import_string

from fangkong.people.models import Designation, Person
from fangkong.testing.models import LabResult, Sampling, TestingSite


def _person(ids):
    return {
        p["id"]: {
            "姓名": p["name"],
            "手机号": p["phone"],
            "社区代码": p["community_id"],
            "工作单位": p["employer"],
        }
        for p in Person.objects.filter(id__in=ids).values(
            "id", "name", "phone", "community_id", "employer"
        )
    }


def _designation(ids):
    return {
        d.id: {
            "类别": d.get_kind_display(),
            "起始": d.start_at.isoformat(),
            "截止": d.end_at.isoformat() if d.end_at else "",
            "判定单位": d.designated_by,
        }
        for d in Designation.objects.filter(id__in=ids)
    }


def _sampling(ids):
    return {
        s.id: {"采样点": s.site.code, "采样时间": s.sampled_at.isoformat(), "试管": s.tube.barcode}
        for s in Sampling.objects.filter(id__in=ids).select_related("site", "tube")
    }


def _result(ids):
    return {
        r.id: {
            "结果": r.get_result_display(),
            "检测机构": r.lab,
            "报告时间": r.reported_at.isoformat(),
        }
        for r in LabResult.objects.filter(id__in=ids)
    }


def _site(ids):
    return {
        s.id: {
            "名称": s.name,
            "社区代码": s.community_id,
            "地址": s.address,
            "类型": s.get_kind_display(),
            "状态": s.get_status_display(),
        }
        for s in TestingSite.objects.filter(id__in=ids)
    }


_DESCRIBE = {
    "residents": _person,
    "designations": _designation,
    "samplings": _sampling,
    "results": _result,
    "presence": lambda ids: {},
    "sites": _site,
    # The cases app sits above ingestion: named, not imported.
    "cases": lambda ids: import_string("fangkong.cases.importing.describe")(ids),
    # So does the enterprises app.
    "enterprises": lambda ids: import_string("fangkong.enterprises.importing.describe_enterprises")(
        ids
    ),
    "employees": lambda ids: import_string("fangkong.enterprises.importing.describe_employees")(
        ids
    ),
    "daily_reports": lambda ids: import_string(
        "fangkong.enterprises.importing.describe_daily_reports"
    )(ids),
}


def describe_current(kind: str, ids: list[int]) -> dict[int, dict]:
    return _DESCRIBE[kind](ids) if ids else {}
