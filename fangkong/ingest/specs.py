"""What each kind of row is, for the merge (fangkong.ingest.merge): how it is staged, what its
references resolve to, what it is about (its identity), what a repeat must agree on, and the
checks that reject it. One `Spec` per kind of `fangkong.ingest.schemas.SCHEMAS`."""

from __future__ import annotations

from dataclasses import dataclass

PERSON = "LEFT JOIN people_person p ON p.id_number = s.id_number"


@dataclass(frozen=True)
class Spec:
    kind: str
    # column, type (text | int | ts | date | bool | num), as in the schema
    staging: tuple[tuple[str, str], ...]
    joins: str  # LEFT JOINs after `stg s` that resolve references
    resolved: str  # the columns those joins add, `expr AS name, ...`
    checks: tuple[tuple[str, str, str], ...]  # field, reason (SQL), failing condition on res
    scoped_check: tuple[str, str, str] | None  # the same, for district-scoped users
    table: str
    identity: tuple[tuple[str, str], ...]  # fact column, SQL over the resolve: what it is about
    values: tuple[tuple[str, str], ...]  # fact column, SQL: what a repeat must agree on
    file_identity: tuple[str, ...]  # staged columns naming the identity within one file
    file_values: tuple[str, ...]
    insert: tuple[str, ...]  # fact columns, taken from res columns of the same name
    key: str  # SQL naming the thing a flag is about
    county: str  # SQL: the county a flag belongs to (for district reviewers)
    supersedable: bool = True
    # The kind's own steps after the checks, kept in the app that owns its facts: a dotted path
    # to `steps(cur, *, now, user_id, db_now) -> rejected rows` (the cases app sits above
    # ingestion, so it is named, not imported).
    steps: str = ""
    # The check for an organisation's own account (an enterprise's, fangkong.enterprises): only
    # rows about it (`stg_own` holds its id). Such an account is checked by this instead of
    # `scoped_check`.
    own_check: tuple[str, str, str] | None = None
    # A kind whose rows are not plain facts writes them itself, in place of the generic insert:
    # a dotted path to `write(cur, *, batch_id, user_id, now, db_now)` (the enterprise registry
    # and its staff are edited in place, like residents and sites).
    write: str = ""


