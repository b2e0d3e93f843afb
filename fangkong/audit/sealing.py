"""Sealing code changes into the audit chain (赋码变更存证).

A publication or a recompute can change millions of codes at once; one chain entry per change
would make the chain the bottleneck. Instead each write of code changes appends one entry
("code.change") carrying how many rows it wrote and their *seal*: the sum, modulo 2^256, of the
SHA-256 of each (person, old colour, new colour, county, reasons shown). A sum does not depend
on order, and entries sharing a moment, cause and detail simply add up, so
`codes.seals.verify_code_changes` can recompute the seals from the CodeChange table in one
pass and name the group where a row was edited, deleted or slipped in without an entry.
Changes written before sealing existed were sealed once by the migration audit 0002 (entries
marked "backfill").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime

ACTION = "code.change"
MODULUS = 1 << 256


def _term(person_id: int, old: str, new: str, county: str, reasons) -> int:
    # Reasons as canonical JSON: PostgreSQL's jsonb gives keys back in its own order.
    text = json.dumps(reasons, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    body = f"{person_id}|{old}|{new}|{county}|{text}".encode()
    return int.from_bytes(hashlib.sha256(body).digest(), "big")


def seal(rows: Iterable[tuple[int, str, str, str, list]]) -> tuple[int, str]:
    """(count, seal as 64 hex digits) of (person id, old colour, new colour, county, reasons)."""
    count, total = 0, 0
    for row in rows:
        count += 1
        total = (total + _term(*row)) % MODULUS
    return count, f"{total:064x}"


def sealed_groups(changes) -> dict[str, list[int]]:
    """{group key: [count, seal sum]} of CodeChange rows (a queryset, or its historical model's)."""
    found: dict[str, list[int]] = {}
    rows = changes.values_list(
        "at",
        "cause",
        "cause_detail",
        "person_id",
        "old_colour",
        "new_colour",
        "county_code",
        "reasons",
    ).order_by()
    for at, cause, detail, *row in rows.iterator(chunk_size=5000):
        entry = found.setdefault(group_key(at, cause, detail), [0, 0])
        entry[0] += 1
        entry[1] = (entry[1] + _term(*row)) % MODULUS
    return found


def group_key(at: datetime, cause: str, detail: str) -> str:
    return f"{at.astimezone(UTC).isoformat(timespec='microseconds')}|{cause}|{detail}"


# -- single records ----------------------------------------------------------------------------
#
# A record that changes a colour or a decision and is written one at a time (a policy version, an
# exemption) is sealed on its own: the audit entry of the action that wrote it carries the
# digest of the row as written ("seal"), and the check recomputes it from the table.


def _canonical(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    raise TypeError(f"cannot seal {type(value).__name__}")


def row_seal(*values) -> str:
    """SHA-256 (hex) of the values as canonical JSON: dict keys sorted, times in UTC to the
    microsecond, so the same row read back from either database seals the same."""
    text = json.dumps(
        list(values), ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_canonical
    )
    return hashlib.sha256(text.encode()).hexdigest()
