"""Facts from the database as of T for the eligibility rules (fangkong.engine.zone_rules).

Per community (and per town/street, aggregating its communities), as known at T:
- residents: people registered by T whose home at T is the community — the current record,
  except for people whose record a correction recorded after T changed (a `PersonRevision`
  valid until after T holds what it said then, as in fangkong.codes.loading);
- positives: per resident, the first single-tube sampling whose standing result at T is positive
  (the case's day is its sampling day; it is known from when both its sampling and its result
  were recorded);
- contacts: close/secondary contacts (and space-time companions) among the residents, from the
  designations recorded by T and not replaced by a correction recorded by T;
- screening: per rule window, how many residents were sampled in it, negative, awaiting a
  single-tube retest, positive, or pending (engine.zone_rules.resident_status);
- levels: the `places.CommunityZone` rows recorded by T; labels: the 无疫 label standing at T.

Aggregates are computed by the database per community, not per person in Python: a handful of
grouped queries whatever the size of the city. Only the few people whose residence was corrected
after T are read one by one, and moved to where they lived at T.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from django.db import connection
from django.db.models import Q

from fangkong.codes.loading import as_datetime, fetch_ints, micros_sql, select_sql
from fangkong.engine.policies import DESIGNATION_KINDS, PolicyError
from fangkong.engine.zone_rules import (
    COMMUNITY,
    LABEL_NAMES,
    TOWN,
    AreaFacts,
    Assessment,
    Contact,
    Positive,
    RuleSet,
    Screening,
    ZoneFact,
    ZoneRuleError,
    assess,
    check_rule_sets,
    parse_rule_set,
    window_start,
)
from fangkong.places.models import CommunityZone, Division, Level
from fangkong.policies.source import decode, read_source

RULES_DIR = Path(__file__).resolve().parent / "rules"
# Resident screening states as the queries number them.
_NEGATIVE, _POSITIVE, _AWAITING, _PENDING = 0, 1, 2, 3
_KINDS = {kind: i for i, kind in enumerate(DESIGNATION_KINDS)}


def read_rule_set(raw: bytes, name: str = "") -> RuleSet:
    """One rule file (TOML or JSON); problems prefixed with the file's name."""
    try:
        return parse_rule_set(read_source(decode(raw)))
    except PolicyError as exc:
        where = f"{name}: " if name else ""
        raise ZoneRuleError([f"{where}{p}" for p in exc.problems]) from exc


def load_rule_sets(directory: Path = RULES_DIR) -> tuple[RuleSet, ...]:
    """Every `*.toml` of the directory, in name order, checked to go together."""
    rule_sets = tuple(
        read_rule_set(path.read_bytes(), path.name) for path in sorted(directory.glob("*.toml"))
    )
    check_rule_sets(rule_sets)
    return rule_sets