CORRECTABLE = ("correction_reason", "text")
ENTERPRISE = "LEFT JOIN enterprises_enterprise e ON e.uscc = s.uscc"
UNKNOWN_ENTERPRISE = (
    "uscc",
    "'未知企业:该统一社会信用代码尚未登记在企业名录'",
    "enterprise_id IS NULL",
)
NOT_OWN = "'不是本企业的数据'"
SPECS: dict[str, Spec] = {
    spec.kind: spec
    for spec in (
        Spec(
            kind="residents",
            staging=(
                ("id_number", "text"),
                ("name", "text"),
                ("phone", "text"),
                ("community_code", "text"),
                ("employer", "text"),
                CORRECTABLE,
            ),
            joins="LEFT JOIN places_division d ON d.code = s.community_code AND d.level = 5",
            resolved="d.code AS community_id, substr(s.community_code, 1, 6) AS county_code",
            checks=(
                (
                    "community_code",
                    "'未知社区代码:应为长春市现行社区/村的12位代码'",
                    "community_id IS NULL",
                ),
            ),
            scoped_check=(
                "community_code",
                "'该社区不在您负责的区县'",
                "county_code NOT IN (SELECT code FROM stg_scope)",
            ),
            table="people_person",
            identity=(("id_number", "s.id_number"),),
            values=(
                ("name", "s.name"),
                ("phone", "s.phone"),
                ("community_id", "d.code"),
                ("employer", "s.employer"),
            ),
            file_identity=("id_number",),
            file_values=("name", "phone", "community_code", "employer"),
            insert=("id_number", "name", "phone", "community_id", "county_code", "employer"),
            key="id_number",
            county="county_code",
            supersedable=False,
        ),
        Spec(
            kind="presence",
            staging=(
                ("id_number", "text"),
                ("region_code", "text"),
                ("start_at", "ts"),
                ("end_at", "ts"),
                ("source", "text"),
            ),
            joins=f"{PERSON} LEFT JOIN places_division d ON d.code = s.region_code",
            resolved=(
                "p.id AS person_id, p.county_code AS person_county, d.county_code AS region_county"
            ),
            checks=(
                ("id_number", "'未知人员:该身份证号尚未登记为居民'", "person_id IS NULL"),
                ("region_code", "'未知区域代码'", "region_county IS NULL"),
                ("end_at", "'结束时间早于开始时间'", "end_at < start_at"),
            ),
            scoped_check=(
                "region_code",
                "'该区域不在您负责的区县'",
                "region_county NOT IN (SELECT code FROM stg_scope)",
            ),
            table="people_presence",
            identity=(
                ("person_id", "p.id"),
                ("region_code", "s.region_code"),
                ("start_at", "{start_at}"),
                ("end_at", "{end_at}"),
                ("source", "s.source"),
            ),
            values=(),
            file_identity=("id_number", "region_code", "start_at", "end_at", "source"),
            file_values=(),
            insert=("person_id", "region_code", "start_at", "end_at", "source"),
            key="id_number",
            county="person_county",
        ),
        Spec(
            kind="designations",
            staging=(
                ("id_number", "text"),
                ("kind", "text"),
                ("start_at", "ts"),
                ("end_at", "ts"),
                ("designated_by", "text"),
                CORRECTABLE,
            ),
            joins=PERSON,
            resolved="p.id AS person_id, p.county_code AS person_county",
            checks=(
                ("id_number", "'未知人员:该身份证号尚未登记为居民'", "person_id IS NULL"),
                ("end_at", "'截止时间早于起始时间'", "end_at IS NOT NULL AND end_at < start_at"),
            ),
            scoped_check=(
                "id_number",
                "'该人员不在您负责的区县'",
                "person_county NOT IN (SELECT code FROM stg_scope)",
            ),
            table="people_designation",
            identity=(
                ("person_id", "p.id"),
                ("kind", "s.kind"),
                ("start_at", "{start_at}"),
                ("designated_by", "s.designated_by"),
            ),
            values=(("end_at", "{end_at}"),),
            file_identity=("id_number", "kind", "start_at", "designated_by"),
            file_values=("end_at",),
            insert=("person_id", "kind", "start_at", "end_at", "designated_by"),
            key="id_number",
            county="person_county",
        ),
        Spec(
            kind="samplings",
            staging=(
                ("id_number", "text"),
                ("tube", "text"),
                ("pool_size", "int"),
                ("site_code", "text"),
                ("sampled_at", "ts"),
                CORRECTABLE,
            ),
            joins=(
                f"{PERSON} LEFT JOIN testing_testingsite st ON st.code = s.site_code "
                "LEFT JOIN testing_tube t ON t.barcode = s.tube"
            ),
            resolved=(
                "p.id AS person_id, p.county_code AS person_county, st.id AS site_id, "
                "st.county_code AS site_county, st.closed_at AS site_closed_at, "
                "t.id AS tube_id, t.capacity AS tube_capacity"
            ),
            checks=(
                ("id_number", "'未知人员:该身份证号尚未登记为居民'", "person_id IS NULL"),
                ("site_code", "'未知采样点编码'", "site_id IS NULL"),
                (
                    "site_code",
                    "'该采样点已关闭:关闭后的采样不予接收'",
                    "site_closed_at IS NOT NULL AND sampled_at >= site_closed_at",
                ),
                (
                    "pool_size",
                    "'与该试管已登记的混采人数(' || tube_capacity || ')不一致'",
                    "tube_capacity IS NOT NULL AND tube_capacity <> pool_size",
                ),
            ),
            scoped_check=(
                "site_code",
                "'该采样点不在您负责的区县'",
                "site_county NOT IN (SELECT code FROM stg_scope)",
            ),
            table="testing_sampling",
            identity=(("person_id", "p.id"), ("tube_id", "t.id")),
            values=(("site_id", "st.id"), ("sampled_at", "{sampled_at}")),
            file_identity=("id_number", "tube"),
            file_values=("site_code", "sampled_at"),
            insert=("person_id", "tube_id", "site_id", "sampled_at"),
            key="tube",
            county="site_county",
        ),
        Spec(
            kind="results",
            staging=(
                ("tube", "text"),
                ("result", "text"),
                ("lab", "text"),
                ("reported_at", "ts"),
                CORRECTABLE,
            ),
            joins="LEFT JOIN testing_tube t ON t.barcode = s.tube",
            resolved="t.id AS tube_id",
            checks=(("tube", "'未知试管:尚无该条码的采样记录'", "tube_id IS NULL"),),
            scoped_check=None,
            table="testing_labresult",
            identity=(("tube_id", "t.id"),),
            values=(("result", "s.result"),),
            file_identity=("tube",),
            file_values=("result",),
            insert=("tube_id", "result", "lab", "reported_at"),
            key="tube",
            # Only flagged rows need it: the district of the site where the tube was filled.
            county=(
                "(SELECT MIN(st.county_code) FROM testing_sampling x JOIN testing_testingsite"
                " st ON st.id = x.site_id WHERE x.tube_id = res.tube_id)"
            ),
        ),
        Spec(
            kind="sites",
            staging=(
                ("site_code", "text"),
                ("name", "text"),
                ("community_code", "text"),
                ("address", "text"),
                ("kind", "text"),
                ("site_status", "text"),  # not `status`: the merge's outcome of a row
                CORRECTABLE,
            ),
            joins=(
                "LEFT JOIN places_division d ON d.code = s.community_code AND d.level = 5 "
                "AND d.is_current"
            ),
            # The district a site is in now (`held_county`) and would be in: a district-scoped
            # user may neither move a site out of their districts nor take one in.
            resolved=(
                "d.code AS community_id, d.county_code AS county_code, f.county_code AS held_county"
            ),
            checks=(
                (
                    "community_code",
                    "'未知社区代码:应为长春市现行社区/村的12位代码'",
                    "community_id IS NULL",
                ),
            ),
            scoped_check=(
                "community_code",
                "'该采样点不在您负责的区县'",
                "county_code NOT IN (SELECT code FROM stg_scope) "
                "OR held_county NOT IN (SELECT code FROM stg_scope)",
            ),
            table="testing_testingsite",
            identity=(("code", "s.site_code"),),
            values=(
                ("name", "s.name"),
                ("community_id", "d.code"),
                ("address", "s.address"),
                ("kind", "s.kind"),
                ("status", "s.site_status"),
            ),
            file_identity=("site_code",),
            file_values=("name", "community_code", "address", "kind", "site_status"),
            insert=("site_code", "name", "community_id", "county_code", "address", "kind"),
            key="site_code",
            county="COALESCE(held_county, county_code)",
            supersedable=False,
        ),
        Spec(
            kind="cases",
            staging=(
                ("id_number", "text"),
                ("event", "text"),
                ("at", "ts"),
                ("clinical_type", "text"),
                ("found_by", "text"),
                ("community_code", "text"),
                CORRECTABLE,
            ),
            joins=(
                f"{PERSON} LEFT JOIN cases_case c ON c.person_id = p.id "
                "LEFT JOIN places_division d ON d.code = s.community_code AND d.level = 5"
            ),
            # `case_id` is NULL for people without a case yet: the steps open theirs and the
            # insert finds it by a join (merge._insert).
            resolved=(
                "p.id AS person_id, p.county_code AS person_county, "
                "p.community_id AS person_community, c.id AS case_id, s.event AS kind, "
                "d.code AS community_id, d.county_code AS community_county"
            ),
            checks=(
                ("id_number", "'未知人员:该身份证号尚未登记为居民'", "person_id IS NULL"),
                (
                    "community_code",
                    "'未知社区代码:应为长春市社区/村的12位代码'",
                    "community_code <> '' AND community_id IS NULL",
                ),
                (
                    "clinical_type",
                    "'确诊病例须填写临床分型'",
                    "event IN ('confirmed', 'reclassified') AND clinical_type = ''",
                ),
            ),
            scoped_check=(
                "id_number",
                "'该人员不在您负责的区县'",
                "person_county NOT IN (SELECT code FROM stg_scope)",
            ),
            table="cases_caseevent",
            identity=(("case_id", "c.id"), ("kind", "s.event"), ("at", "{at}")),
            values=(
                (
                    "clinical_type",
                    "CASE WHEN s.event IN ('confirmed', 'reclassified') "
                    "THEN s.clinical_type ELSE '' END",
                ),
            ),
            file_identity=("id_number", "event", "at"),
            file_values=("clinical_type",),
            insert=("case_id", "kind", "at", "clinical_type"),
            key="id_number",
            county="person_county",
            steps="fangkong.cases.importing.steps",
        ),
        Spec(
            kind="enterprises",
            staging=(
                ("uscc", "text"),
                ("name", "text"),
                ("county_code", "text"),
                ("community_code", "text"),
                ("address", "text"),
                ("industry", "text"),
                ("above_scale", "bool"),
                ("normal_staff", "int"),
                ("liaison_name", "text"),
                ("liaison_phone", "text"),
                ("instructor_name", "text"),
                ("instructor_phone", "text"),
                ("pcr_every_days", "int"),
                ("antigen_every_days", "int"),
                ("supplies_to", "text"),
                CORRECTABLE,
            ),
            joins=(
                "LEFT JOIN places_division cd ON cd.code = s.county_code AND cd.level = 3 "
                "AND cd.is_current "
                "LEFT JOIN places_division d ON d.code = s.community_code AND d.level = 5 "
                "LEFT JOIN enterprises_enterprise namesake ON namesake.name = s.name "
                "AND namesake.uscc <> s.uscc "
                "LEFT JOIN enterprises_enterprise customer ON customer.uscc = s.supplies_to"
            ),
            # The district an enterprise is in now (`held_county`) and would be in: a district
            # reviewer may neither move one out of their districts nor take one in.
            resolved=(
                "cd.code AS county_id, d.code AS community_id, d.county_code AS community_county, "
                "cd.is_development_zone AS county_is_zone, "
                "namesake.uscc AS namesake_uscc, namesake.name AS namesake_name, "
                "customer.id AS customer_id, f.county_code AS held_county, "
                "f.id AS enterprise_id"
            ),
            checks=(
                (
                    "county_code",
                    "'未知区县代码:应为长春市现行区县或开发区(220171–220174)的6位代码'",
                    "county_id IS NULL",
                ),
                (
                    "community_code",
                    "'未知社区代码:应为长春市社区/村的12位代码'",
                    "community_code <> '' AND community_id IS NULL",
                ),
                (
                    "community_code",
                    "'该社区不在所填区县(' || county_code || ')'",
                    # A development zone's communities keep their administrative county.
                    "community_id IS NOT NULL AND community_county <> county_code "
                    "AND NOT county_is_zone",
                ),
                (
                    "name",
                    "'企业名称已被另一企业使用:' || namesake_name || '(统一社会信用代码 ' "
                    "|| namesake_uscc || ')'",
                    "namesake_uscc IS NOT NULL",
                ),
                (
                    "supplies_to",
                    "'配套企业不能是本企业自身'",
                    "supplies_to = uscc",
                ),
            ),
            scoped_check=(
                "county_code",
                "'该企业不在您负责的区县'",
                "county_code NOT IN (SELECT code FROM stg_scope) "
                "OR held_county NOT IN (SELECT code FROM stg_scope)",
            ),
            own_check=(
                "uscc",
                NOT_OWN,
                "enterprise_id IS NULL OR enterprise_id NOT IN (SELECT id FROM stg_own)",
            ),
            table="enterprises_enterprise",
            identity=(("uscc", "s.uscc"),),
            values=(
                ("name", "s.name"),
                ("county_code", "s.county_code"),
                ("community_id", "d.code"),
                ("address", "s.address"),
                ("industry", "s.industry"),
                ("above_scale", "s.above_scale"),
                ("normal_staff", "s.normal_staff"),
                ("liaison_name", "s.liaison_name"),
                ("liaison_phone", "s.liaison_phone"),
                ("instructor_name", "s.instructor_name"),
                ("instructor_phone", "s.instructor_phone"),
                ("pcr_every_days", "s.pcr_every_days"),
                ("antigen_every_days", "s.antigen_every_days"),
            ),
            file_identity=("uscc",),
            file_values=(
                "name",
                "county_code",
                "community_code",
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
            ),
            insert=(),
            key="uscc",
            county="COALESCE(held_county, county_code)",
            supersedable=False,
            steps="fangkong.enterprises.importing.enterprise_steps",
            write="fangkong.enterprises.importing.write_enterprises",
        ),
        Spec(
            kind="employees",
            staging=(
                ("uscc", "text"),
                ("id_number", "text"),
                ("role", "text"),
                ("since", "ts"),
                CORRECTABLE,
            ),
            joins=f"{ENTERPRISE} {PERSON}",
            resolved=(
                "e.id AS enterprise_id, e.county_code AS enterprise_county, p.id AS person_id"
            ),
            checks=(
                UNKNOWN_ENTERPRISE,
                ("id_number", "'未知人员:该身份证号尚未登记为居民'", "person_id IS NULL"),
            ),
            scoped_check=(
                "uscc",
                "'该企业不在您负责的区县'",
                "enterprise_county NOT IN (SELECT code FROM stg_scope)",
            ),
            own_check=("uscc", NOT_OWN, "enterprise_id NOT IN (SELECT id FROM stg_own)"),
            table="enterprises_employee",
            identity=(("enterprise_id", "e.id"), ("person_id", "p.id")),
            values=(("role", "s.role"),),
            file_identity=("uscc", "id_number"),
            file_values=("role",),
            insert=(),
            key="id_number",
            county="enterprise_county",
            supersedable=False,
            write="fangkong.enterprises.importing.write_employees",
        ),
        Spec(
            kind="daily_reports",
            staging=(
                ("uscc", "text"),
                ("day", "date"),
                ("staff_on_duty", "int"),
                ("returning_staff", "int"),
                ("capacity_percent", "num"),
                ("closed_loop", "bool"),
                ("problems", "text"),
                CORRECTABLE,
            ),
            joins=ENTERPRISE,
            resolved="e.id AS enterprise_id, e.county_code AS enterprise_county",
            checks=(
                UNKNOWN_ENTERPRISE,
                (
                    "returning_staff",
                    "'返岗人数不能大于在岗人数(' || staff_on_duty || ')'",
                    "returning_staff > staff_on_duty",
                ),
            ),
            scoped_check=(
                "uscc",
                "'该企业不在您负责的区县'",
                "enterprise_county NOT IN (SELECT code FROM stg_scope)",
            ),
            own_check=("uscc", NOT_OWN, "enterprise_id NOT IN (SELECT id FROM stg_own)"),
            table="enterprises_dailyreport",
            identity=(("enterprise_id", "e.id"), ("day", "s.day")),
            values=(
                ("staff_on_duty", "s.staff_on_duty"),
                ("returning_staff", "s.returning_staff"),
                ("capacity_percent", "s.capacity_percent"),
                ("closed_loop", "s.closed_loop"),
                ("problems", "s.problems"),
            ),
            file_identity=("uscc", "day"),
            file_values=(
                "staff_on_duty",
                "returning_staff",
                "capacity_percent",
                "closed_loop",
                "problems",
            ),
            insert=(
                "enterprise_id",
                "day",
                "staff_on_duty",
                "returning_staff",
                "capacity_percent",
                "closed_loop",
                "problems",
            ),
            key="uscc",
            county="enterprise_county",
        ),
    )
}


