"""Whether the process loading a batch still lives.

A batch that is not finished is either being loaded or was left by a process that died
(SIGKILL, out of memory, a lost machine). Telling them apart:

- PostgreSQL: the loader holds a session advisory lock on its batch (fangkong.codes.locks.BATCH)
  from the moment the batch row is visible until it is finished. The server drops the lock when
  the process's connection goes, so a batch whose lock is free has no live loader, on any node.
- SQLite (one machine): the batch names its loader, "host:pid"; the batch is dead when that
  process no longer exists on this host. A batch named by another host is taken as live.
"""

from __future__ import annotations

import os
import socket

from django.db import connection

from fangkong.codes.locks import BATCH

_KEY = 0x7FFFFFFF  # advisory lock keys are 32-bit; batch ids wrap (a collision only delays)


def worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def hold(batch_id: int) -> None:
    """Call in the transaction that creates the batch: the lock is held before anyone sees it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [BATCH, batch_id & _KEY])


def release(batch_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [BATCH, batch_id & _KEY])


def without_loader(batches) -> list:
    """The batches (unfinished ones) whose loading process is gone."""
    batches = list(batches)
    if not batches:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
                "AND objsubid = 2 AND granted",
                [BATCH],
            )
            held = {int(row[0]) for row in cursor.fetchall()}
        return [b for b in batches if b.pk & _KEY not in held]
    return [b for b in batches if not _process_lives(b.worker)]


def _process_lives(name: str) -> bool:
    host, _, pid = name.rpartition(":")
    if not pid.isdigit():
        return False  # loaded before loaders were named: long gone
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
