"""The columns of each kind of file. docs/ingest.md describes them for the people who send us
files; keep the two in step (a test checks that every column here is documented)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fangkong.ingest.errors import UnreadableFile


@dataclass(frozen=True)
class Column:
    name: str
    check: str  # id_number, text, phone, code, timestamp, choice, pool_size
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
ID_NUMBER = Column("id_number", "id_number", aliases=("身份证号", "身份证号码", "证件号码"))

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
