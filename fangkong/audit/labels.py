"""The audit log as an auditor reads it: each action in Chinese, and an entry's details as labelled
values — no `None`, no `True`, times in Beijing time. The stored entry is unchanged (its hash
covers the raw values; the page shows them too, on hover).

Every action the code records has a label here (fangkong/audit/tests/test_labels.py reads the
code for `record(...)` calls and fails on an action without one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from fangkong.base.display import num, when
from fangkong.engine import clearances as machine
from fangkong.engine.policies import COLOUR_LABELS

# Steps of a clearance request, as its state machine names them (clearance.<step>).
_CLEARANCE_STEPS = {
    machine.START_REVIEW: "开始审核解码申请",
    machine.APPROVE: "通过解码申请",
    machine.REJECT: "不通过解码申请",
    machine.REQUEST_EVIDENCE: "要求补充材料",
    machine.RESUBMIT: "补充材料后重新提交申诉",
    machine.WITHDRAW: "撤回解码申请",
}

ACTION_LABELS = {
    "person.search": "查询居民",
    "person.view": "查看居民信息",
    "ingest": "导入数据",
    "flag.view": "查看待核记录",
    "flag.resolve": "处理待核记录",
    "policy.publish": "发布赋码政策",
    "policy.withdraw": "撤回赋码政策",
    "policy.seal": "政策版本存证(补记)",
    "exemption.seal": "解码豁免存证(补记)",
    "facts.seal": "检测等数据存证(补记)",
    "signin.lockout": "登录尝试过多,暂时锁定",
    "evidence.sweep": "清理无人引用的证明材料文件",
    "code.change": "健康码变更(封存)",
    "key.rotate": "轮换签名密钥",
    "key.revoke": "吊销签名密钥",
    "checkpoint.create": "创建卡口",
    "zone.set": "调整风险区划",
    "zone.propose": "提出风险区划调整",
    "zone.propose.auto": "自动提出风险区划调整",
    "zone.approve": "批准风险区划调整",
    "zone.reject": "驳回风险区划调整",
    "zone.publish": "发布风险区划调整通告",
    "epidemic_free.publish": "公布无疫小区(乡镇)批次",
    "epidemic_free.withdraw": "无疫小区摘牌",
    "clock.sweep": "时钟:按时应用到期变更",
    "clock.task": "后台任务",
    "exit_rules.publish": "发布易行码规则",
    "exit_pass.issue": "签发易行码",
    "exit_pass.deny": "拒绝签发易行码",
    "exit_pass.exit": "持易行码出小区",
    "exit_pass.return": "持易行码返回小区",
    "clearance.submit": "提交解码申请",
    "clearance.view": "查看解码申请",
    **{f"clearance.{step}": label for step, label in _CLEARANCE_STEPS.items()},
    "clearance.batch_submit": "提交单位集中申请",
    "clearance.batch_decide": "批量审核单位集中申请",
    "employer_batch.view": "查看单位集中申请名单",
    "evidence.view": "查看证明材料",
    "hotline.call": "12345来电登记",
    "site.create": "新建采样点",
    "site.update": "修改采样点",
    "site.close": "停用采样点",
    "site.reopen": "恢复采样点",
    "antigen.report": "居民上报抗原自测",
    "staff.change": "调整工作人员角色",
    "audit.export": "导出审计日志",
    "case.open": "登记病例",
    "case.event": "记录病例分类或转归",
    "case.correct": "更正病例记录",
    "case.contacts": "判定病例的密接/次密接",
    "case.pending": "阳性单管结果待分类",
    "employee.correct": "导入更正企业员工信息",
    "enterprise.approve": "批准企业复工",
    "enterprise.check": "登记企业现场检查",
    "enterprise.correct": "导入更正企业登记信息",
    "enterprise.daily_report": "填报企业日报",
    "enterprise.document_view": "查看企业复工方案文件",
    "enterprise.employee_add": "登记企业员工",
    "enterprise.employee_role": "调整企业员工身份",
    "enterprise.file": "提交企业复工方案及承诺书",
    "enterprise.gate.admit": "厂门准入登记",
    "enterprise.gate.antigen_positive": "厂门抗原检测阳性",
    "enterprise.gate.exit": "出厂登记",
    "enterprise.gate.exit_breaks_loop": "出厂破环",
    "enterprise.gate.refuse": "厂门不予准入",
    "enterprise.gate.vehicle": "车辆消杀登记",
    "enterprise.plant_gate.create": "设立企业厂门",
    "enterprise.register": "登记企业",
    "enterprise.reject": "退回企业复工方案",
    "enterprise.resume": "企业复工",
    "enterprise.supply_link": "登记产业链配套关系",
    "enterprise.suspend": "企业停工",
    "enterprise.update": "修改企业登记信息",
    "supplies.confirm": "确认物资送达",
    "supplies.deliver": "登记物资配送",
    "supplies.firm.register": "登记保供企业",
    "supplies.firm.status": "变更保供企业状态",
    "supplies.housing.end": "结束住宿安置",
    "supplies.housing.open": "登记住宿安置点",
    "supplies.housing.place": "安置员工住宿",
    "supplies.registry.flag": "处理保供名录待核记录",
    "supplies.registry.import": "导入保供企业名录",
    "supplies.request": "提出物资需求",
    "supplies.site.register": "登记工地",
    "tickets.assign": "分派问题工单",
    "tickets.close": "关闭问题工单",
    "tickets.contact_view": "查看工单联系人",
    "tickets.dispatch_export": "导出日调度报表",
    "tickets.group_create": "设立工作专班小组",
    "tickets.member_add": "加入工作专班小组",
    "tickets.member_lead": "指定专班小组组长",
    "tickets.note": "记录工单进展",
    "tickets.raise": "提出问题工单",
    "tickets.reopen": "重新打开问题工单",
    "tickets.solve": "解决问题工单",
    "vehicle_pass.apply": "申请车辆通行证",
    "vehicle_pass.approve": "批准车辆通行证",
    "vehicle_pass.issue_batch": "发放车辆通行证批次",
    "vehicle_pass.reapply": "重新申请车辆通行证",
    "vehicle_pass.reject": "驳回车辆通行证申请",
    "vehicle_pass.revoke": "吊销车辆通行证",
    "bulletin.draft": "起草疫情通报",
    "bulletin.approve": "审核疫情通报",
    "bulletin.publish": "发布疫情通报",
}

TARGET_LABELS = {
    "person": "居民",
    "batch": "导入批次",
    "flag": "待核记录",
    "policy": "赋码政策",
    "code_changes": "健康码变更",
    "signing_key": "签名密钥",
    "checkpoint": "卡口",
    "community_zone": "风险区划",
    "zone_decision": "风险区划调整决定",
    "epidemic_free_batch": "无疫小区(乡镇)批次",
    "epidemic_free_label": "无疫标识",
    "exit_rules": "易行码规则",
    "exit_pass": "易行码",
    "clearance": "解码申请",
    "employer_batch": "单位集中申请",
    "evidence": "证明材料",
    "testing_site": "采样点",
    "antigen_test": "抗原自测",
    "user": "工作人员账号",
    "clock": "时钟",
    "background_task": "后台任务",
    "case": "病例",
    "bulletin": "疫情通报",
}

# What the keys of an entry's detail mean; a key not listed is shown as it is.
DETAIL_LABELS = {
    "seals": "数据存证",
    "chunk": "分块",
    "scope": "限制",
    "who": "账号或来源地址",
    "attempts": "尝试次数",
    "until": "锁定至",
    "removed": "删除文件数",
    "bytes": "字节数",
    "grace_hours": "宽限(小时)",
    "stored_names": "删除的文件",
    "exemption": "解码豁免",
    "accept": "采纳新值",
    "allow_unzoned": "未划区社区适用",
    "closes": "截止时刻",
    "colours": "健康码",
    "opens": "开始时刻",
    "pass_minutes": "每次外出(分钟)",
    "pcr_negative_within_hours": "核酸阴性时限(小时)",
    "per_household_per_day": "每户每日(张)",
    "zone_levels": "风险区划",
    "notice": "通告",
    "scheme": "划分方式",
    "effective_until": "截止时间",
    "entries": "条目数",
    "levels": "各级别数量",
    "division": "地区",
    "division_name": "地区名称",
    "divisions": "地区代码",
    "accepted": "已受理",
    "action": "操作",
    "as_of": "判定时间",
    "at": "时间",
    "batch": "批次",
    "call": "来电",
    "cause": "原因",
    "channel": "渠道",
    "checkpoint": "卡口",
    "clearance": "解码申请",
    "code": "编码",
    "colour": "颜色",
    "community": "社区",
    "community_name": "社区名称",
    "count": "条数",
    "decided": "已审核",
    "desk": "席位",
    "detail": "说明",
    "districts": "负责区县",
    "duplicates": "重复",
    "effective_from": "生效时间",
    "employer": "单位",
    "failed": "失败",
    "failure": "失败原因",
    "filename": "文件名",
    "files": "文件数",
    "filters": "筛选条件",
    "flagged": "待核",
    "format": "格式",
    "inserted": "新增",
    "key": "记录",
    "kind": "类型",
    "level": "级别",
    "name": "名称",
    "note": "说明",
    "out_of_scope": "非本区县",
    "outcome": "结果",
    "person": "居民",
    "policy": "政策",
    "previous": "原级别",
    "query": "查询内容",
    "query_kind": "查询方式",
    "reason": "理由",
    "reasons": "原因",
    "rejected": "未通过",
    "result": "结果",
    "results": "结果数",
    "retired": "停用的密钥",
    "role": "角色",
    "rows": "行数",
    "rows_shown": "显示行数",
    "rules": "规则",
    "seal": "封存摘要",
    "sha256": "文件摘要",
    "source": "来源",
    "start_at": "开始时间",
    "tested_at": "检测时间",
    "title": "标题",
    "transitions": "颜色变化",
    "up_to": "截至记录",
    "valid_from": "有效期自",
    "valid_until": "有效期至",
    "version": "版本",
    "via": "途径",
    "whole_batch": "整批",
    "found_by": "发现途径",
    "clinical_type": "临床分型",
    "event": "病例事件",
    "designations": "密接判定",
    "cases": "病例",
    "date": "日期",
    "figures": "数字",
}

# Values that are codes, by key: shown in words. Pages add the words of the apps above the
# audit log (channels, kinds, levels) through `readable_detail(..., words=...)`.
VALUE_WORDS: dict[str, Mapping[str, str]] = {
    "via": {"cli": "命令行", "admin": "管理后台", "api": "接口"},
    "desk": {"hotline": "12345专席"},
    "colour": COLOUR_LABELS,
    "colours": COLOUR_LABELS,
    "query_kind": {"id_number": "身份证号", "phone": "手机号", "name": "姓名"},
    "result": {"negative": "阴性", "positive": "阳性"},
    "format": {"csv": "CSV", "jsonl": "JSON Lines"},
}
# Times are stored as ISO 8601, with a "T" or (written by str()) a space.
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_DIGEST = re.compile(r"^[0-9a-f]{40,}$")
EMPTY = "—"
# Keys whose numbers are record ids (居民 #859), not counts (行数 1,200).
ID_KEYS = frozenset({"person", "clearance", "batch", "call", "checkpoint", "up_to"})


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def _transition(text: str) -> str:
    old, _, new = text.partition("->")
    return f"{COLOUR_LABELS.get(old, old)}→{COLOUR_LABELS.get(new, new)}"


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def readable_value(key: str, value, words: Mapping[str, Mapping[str, str]]) -> str:
    if _empty(value):
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return f"#{value}" if key in ID_KEYS else num(value)
    if isinstance(value, list):
        return "、".join(readable_value(key, item, words) for item in value)
    if isinstance(value, dict):
        if key == "transitions":
            return ",".join(f"{_transition(k)} {num(v)}" for k, v in value.items())
        return ",".join(f"{label}:{text}" for label, text in readable_detail(value, words))
    text = str(value)
    if text in words.get(key, {}):
        return words[key][text]
    if _ISO_TIME.match(text):
        try:
            return when(datetime.fromisoformat(text))
        except ValueError:
            return text
    if _DIGEST.match(text):
        return f"{text[:12]}…"
    return text


def readable_detail(
    detail: Mapping, words: Mapping[str, Mapping[str, str]] | None = None
) -> list[tuple[str, str]]:
    """(label, text) per key of an entry's detail, in the order written; keys with no value
    (None, blank) are left out — the raw detail keeps them."""
    words = {**VALUE_WORDS, **(words or {})}
    return [
        (DETAIL_LABELS.get(key, key), readable_value(key, value, words))
        for key, value in detail.items()
        if not _empty(value)
    ]
