"""The daily dispatch as an Excel workbook (日调度表): one sheet of totals and groups, one of the
days, one of the morning list. Every cell is a figure of fangkong.tickets.stats."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font

from fangkong.engine.id_numbers import mask_name
from fangkong.tickets import rules

BOLD = Font(bold=True)


def _local(value: datetime | None) -> str:
    return value.astimezone(rules.LOCAL).strftime("%Y-%m-%d %H:%M") if value else ""


def workbook(scope_name: str, as_of: datetime, totals: dict, days: list[dict], morning) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "汇总"
    sheet.append([f"{scope_name} 问题工单日调度(数据截至 {_local(as_of)},北京时间)"])
    sheet["A1"].font = BOLD
    sheet.append(["累计提出", "已解决", "未解决", "超期未解决", "待分派"])
    sheet.append(
        [
            totals["raised"],
            totals["solved"],
            totals["open"],
            totals["overdue"],
            totals["unassigned"],
        ]
    )
    sheet.append([])
    sheet.append(["工作组", "累计承办", "已解决", "未解决", "超期未解决"])
    for g in totals["by_group"]:
        sheet.append([g["group_label"], g["raised"], g["solved"], g["open"], g["overdue"]])

    per_day = book.create_sheet("每日")
    per_day.append(["日期", "工作组", "新增", "已解决", "未解决(日终)", "超期(日终)"])
    for day in days:
        for g in [*day["groups"], {"group_label": "合计", **day["total"]}]:
            per_day.append(
                [day["date"], g["group_label"], g["new"], g["solved"], g["open"], g["overdue"]]
            )

    listed = book.create_sheet("超期及紧急")
    listed.append(
        ["工单编号", "企业", "类别", "工作组", "优先级", "状态", "办结时限", "超期(小时)", "联系人"]
    )
    for r in morning:
        t = r["ticket"]
        listed.append(
            [
                t.number,
                t.enterprise.name,
                t.get_category_display(),
                r["group"],
                r["priority"],
                r["status"],
                _local(r["due"]),
                r["overdue_hours"],
                mask_name(t.contact_name),
            ]
        )
    for ws in book.worksheets:
        for cell in ws[1]:
            cell.font = BOLD
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
