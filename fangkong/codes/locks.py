"""The locks that make concurrent writers take turns where reading committed state and then
writing must be one step.

PostgreSQL: advisory locks, two-key form (namespace, key); the audit chain's head has the
single-key lock 7347001 (fangkong.audit.actions), a separate key space. SQLite needs none: its
transactions take the database's write lock at BEGIN (settings: `transaction_mode`
IMMEDIATE), so writers already run one at a time.

Order, to rule out deadlocks: a merge's lock, then the codes lock, the audit chain's last (an
audit entry is written at the end of its transaction). Never evaluate codes in a transaction
that has already written an audit entry.
"""

from __future__ import annotations

from django.db import connection

INGEST = 7347002  # key: the kind's lock group (fangkong.ingest.specs.LOCK_GROUPS)
CODES = 7347003  # key 0: evaluating and writing codes
BATCH = 7347004  # key: a batch id; a session lock its loader holds while it lives


def hold(namespace: int, key: int = 0) -> None:
    """Take the lock until the current transaction ends (commit or rollback)."""
    if connection.vendor != "postgresql":
        return
    assert connection.in_atomic_block, "a transaction-level lock needs a transaction"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace, key])
