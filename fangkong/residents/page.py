"""What a resident's code page shows, read from stored state and never evaluated: the code the
clock keeps current (codes.PersonCode), the person's own samplings and results, their antigen
reports. docs/resident-page.md says how late it can be and why that is enough.

Residents open this page at a city's peak, so the reads are few and raw: one query for the
person, their code and their antigen tests, one for their samplings with their tubes' results
(the ORM would cost more than the queries themselves, as in codes.tokens.live_colour). Both go
through `read_connection()`: callers open `replica_reads()` around them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.utils.timezone import localtime

from fangkong.base.replica import read_connection
from fangkong.codes.tokens import CodeToken, sign_code_token
from fangkong.engine.id_numbers import mask, mask_name
from fangkong.engine.policies import COLOUR_LABELS, describe_clear
from fangkong.engine.testing_state import (
    PersonTestState,
    ResultFact,
    SamplingFact,
    derive_testing_state,
)
from fangkong.people.models import Person
from fangkong.policies.queries import published_policies
from fangkong.testing.models import Outcome

RECENCY_BADGES = (24, 48, 72)  # 24/48/72小时内核酸阴性
ANTIGEN_LABELS = dict(Outcome.choices)

_PERSON_SQL = """
SELECT p.name, p.id_number, c.colour, c.reasons, c.since,
  (SELECT MAX(a.tested_at) FROM testing_antigentest a WHERE a.person_id = p.id
     AND a.result = 'negative' AND a.tested_at <= %s AND a.recorded_at <= %s),
  (SELECT a.tested_at FROM testing_antigentest a WHERE a.person_id = p.id
     ORDER BY a.tested_at DESC, a.id DESC LIMIT 1),
  (SELECT a.result FROM testing_antigentest a WHERE a.person_id = p.id
     ORDER BY a.tested_at DESC, a.id DESC LIMIT 1),
  EXISTS (SELECT 1 FROM clearances_clearance k WHERE k.person_id = p.id)
FROM people_person p LEFT JOIN codes_personcode c ON c.person_id = p.id
WHERE p.id = %s
"""
# A sampling with the correction that replaced it (at most one: `sampling_corrected_once`) and
# every result of its tube, corrections included: the engine decides which result stands.
_TESTING_SQL = """
SELECT s.id, t.barcode, t.capacity, s.sampled_at, s.recorded_at,
  (SELECT c.id FROM testing_sampling c WHERE c.supersedes_id = s.id),
  (SELECT c.recorded_at FROM testing_sampling c WHERE c.supersedes_id = s.id),
  r.id, r.result, r.lab, r.reported_at, r.recorded_at, r.supersedes_id
FROM testing_sampling s
JOIN testing_tube t ON t.id = s.tube_id
LEFT JOIN testing_labresult r ON r.tube_id = s.tube_id
WHERE s.person_id = %s
"""


@dataclass(frozen=True)
class StoredReason:
    """A reason as the code's last evaluation stored it, with how it clears (from the policy)."""

    policy: str
    version: int
    colour: str
    title: str
    message: str
    since: datetime | None
    clears: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredCode:
    colour: str
    reasons: tuple[StoredReason, ...]
    since: datetime | None

    @property
    def label(self) -> str:
        return COLOUR_LABELS[self.colour]


@dataclass(frozen=True)
class LatestAntigen:
    tested_at: datetime
    result: str

    def get_result_display(self) -> str:
        return ANTIGEN_LABELS.get(self.result, self.result)


