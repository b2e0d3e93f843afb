"""The health-code token a resident shows as a QR (docs/tokens.md): live colour, masked identity
and the test-recency facts checkpoints need, signed with the city's current key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from fangkong.codes.models import PersonCode
from fangkong.engine import tokens
from fangkong.engine.gate_rules import testing_claims
from fangkong.engine.id_numbers import mask, mask_name
from fangkong.engine.testing_state import PersonTestState
from fangkong.people.models import Person
from fangkong.signing import keys
from fangkong.testing.models import AntigenTest


@dataclass(frozen=True)
class CodeToken:
    token: str
    claims: dict
    expires_at: datetime


def live_colour(person_id: int) -> str:
    """The stored colour (no row: green). One raw SELECT: checkpoints ask this on every scan,
    and the ORM's query building costs several times the query itself (bench/RESULTS.md)."""
    table = connection.ops.quote_name(PersonCode._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT colour FROM {table} WHERE person_id = %s", [person_id])  # noqa: S608
        row = cursor.fetchone()
    return row[0] if row else "green"


def latest_negative_antigen(person_id: int, now: datetime) -> datetime | None:
    return (
        AntigenTest.objects.filter(
            person_id=person_id, result="negative", tested_at__lte=now, recorded_at__lte=now
        )
        .order_by("-tested_at")
        .values_list("tested_at", flat=True)
        .first()
    )


def issue_code_token(
    person: Person, colour: str, testing: PersonTestState, now: datetime
) -> CodeToken:
    antigen = latest_negative_antigen(person.pk, now)
    return sign_code_token(person.pk, person.name, person.id_number, colour, testing, antigen, now)


def sign_code_token(
    person_id: int,
    name: str,
    id_number: str,
    colour: str,
    testing: PersonTestState,
    antigen_negative_at: datetime | None,
    now: datetime,
) -> CodeToken:
    """The same token, for a caller that read the person and their latest negative antigen
    test itself (the resident page reads them in one query with the stored code)."""
    ttl = settings.CODE_TOKEN_TTL_SECONDS
    claims = {
        "v": 1,
        "sub": keys.person_ref(person_id),
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + ttl,
        "col": colour,
        "nm": mask_name(name),
        "idm": mask(id_number),
        **testing_claims(testing, antigen_negative_at),
    }
    token = keys.issue(tokens.CODE, claims, now)
    return CodeToken(token, claims, now + timedelta(seconds=ttl))
