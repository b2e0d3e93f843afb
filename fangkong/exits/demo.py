"""Demo data for exit passes: the city's default rules, and households for everyone."""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from fangkong.exits.actions import load_default_rules
from fangkong.exits.models import ExitRuleSet

# Households of 1, 2, 3 and 4 people in turn (2.5 on average; 长春 2020: 2.47 per household):
# each block of ten neighbours (by person number, within a community) makes four households.
_HOUSEHOLD_SQL = """
UPDATE people_person SET household = h.key
FROM (
    SELECT id, community_id || '-' || CAST(
        ((n - 1) / 10) * 4
        + CASE WHEN (n - 1) % 10 < 1 THEN 0 WHEN (n - 1) % 10 < 3 THEN 1
               WHEN (n - 1) % 10 < 6 THEN 2 ELSE 3 END
        + 1 AS TEXT) AS key
    FROM (
        SELECT id, community_id,
               row_number() OVER (PARTITION BY community_id ORDER BY id) AS n
        FROM people_person
    ) numbered
) h
WHERE people_person.id = h.id AND people_person.household <> h.key
"""


def assign_households() -> int:
    """Give every resident a 户号 "<community code>-<n>": neighbours by person number share a
    household, 1–4 people each. One UPDATE (SQLite ≥ 3.33 and PostgreSQL); running it again
    changes nothing. Returns the number of people updated."""
    with connection.cursor() as cursor:
        cursor.execute(_HOUSEHOLD_SQL)
        return cursor.rowcount


def seed_exits(now: datetime) -> ExitRuleSet:
    """The city default exit rules (fixtures/default_rules.toml), and households."""
    rules = load_default_rules(now)
    assign_households()
    return rules
