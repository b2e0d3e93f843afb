"""The gate log against the answers. The new code writes `checkpoints_gatescan` a few
milliseconds behind the answer (a spool per process, flushed in batches), so every count waits
until the log has settled: unchanged for a second.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter

import psycopg

SETTLE_SECONDS = 1.0


def gate_rows(url: str, scan_ids: list[str] | None = None) -> int:
    with psycopg.connect(url) as conn:
        if scan_ids is None:
            return conn.execute("SELECT count(*) FROM checkpoints_gatescan").fetchone()[0]
        return conn.execute(
            "SELECT count(*) FROM checkpoints_gatescan WHERE scan_id = ANY(%s)",
            [[uuid.UUID(s) for s in scan_ids]],
        ).fetchone()[0]


def settled_rows(url: str, timeout: float = 120) -> tuple[int, float]:
    """The row count once it has not moved for SETTLE_SECONDS, and how long that took."""
    start = time.monotonic()
    last, since = gate_rows(url), time.monotonic()
    while time.monotonic() - start < timeout:
        time.sleep(0.25)
        now = gate_rows(url)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= SETTLE_SECONDS:
            break
    return last, time.monotonic() - start


def rows_of_prefix(url: str, prefix: str) -> Counter:
    """Rows per scan id of one wrk run (its scan ids start with the run's random prefix)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT scan_id::text, count(*) FROM checkpoints_gatescan"
            " WHERE scan_id::text LIKE %s GROUP BY 1",
            [prefix + "-%"],
        ).fetchall()
    return Counter(dict(rows))


def exact_check(port: int, checkpoint: int, key: str, tokens: list[str], db_url: str, n):
    """`n` scans from 16 threads over keep-alive connections, then each scan id looked up;
    then 500 of them again (a device retrying), which must add nothing."""
    import http.client

    scan_ids = [str(uuid.uuid4()) for _ in range(n)]
    lock = threading.Lock()
    path = f"/api/checkpoints/{checkpoint}/verify"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}

    def send(chunk: list[int], results: list, flags: list) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, flagged = [], []
        for i in chunk:
            body = json.dumps({"token": tokens[i % len(tokens)], "scan_id": scan_ids[i]})
            conn.request("POST", path, body, {**headers, "X-Scan-Id": scan_ids[i]})
            response = conn.getresponse()
            payload = response.read()
            mine.append(response.status)
            if response.status == 200:
                flagged.append(json.loads(payload).get("recorded"))
        conn.close()
        with lock:
            results.extend(mine)
            flags.extend(flagged)

    def burst(indices: list[int]) -> tuple[list, list]:
        results: list = []
        flags: list = []
        threads = [
            threading.Thread(target=send, args=(indices[t::16], results, flags)) for t in range(16)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results, flags

    before, _ = settled_rows(db_url)
    statuses, recorded = burst(list(range(n)))
    after, settle_s = settled_rows(db_url)
    found = gate_rows(db_url, scan_ids)
    ok = statuses.count(200)
    repeat = list(range(min(n, 500)))
    again_statuses, again_recorded = burst(repeat)
    after_again, _ = settled_rows(db_url)
    return {
        "sent": n,
        "ok": ok,
        "recorded_true": sum(1 for r in recorded if r),
        "rows_added": after - before,
        "settle_s": settle_s,
        "scan_ids_found": found,
        "exact": ok == n and after - before == n and found == n,
        "recorded_flags_right": all(recorded) and not any(again_recorded),
        "resent": len(repeat),
        "resent_ok": again_statuses.count(200),
        "resent_recorded": sum(1 for r in again_recorded if r),
        "rows_added_by_resend": after_again - after,
        "idempotent": after_again == after,
    }


def exact_text(e: dict) -> str:
    return (
        f"exact: {e['sent']:,} scans, {e['ok']:,} × 200, {e['rows_added']:,} rows added "
        f"(settled in {e['settle_s']:.1f} s), {e['scan_ids_found']:,} scan ids found — "
        f"{'exact' if e['exact'] else 'NOT exact'}; resent {e['resent']}: "
        f"{e['rows_added_by_resend']} rows — "
        f"{'idempotent' if e['idempotent'] else 'NOT idempotent'}"
        f"; `recorded` flags {'right' if e['recorded_flags_right'] else 'not as expected'}"
    )


def reconcile(access: list[tuple[float, int, str | None]], rows: Counter) -> dict:
    """Every 2xx verify in nginx's access log against the gate log: each scan id with a 2xx
    must have exactly one row; a row without a 2xx is explained only by a 499 (wrk closed the
    connection at the end of the run while the app answered)."""
    by_status: dict[str, int] = {}
    for _, status, scan in access:
        if scan:
            by_status[scan] = status
    served = {s for s, status in by_status.items() if 200 <= status < 300}
    lost = [s for s in served if rows.get(s, 0) == 0]
    doubled = [s for s, c in rows.items() if c > 1]
    without = [s for s in rows if s not in served]
    unexplained = [s for s in without if by_status.get(s) != 499]
    return {
        "served_2xx": len(served),
        "rows": sum(rows.values()),
        "lost": len(lost),
        "doubled": len(doubled),
        "rows_without_2xx": len(without),
        "rows_without_2xx_unexplained": len(unexplained),
        "examples": {"lost": lost[:5], "unexplained": unexplained[:5]},
        "exact": not lost and not doubled and not unexplained,
    }
