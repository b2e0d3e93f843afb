"""The case-specific steps of `fangkong ingest cases` (fangkong.ingest.merge, through
`specs.SPECS["cases"].steps`): the same rules as staff entry (`actions.do_record_event`) for the
rows the merge found new, then the cases of people who have none are opened so their events can
go in. Runs inside the merge's transaction, over its `res` table."""

from __future__ import annotations

from datetime import UTC, datetime

from fangkong.cases import figures as rules
from fangkong.cases.models import Case, CaseEvent
from fangkong.cases.queries import events


def _moment(value) -> datetime:
    """A time from `res`: PostgreSQL hands back an aware datetime, SQLite Django's naive UTC
    text."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def steps(cur, *, now: datetime, user_id: int | None, db_now) -> list[tuple[int, str, str, str]]:
    """Refuse the new rows that staff entry would refuse, in time order per person against the
    case's standing events and the file's earlier rows; open a case for each person whose rows
    remain and who has none; set where a case was found at its first classification. Returns
    the refused rows as (row, field, value, reason)."""
    cur.execute(
        "UPDATE res SET clinical_type = '' WHERE event NOT IN ('confirmed', 'reclassified')"
    )
    cur.execute(
        "SELECT rn, person_id, case_id, event, at, found_by, "
        "COALESCE(community_id, person_community), COALESCE(community_county, person_county) "
        "FROM res WHERE status = 'new' ORDER BY person_id, at, rn"
    )
    rows = sorted(
        ((rn, person, case, kind, _moment(at), *rest) for rn, person, case, kind, at, *rest in cur),
        key=lambda r: (r[1], r[4], r[0]),
    )
    if not rows:
        return []
    case_ids = sorted({r[2] for r in rows if r[2] is not None})
    # Staff entry locks the case it records on (PostgreSQL; SQLite writers take turns anyway).
    found_by = dict(
        Case.objects.select_for_update().filter(pk__in=case_ids).values_list("pk", "found_by")
    )
    held: dict[int, list[rules.Event]] = {}
    for event in events(None, now, case_ids):
        held.setdefault(event.case, []).append(event)
    refused: list[tuple[int, str, str, str]] = []
    found_now: dict[int, str] = {}  # existing case -> where it was found, first said now
    opened: dict[int, list[str]] = {}  # person -> [community, county, found_by] of a new case
    known: dict[int, list[rules.Event]] = {}  # person -> their case's events, the file's too
    for rn, person, case_id, kind, at, row_found_by, community, county in rows:
        history = known.setdefault(person, list(held.get(case_id, ())))
        found = found_by.get(case_id, "") if case_id else opened.get(person, ["", "", ""])[2]
        reason, field, value = "", "event", kind
        if at > now:
            reason, field, value = "事件时间晚于当前时间", "at", at.isoformat()
        else:
            reason = rules.allowed(rules.course(rules.standing(history, now)), kind)
        if not reason and kind in rules.CLASSIFYING and not found and not row_found_by:
            reason, field, value = "首次分类须填写发现途径", "found_by", ""
        if reason:
            refused.append((rn, field, value, reason))
            continue
        history.append(rules.Event(-rn, case_id or 0, kind, at, now))
        first_finding = kind in rules.CLASSIFYING and not found
        if case_id is None:
            opened.setdefault(person, [community, county, ""])
            if first_finding:
                opened[person][2] = row_found_by
        elif first_finding:
            found_by[case_id] = row_found_by
            found_now[case_id] = row_found_by
    if opened:
        cur.executemany(
            "INSERT INTO cases_case (person_id, community_id, county_code, found_by, opened_at, "
            "opened_by_id) VALUES (%s, %s, %s, %s, %s, %s)",
            [(p, c, county, f, db_now, user_id) for p, (c, county, f) in opened.items()],
        )
    if found_now:
        cur.executemany(
            "UPDATE cases_case SET found_by = %s WHERE id = %s AND found_by = ''",
            [(f, case_id) for case_id, f in found_now.items()],
        )
    return refused


def describe(ids: list[int]) -> dict[int, dict]:
    """What we hold for the case events a flagged row conflicts with (fangkong.ingest.current)."""
    return {
        e.id: {
            "病例事件": e.get_kind_display(),
            "时间": e.at.isoformat(),
            "临床分型": e.get_clinical_type_display(),
        }
        for e in CaseEvent.objects.filter(id__in=ids)
    }