@dataclass(frozen=True)
class CodePage:
    person_id: int
    name: str  # masked
    id_number: str  # masked
    code: StoredCode
    testing: PersonTestState
    token: CodeToken
    latest_antigen: LatestAntigen | None
    has_clearances: bool  # requests made for them, listed on the page (most people have none)
    now: datetime

    @property
    def negative_within(self) -> int | None:
        """The smallest of 24/48/72 hours within which the person was sampled negative."""
        pcr = self.token.claims.get("pcr")
        if pcr is None:
            return None
        hours = (self.now.timestamp() - pcr) / 3600
        return next((h for h in RECENCY_BADGES if hours <= h), None)

    @property
    def latest_sampling_hours(self) -> int | None:
        latest = self.testing.latest_sampling
        if latest is None:
            return None
        return int((self.now - latest.sampling.sampled_at).total_seconds() // 3600)

    @property
    def refresh_seconds(self) -> int:
        """When the page asks for a new token: 30 s before this one expires, not sooner than
        15 s (a phone must not poll)."""
        return max(15, settings.CODE_TOKEN_TTL_SECONDS - 30)

    def as_json(self) -> dict:
        """What the page needs to renew its QR and colour (GET /r/code.json)."""
        claims = self.token.claims
        return {
            "token": self.token.token,
            "iat": claims["iat"],
            "exp": claims["exp"],
            "refresh_in": self.refresh_seconds,
            "colour": self.code.colour,
            "label": self.code.label,
            "since": localtime(self.code.since).isoformat() if self.code.since else None,
            "now": int(self.now.timestamp()),
            "name": self.name,
            "id_number": self.id_number,
            "negative_within": self.negative_within,
        }


def stored_page(person_id: int, now: datetime, *, with_clears: bool = True) -> CodePage | None:
    """The page of a person as stored (None: no such person). `with_clears` reads the published
    policies to say how each reason clears; the QR's renewal needs none of that."""
    row = _read_person(person_id, now)
    if row is None:
        return None
    name, id_number, colour, reasons, since, antigen_negative_at, antigen_at, antigen, asked = row
    code = StoredCode(
        colour or "green", _reasons(reasons, now if with_clears else None), _aware(since)
    )
    testing = _read_testing(person_id, now)
    return CodePage(
        person_id=person_id,
        name=mask_name(name),
        id_number=mask(id_number),
        code=code,
        testing=testing,
        token=sign_code_token(
            person_id, name, id_number, code.colour, testing, _aware(antigen_negative_at), now
        ),
        latest_antigen=LatestAntigen(_aware(antigen_at), antigen) if antigen_at else None,
        has_clearances=bool(asked),
        now=now,
    )


def code_page(person: Person, now: datetime) -> CodePage:
    """The page of a signed-in person (residents.appeals reads its reasons)."""
    page = stored_page(person.pk, now)
    assert page is not None  # the person was just read
    return page


def qr_token(person: Person, now: datetime) -> CodeToken:
    """A fresh token from the stored code, as the page's renewal issues it."""
    page = stored_page(person.pk, now, with_clears=False)
    assert page is not None
    return page.token


def _read_person(person_id: int, now: datetime) -> tuple | None:
    connection = read_connection()
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(_PERSON_SQL, [at, at, person_id])
        return cursor.fetchone()


def _read_testing(person_id: int, now: datetime) -> PersonTestState:
    samplings: dict[int, SamplingFact] = {}
    results: dict[int, ResultFact] = {}
    with read_connection().cursor() as cursor:
        cursor.execute(_TESTING_SQL, [person_id])
        rows = cursor.fetchall()
    for sid, tube, size, sampled, recorded, by, by_at, rid, *result in rows:
        samplings[sid] = SamplingFact(
            sid, tube, size, _aware(sampled), _aware(recorded), by, _aware(by_at)
        )
        if rid is not None:
            outcome, lab, reported, result_recorded, supersedes = result
            results[rid] = ResultFact(
                rid, tube, outcome, lab, _aware(reported), _aware(result_recorded), supersedes
            )
    return derive_testing_state(samplings.values(), results.values(), now)


def _reasons(stored, as_of: datetime | None) -> tuple[StoredReason, ...]:
    """The stored reasons, each with how it clears in the words of the policy in force (the
    evaluation that stored them may have been a batch one, which stores no explanations)."""
    if not stored:
        return ()
    if isinstance(stored, str):  # raw SQL gives JSON as text on both databases
        stored = json.loads(stored)
    policies = {p.id: p for p in published_policies(as_of)} if as_of else {}
    return tuple(
        StoredReason(
            policy=r["policy"],
            version=r["version"],
            colour=r["colour"],
            title=r["title"],
            message=r["message"],
            since=datetime.fromisoformat(r["since"]) if r.get("since") else None,
            clears=tuple(describe_clear(c) for c in policies[r["policy"]].clears)
            if r["policy"] in policies
            else (),
        )
        for r in stored
    )


def _aware(value) -> datetime | None:
    """SQLite gives raw datetimes in UTC, naive (a column) or as text (an expression);
    PostgreSQL gives them aware."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