NEW = "status IN ('new', 'correct')"
# The people whose codes new facts may change (one `person_id` column): the merge marks them
# pending in the transaction of the facts, and only they are re-evaluated.
TOUCHED = {
    "residents": "SELECT p.id AS person_id FROM people_person p WHERE p.id_number IN "  # noqa: S608
    f"(SELECT id_number FROM res WHERE {NEW})",
    "presence": f"SELECT DISTINCT person_id FROM res WHERE {NEW}",  # noqa: S608
    "designations": f"SELECT DISTINCT person_id FROM res WHERE {NEW}",  # noqa: S608
    "samplings": f"SELECT DISTINCT person_id FROM res WHERE {NEW}",  # noqa: S608
    # A case's events change no one's code (its contacts' designations do).
    "cases": "SELECT id AS person_id FROM people_person WHERE 1 = 0",
    # A site's details change no one's code.
    "sites": "SELECT id AS person_id FROM people_person WHERE 1 = 0",
    "results": "SELECT DISTINCT s.person_id FROM testing_sampling s WHERE s.tube_id IN "  # noqa: S608
    f"(SELECT tube_id FROM res WHERE {NEW})",
    # An enterprise, its staff and its reports change no one's code.
    "enterprises": "SELECT id AS person_id FROM people_person WHERE 1 = 0",
    "employees": "SELECT id AS person_id FROM people_person WHERE 1 = 0",
    "daily_reports": "SELECT id AS person_id FROM people_person WHERE 1 = 0",
}

# Merges that could decide on each other's facts take turns (fangkong.codes.locks.INGEST): the
# rules a merge checks against committed facts (a tube's pool size, one sampling per person and
# tube, one standing result per tube, the people a result reaches, a site closed before a
# sampling) span samplings, results and sites; residents, presence and designations each only
# against their own kind.
LOCK_GROUPS = {
    "samplings": 1,
    "results": 1,
    "sites": 1,
    "residents": 2,
    "presence": 3,
    "designations": 4,
    # What may follow what in a case is checked against its committed events.
    "cases": 5,
    # Staff and reports are checked against the registry (an enterprise must exist; a name is
    # one enterprise's): the three take turns.
    "enterprises": 6,
    "employees": 6,
    "daily_reports": 6,
}
