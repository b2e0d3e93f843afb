"""Reads that may go to a PostgreSQL read replica (docs/scaling.md).

The resident page and checkpoint verification read a handful of rows by primary key and can
live with a replica's lag (milliseconds to seconds); nothing else should, because a page that
has just written must read what it wrote. So the router sends reads to the replica only inside
`replica_reads()`, which those two paths open; everywhere else it has no opinion and Django uses
`default`. Without FANGKONG_REPLICA_DATABASE_URL there is no `replica` alias and nothing changes.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections

REPLICA = "replica"
_on_replica: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "fangkong_replica_reads", default=False
)


@contextmanager
def replica_reads() -> Iterator[None]:
    token = _on_replica.set(True)
    try:
        yield
    finally:
        _on_replica.reset(token)


def read_alias() -> str:
    """The database alias a read of the page or the verifier goes to right now."""
    if _on_replica.get() and REPLICA in settings.DATABASES:
        return REPLICA
    return "default"


def read_connection():
    """For raw SQL reads (the ORM goes through the router by itself)."""
    return connections[read_alias()]


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        alias = read_alias()
        return alias if alias == REPLICA else None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database and its copy

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA  # the replica follows the primary's schema by replication