def _param(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


# -- residence at T ------------------------------------------------------------------------------


def _movers(now: datetime) -> dict[int, str]:
    """People registered by T whose record was corrected after T: person → community at T."""
    rows = fetch_ints(
        "SELECT "  # noqa: S608
        + select_sql("r.person_id", "CAST(r.community_code AS bigint)", micros_sql("r.valid_until"))
        + " FROM people_personrevision r JOIN people_person p ON p.id = r.person_id"
        " WHERE r.valid_until > %s AND p.recorded_at <= %s",
        3,
        (_param(now), _param(now)),
    )
    earliest: dict[int, tuple[int, int]] = {}
    for person, community, until in rows.tolist():
        if person not in earliest or until < earliest[person][0]:
            earliest[person] = (until, community)
    return {person: f"{community:012d}" for person, (_, community) in earliest.items()}


def _not_movers(movers: dict[int, str], column: str) -> str:
    if not movers:
        return ""
    return f" AND {column} NOT IN ({','.join(str(int(p)) for p in movers)})"


def _only(movers: dict[int, str], column: str) -> str:
    return f" AND {column} IN ({','.join(str(int(p)) for p in movers) or 'NULL'})"


def _residents(now: datetime, movers: dict[int, str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    rows = fetch_ints(
        "SELECT "  # noqa: S608
        + select_sql("CAST(p.community_id AS bigint)", "COUNT(*)")
        + " FROM people_person p WHERE p.recorded_at <= %s"
        + _not_movers(movers, "p.id")
        + " GROUP BY p.community_id",
        2,
        (_param(now),),
    )
    for community, n in rows.tolist():
        counts[f"{community:012d}"] += n
    for community in movers.values():
        counts[community] += 1
    return counts


# -- screening -----------------------------------------------------------------------------------


def _screening_sql(where_people: str) -> str:
    """Per resident sampled in [%s window start, %s T], their state (see resident_status)."""
    standing_result = (
        "r.recorded_at <= %(t)s AND NOT EXISTS (SELECT 1 FROM testing_labresult c"
        " WHERE c.supersedes_id = r.id AND c.recorded_at <= %(t)s)"
    )
    # Only constants and integer ids are interpolated into these queries.
    per_person = (
        "SELECT s.person_id AS person,"  # noqa: S608
        " MAX(CASE WHEN t.capacity = 1 AND r.result = 'positive' THEN 1 ELSE 0 END) AS single_pos,"
        " MAX(CASE WHEN t.capacity > 1 AND r.result = 'positive' THEN s.sampled_at END)"
        " AS last_pool_pos,"
        " MAX(CASE WHEN t.capacity = 1 AND r.result = 'negative' THEN s.sampled_at END)"
        " AS last_single_neg,"
        " MAX(CASE WHEN r.result = 'negative' THEN 1 ELSE 0 END) AS any_neg"
        " FROM testing_sampling s JOIN testing_tube t ON t.id = s.tube_id"
        f" LEFT JOIN testing_labresult r ON r.tube_id = s.tube_id AND {standing_result}"
        " WHERE s.sampled_at >= %(w)s AND s.sampled_at <= %(t)s AND s.recorded_at <= %(t)s"
        " AND NOT EXISTS (SELECT 1 FROM testing_sampling c"
        " WHERE c.supersedes_id = s.id AND c.recorded_at <= %(t)s)"
        f"{where_people} GROUP BY s.person_id"
    )
    state = (
        f"CASE WHEN x.single_pos = 1 THEN {_POSITIVE}"
        " WHEN x.last_pool_pos IS NOT NULL AND (x.last_single_neg IS NULL"
        f" OR x.last_single_neg <= x.last_pool_pos) THEN {_AWAITING}"
        f" WHEN x.any_neg = 1 THEN {_NEGATIVE} ELSE {_PENDING} END"
    )
    return (
        f"SELECT x.person AS c0, CAST(p.community_id AS bigint) AS c1, {state} AS c2"  # noqa: S608
        f" FROM ({per_person}) x JOIN people_person p ON p.id = x.person"
        " WHERE p.recorded_at <= %(t)s"
    )


def _screenings(
    now: datetime, days: int, movers: dict[int, str], residents: dict[str, int]
) -> dict[str, Screening]:
    params = {"t": _param(now), "w": _param(window_start(now, days))}
    grouped = (
        "SELECT q.c1, q.c2, COUNT(*) FROM ("  # noqa: S608
        + _screening_sql(_not_movers(movers, "s.person_id"))
        + ") q GROUP BY q.c1, q.c2"
    )
    with connection.cursor() as cursor:
        cursor.execute(grouped, params)
        rows = [(f"{int(c):012d}", state, n) for c, state, n in cursor.fetchall()]
        if movers:
            cursor.execute(_screening_sql(_only(movers, "s.person_id")), params)
            rows += [(movers[person], state, 1) for person, _, state in cursor.fetchall()]
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for community, state, n in rows:
        counts[community][state] += n
    return {
        community: Screening(
            days=days,
            residents=total,
            sampled=sum(counts[community]),
            negative=counts[community][_NEGATIVE],
            awaiting_retest=counts[community][_AWAITING],
            positive=counts[community][_POSITIVE],
        )
        for community, total in residents.items()
    }


# -- positives and contacts ----------------------------------------------------------------------


def _positives(now: datetime, movers: dict[int, str]) -> dict[str, list[Positive]]:
    known = "CASE WHEN r.recorded_at > s.recorded_at THEN r.recorded_at ELSE s.recorded_at END"
    rows = fetch_ints(
        "SELECT "  # noqa: S608
        + select_sql(
            "s.person_id",
            "CAST(p.community_id AS bigint)",
            micros_sql("MIN(s.sampled_at)"),
            micros_sql(f"MIN({known})"),
        )
        + " FROM testing_labresult r JOIN testing_tube t ON t.id = r.tube_id"
        " JOIN testing_sampling s ON s.tube_id = r.tube_id"
        " JOIN people_person p ON p.id = s.person_id"
        " WHERE r.result = 'positive' AND t.capacity = 1 AND r.recorded_at <= %s"
        " AND NOT EXISTS (SELECT 1 FROM testing_labresult c"
        " WHERE c.supersedes_id = r.id AND c.recorded_at <= %s)"
        " AND s.recorded_at <= %s AND s.sampled_at <= %s AND NOT EXISTS"
        " (SELECT 1 FROM testing_sampling c WHERE c.supersedes_id = s.id AND c.recorded_at <= %s)"
        " AND p.recorded_at <= %s GROUP BY s.person_id, p.community_id",
        4,
        tuple(_param(now) for _ in range(6)),
    )
    out: dict[str, list[Positive]] = defaultdict(list)
    for person, community, sampled, known_at in rows.tolist():
        home = movers.get(person, f"{community:012d}")
        out[home].append(Positive(as_datetime(sampled), as_datetime(known_at)))
    return out


def _contacts(now: datetime, movers: dict[int, str]) -> dict[str, list[Contact]]:
    """Designations of residents standing at T, one row per (community, kind, isolated or not)
    weighted by how many it stands for: the latest exposure and the latest release of each."""
    params = {"t": _param(now)}
    kind = "CASE d.kind " + " ".join(f"WHEN '{k}' THEN {i}" for k, i in _KINDS.items()) + " END"
    isolated = "CASE WHEN d.end_at IS NULL OR d.end_at > %(t)s THEN 1 ELSE 0 END"
    standing = (
        " FROM people_designation d JOIN people_person p ON p.id = d.person_id"
        " WHERE d.recorded_at <= %(t)s AND d.start_at <= %(t)s AND p.recorded_at <= %(t)s"
        " AND NOT EXISTS (SELECT 1 FROM people_designation c"
        " WHERE c.supersedes_id = d.id AND c.recorded_at <= %(t)s)"
    )
    never = "9223372036854775807"
    grouped = fetch_ints(
        "SELECT "  # noqa: S608
        + select_sql(
            "CAST(p.community_id AS bigint)",
            kind,
            isolated,
            "COUNT(*)",
            micros_sql("MAX(d.start_at)"),
            f"COALESCE({micros_sql('MAX(d.end_at)')}, {never})",
        )
        + standing
        + _not_movers(movers, "p.id")
        + f" GROUP BY p.community_id, {kind}, {isolated}",
        6,
        params,
    )
    rows = grouped.tolist()
    if movers:
        single = fetch_ints(
            "SELECT "  # noqa: S608
            + select_sql(
                "p.id",
                kind,
                isolated,
                "1",
                micros_sql("d.start_at"),
                f"COALESCE({micros_sql('d.end_at')}, {never})",
            )
            + standing
            + _only(movers, "p.id"),
            6,
            params,
        )
        rows += [[int(movers[r[0]]), *r[1:]] for r in single.tolist()]
    kinds = {i: k for k, i in _KINDS.items()}
    out: dict[str, list[Contact]] = defaultdict(list)
    for community, k, _, n, start, end in rows:
        end_at = as_datetime(end)
        out[f"{community:012d}"].append(Contact(kinds[k], as_datetime(start), end_at, now, count=n))
    return out


# -- levels and labels ---------------------------------------------------------------------------


def _zones(now: datetime) -> dict[str, list[ZoneFact]]:
    out: dict[str, list[ZoneFact]] = defaultdict(list)
    rows = CommunityZone.objects.filter(recorded_at__lte=now).values_list(
        "community_id", "level", "start_at", "recorded_at", "end_at"
    )
    for community, level, start, recorded, end in rows.iterator(chunk_size=5000):
        out[community].append(ZoneFact(level, start, recorded, end))
    return out


def _labels(now: datetime) -> dict[str, datetime]:
    """Division → when its 无疫 label standing at T was granted (as known at T)."""
    from fangkong.zones.models import EpidemicFreeLabel

    withdrawn_by_then = Q(withdrawn_at__lte=now, withdrawn_recorded_at__lte=now)
    rows = (
        EpidemicFreeLabel.objects.filter(granted_at__lte=now, batch__recorded_at__lte=now)
        .exclude(withdrawn_by_then)
        .values_list("division_id", "granted_at")
    )
    return dict(rows)


# -- putting it together -------------------------------------------------------------------------


def gather(
    now: datetime, rule_sets: Iterable[RuleSet], counties: Iterable[str] | None = None
) -> list[AreaFacts]:
    """The facts of every current community and town (of `counties`, if given) as of `now`."""
    divisions = Division.objects.filter(
        level__in=(Level.COMMUNITY, Level.STREET), is_current=True
    ).order_by("code")
    if counties is not None:
        divisions = divisions.filter(county_code__in=sorted(set(counties)))
    divisions = list(divisions.values_list("code", "name", "level", "county_code", "parent_id"))
    days = sorted(
        {
            criteria.screening_days
            for rules in rule_sets
            for criteria in (
                *(r.criteria for r in rules.releases),
                *([rules.epidemic_free.criteria] if rules.epidemic_free else []),
            )
            if criteria.screening_days is not None
        }
    )
    movers = _movers(now)
    residents = _residents(now, movers)
    screenings = {d: _screenings(now, d, movers, residents) for d in days}
    positives = _positives(now, movers)
    contacts = _contacts(now, movers)
    zones = _zones(now)
    labels = _labels(now)
    communities: dict[str, AreaFacts] = {}
    by_town: dict[str, list[AreaFacts]] = defaultdict(list)
    for code, name, level, county, parent in divisions:
        if level != Level.COMMUNITY:
            continue
        area = AreaFacts(
            code=code,
            name=name,
            county=county,
            kind=COMMUNITY,
            zones=tuple(zones.get(code, ())),
            positives=tuple(positives.get(code, ())),
            contacts=tuple(contacts.get(code, ())),
            screenings=tuple(
                screenings[d].get(code) or Screening(d, residents.get(code, 0), 0, 0) for d in days
            ),
            labelled_since=labels.get(code),
        )
        communities[code] = area
        by_town[parent].append(area)
    out = []
    for code, name, level, county, _ in divisions:
        if level == Level.COMMUNITY:
            out.append(communities[code])
            continue
        members = by_town.get(code, [])
        out.append(
            AreaFacts(
                code=code,
                name=name,
                county=county,
                kind=TOWN,
                positives=tuple(p for m in members for p in m.positives),
                contacts=tuple(c for m in members for c in m.contacts),
                screenings=tuple(
                    _sum(d, [m.screenings[i] for m in members]) for i, d in enumerate(days)
                ),
                labelled_since=labels.get(code),
            )
        )
    return out


def _sum(days: int, parts: list[Screening]) -> Screening:
    return Screening(
        days=days,
        residents=sum(s.residents for s in parts),
        sampled=sum(s.sampled for s in parts),
        negative=sum(s.negative for s in parts),
        awaiting_retest=sum(s.awaiting_retest for s in parts),
        positive=sum(s.positive for s in parts),
    )


def assess_areas(
    now: datetime,
    counties: Iterable[str] | None = None,
    rule_sets: tuple[RuleSet, ...] | None = None,
) -> list[Assessment]:
    """Every community and town (of `counties`) assessed as of `now` by the shipped rules.

    The 防范区 rule looks at the whole county, so a county is always assessed whole."""
    rule_sets = load_rule_sets() if rule_sets is None else rule_sets
    return assess(rule_sets, gather(now, rule_sets, counties), now)


def check_batch(kind: str, divisions: list[Division], at: datetime) -> dict[str, str]:
    """The publication hook of fangkong.zones.epidemic_free: {code: why it does not qualify}
    for the divisions not eligible at `at` for the label of `kind` (community or town)."""
    rule_sets = load_rule_sets()
    if not any(r.epidemic_free for r in rule_sets):
        return {}
    wanted = {d.code for d in divisions}
    found = {
        a.code: a
        for a in assess_areas(at, {d.county_code for d in divisions}, rule_sets)
        if a.code in wanted
    }
    refused = {}
    for division in divisions:
        assessment = found.get(division.code)
        award = assessment.finding("award") if assessment else None
        if award is None:
            if assessment is None or assessment.finding("withdraw") is None:
                refused[division.code] = f"规则未规定{LABEL_NAMES[kind]}的条件"
            continue
        if not award.due:
            refused[division.code] = ";".join(award.reasons)
    return refused
