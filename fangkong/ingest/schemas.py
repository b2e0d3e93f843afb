"""The columns of each kind of file. docs/ingest.md describes them for the people who send us
files; keep the two in step (a test checks that every column here is documented)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fangkong.ingest.errors import UnreadableFile


@dataclass(frozen=True)
class Column:
    name: str
    # id_number, text, phone, code, timestamp, choice, pool_size, uscc, boolean, count, percent,
    # date
    check: str
    required: bool = True
    aliases: tuple[str, ...] = ()
    max_length: int = 200
    choices: dict[str, str] = field(default_factory=dict)  # accepted spelling -> stored value
    code_lengths: tuple[int, ...] = ()
    # A planned time (a designation's end) may lie in the future; observed ones may not.
    planned: bool = False
    # What an empty cell of an optional column stands for (a site list without a status column
    # lists open sites).
    default: str = ""
    # The range of a count (inclusive).
    bounds: tuple[int, int] = (0, 10_000_000)


CORRECTION = Column("correction_reason", "text", required=False, aliases=("更正原因",))

DESIGNATION_KINDS = {
    "close_contact": "close_contact",
    "密接": "close_contact",
    "密切接触者": "close_contact",
    "secondary_contact": "secondary_contact",
    "次密接": "secondary_contact",
    "次密切接触者": "secondary_contact",
    "spacetime_companion": "spacetime_companion",
    "时空伴随": "spacetime_companion",
    "时空伴随者": "spacetime_companion",
}
OUTCOMES = {
    "negative": "negative",
    "阴性": "negative",
    "positive": "positive",
    "阳性": "positive",
    "invalid": "invalid",
    "无效": "invalid",
}
SITE_KINDS = {
    "fixed": "fixed",
    "固定": "fixed",
    "固定采样点": "fixed",
    "便民采样点": "fixed",
    "mobile": "mobile",
    "流动": "mobile",
    "流动采样点": "mobile",
    "流动采样队": "mobile",
    "上门采样": "mobile",
    "hospital": "hospital",
    "医院": "hospital",
    "医疗机构": "hospital",
    "医疗机构采样点": "hospital",
}
SITE_STATUSES = {
    "open": "open",
    "开放": "open",
    "运行": "open",
    "启用": "open",
    "closed": "closed",
    "关闭": "closed",
    "已关闭": "closed",
    "停用": "closed",
}
CASE_EVENTS = {
    "asymptomatic": "asymptomatic",
    "无症状感染者": "asymptomatic",
    "无症状": "asymptomatic",
    "confirmed": "confirmed",
    "确诊": "confirmed",
    "确诊病例": "confirmed",
    "reclassified": "reclassified",
    "无症状转确诊": "reclassified",
    "无症状感染者转为确诊病例": "reclassified",
    "discharged": "discharged",
    "治愈出院": "discharged",
    "出院": "discharged",
    "released": "released",
    "解除隔离医学观察": "released",
    "解除隔离": "released",
    "died": "died",
    "死亡": "died",
}
CLINICAL_TYPES = {
    "mild": "mild",
    "轻型": "mild",
    "ordinary": "ordinary",
    "普通型": "ordinary",
    "severe": "severe",
    "重型": "severe",
    "critical": "critical",
    "危重型": "critical",
}
FOUND_BY = {
    "isolation": "isolation",
    "隔离点筛查": "isolation",
    "隔离筛查": "isolation",
    "control": "control",
    "管控区筛查": "control",
    "community": "community",
    "社会面筛查": "community",
    "fever_clinic": "fever_clinic",
    "发热门诊": "fever_clinic",
    "other": "other",
    "其他": "other",
}
INDUSTRIES = {
    "automotive": "automotive",
    "汽车及零部件": "automotive",
    "汽车": "automotive",
    "汽车零部件": "automotive",
    "pharma": "pharma",
    "医药健康": "pharma",
    "医药": "pharma",
    "optoelectronics": "optoelectronics",
    "光电信息": "optoelectronics",
    "equipment": "equipment",
    "装备制造": "equipment",
    "food": "food",
    "食品加工": "food",
    "食品": "food",
    "materials": "materials",
    "新材料": "materials",
    "chemicals": "chemicals",
    "化工": "chemicals",
    "energy": "energy",
    "能源": "energy",
    "other": "other",
    "其他": "other",
}
EMPLOYEE_ROLES = {
    "resident": "resident",
    "驻厂员工": "resident",
    "驻厂": "resident",
    "returning": "returning",
    "返岗员工": "returning",
    "返岗": "returning",
    "closed_loop": "closed_loop",
    "闭环员工": "closed_loop",
    "闭环": "closed_loop",
}
ID_NUMBER = Column("id_number", "id_number", aliases=("身份证号", "身份证号码", "证件号码"))
USCC = Column("uscc", "uscc", aliases=("统一社会信用代码", "信用代码"))

SCHEMAS: dict[str, tuple[Column, ...]] = {
    "residents": (
        ID_NUMBER,
        Column("name", "text", aliases=("姓名",), max_length=64),
        Column("phone", "phone", aliases=("手机号", "联系电话", "电话")),
        Column("community_code", "code", aliases=("社区代码", "居住社区代码"), code_lengths=(12,)),
        Column("employer", "text", required=False, aliases=("工作单位",), max_length=128),
        CORRECTION,
    ),
    "presence": (
        ID_NUMBER,
        Column("region_code", "code", aliases=("区域代码",), code_lengths=(6, 9, 12)),
        Column("start_at", "timestamp", aliases=("开始时间",)),
        Column("end_at", "timestamp", aliases=("结束时间",)),
        Column("source", "text", required=False, aliases=("来源",), max_length=64),
    ),
    "designations": (
        ID_NUMBER,
        Column("kind", "choice", aliases=("类别", "判定类别"), choices=DESIGNATION_KINDS),
        Column("start_at", "timestamp", aliases=("起始时间", "判定时间")),
        Column(
            "end_at", "timestamp", required=False, aliases=("截止时间", "解除时间"), planned=True
        ),
        Column("designated_by", "text", aliases=("判定单位",), max_length=64),
        CORRECTION,
    ),
    "samplings": (
        ID_NUMBER,
        Column("tube", "text", aliases=("试管条码", "管码"), max_length=32),
        Column("pool_size", "pool_size", aliases=("混采人数",)),
        Column("site_code", "text", aliases=("采样点编码",), max_length=32),
        Column("sampled_at", "timestamp", aliases=("采样时间",)),
        CORRECTION,
    ),
    "results": (
        Column("tube", "text", aliases=("试管条码", "管码"), max_length=32),
        Column("result", "choice", aliases=("检测结果", "结果"), choices=OUTCOMES),
        Column("lab", "text", aliases=("检测机构",), max_length=64),
        Column("reported_at", "timestamp", aliases=("报告时间",)),
        CORRECTION,
    ),
    "sites": (
        Column("site_code", "text", aliases=("采样点编码",), max_length=32),
        Column("name", "text", aliases=("采样点名称", "名称"), max_length=128),
        Column("community_code", "code", aliases=("社区代码", "所在社区代码"), code_lengths=(12,)),
        Column("address", "text", required=False, aliases=("地址", "详细地址"), max_length=200),
        Column("kind", "choice", aliases=("类型", "采样点类型"), choices=SITE_KINDS),
        Column(
            "site_status",
            "choice",
            required=False,
            aliases=("status", "状态", "运行状态"),
            choices=SITE_STATUSES,
            default="open",
        ),
        CORRECTION,
    ),
    # One row is one event of a person's case (fangkong.cases); the case is opened by its first.
    "cases": (
        ID_NUMBER,
        Column("event", "choice", aliases=("病例事件", "事件"), choices=CASE_EVENTS),
        Column("at", "timestamp", aliases=("时间", "事件时间")),
        Column(
            "clinical_type",
            "choice",
            required=False,
            aliases=("临床分型",),
            choices=CLINICAL_TYPES,
        ),
        Column("found_by", "choice", required=False, aliases=("发现途径",), choices=FOUND_BY),
        Column(
            "community_code",
            "code",
            required=False,
            aliases=("社区代码", "所属社区代码"),
            code_lengths=(12,),
        ),
        CORRECTION,
    ),
    # The enterprise registry (fangkong.enterprises; docs/enterprises-import.md): one row is one
    # enterprise, identified by its unified social credit code.
    "enterprises": (
        USCC,
        Column("name", "text", aliases=("企业名称",), max_length=128),
        Column(
            "county_code",
            "code",
            aliases=("所属区县代码", "区县代码"),
            code_lengths=(6,),
        ),
        Column(
            "community_code",
            "code",
            required=False,
            aliases=("所在社区代码", "社区代码"),
            code_lengths=(12,),
        ),
        Column("address", "text", required=False, aliases=("地址", "详细地址"), max_length=200),
        Column("industry", "choice", aliases=("行业", "所属行业"), choices=INDUSTRIES),
        Column("above_scale", "boolean", aliases=("规上", "规上企业", "是否规上")),
        Column("normal_staff", "count", aliases=("正常用工人数",)),
        Column("liaison_name", "text", required=False, aliases=("包保联络员",), max_length=64),
        Column("liaison_phone", "phone", required=False, aliases=("联络员电话",)),
        Column(
            "instructor_name",
            "text",
            required=False,
            aliases=("疫情防控指导员", "防疫指导员"),
            max_length=64,
        ),
        Column("instructor_phone", "phone", required=False, aliases=("指导员电话",)),
        Column(
            "pcr_every_days",
            "count",
            required=False,
            aliases=("核酸检测间隔天数", "核酸检测间隔"),
            default="3",
            bounds=(1, 30),
        ),
        Column(
            "antigen_every_days",
            "count",
            required=False,
            aliases=("抗原检测间隔天数", "抗原检测间隔"),
            default="1",
            bounds=(1, 30),
        ),
        Column(
            "supplies_to",
            "uscc",
            required=False,
            aliases=("配套企业统一社会信用代码", "配套对象"),
        ),
        CORRECTION,
    ),
    # An enterprise's staff: one row is one person working for one enterprise, in a role.
    "employees": (
        USCC,
        ID_NUMBER,
        Column("role", "choice", aliases=("身份", "员工类别"), choices=EMPLOYEE_ROLES),
        Column("since", "timestamp", required=False, aliases=("起始时间", "入职时间")),
        CORRECTION,
    ),
    # An enterprise's report for one day (日报).
    "daily_reports": (
        USCC,
        Column("day", "date", aliases=("日期", "报告日期")),
        Column("staff_on_duty", "count", aliases=("在岗人数",)),
        Column("returning_staff", "count", aliases=("返岗人数", "其中返岗人数")),
        Column("capacity_percent", "percent", aliases=("产能恢复", "产能恢复率", "产能恢复(%)")),
        Column("closed_loop", "boolean", aliases=("闭环生产", "是否闭环")),
        Column("problems", "text", required=False, aliases=("存在问题",), max_length=2000),
        CORRECTION,
    ),
}


def column_map(kind: str, header: list[str]) -> tuple[dict[str, str], list[str], list[str]]:
    """Match a file's header to the schema: (file column -> schema name, missing required
    columns, ignored file columns). Names match case- and space-insensitively, or by alias;
    UnreadableFile when two name the same field."""
    wanted: dict[str, str] = {}
    for column in SCHEMAS[kind]:
        for spelling in (column.name, *column.aliases):
            wanted[spelling.strip().lower()] = column.name
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    for name in header:
        target = wanted.get(name.strip().lower())
        if target is None:
            ignored.append(name)
            continue
        twin = next((source for source, t in mapping.items() if t == target), None)
        if twin is not None:
            # Two columns for one field: which one holds the truth is not ours to guess.
            raise UnreadableFile(f"列“{twin}”和“{name}”都是{target}列,请只保留一列")
        mapping[name] = target
    missing = [c.name for c in SCHEMAS[kind] if c.required and c.name not in mapping.values()]
    return mapping, missing, ignored
