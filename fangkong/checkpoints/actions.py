"""Verifying a code at a checkpoint and keeping the gate log (一人一档).

A scan is recorded exactly once, keyed by the scan id the device chose: a retried request or an
offline queue uploaded twice finds its record already there and changes nothing.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from fangkong.audit.actions import record
from fangkong.base.replica import read_connection, replica_reads
from fangkong.checkpoints import gatelog
from fangkong.checkpoints.models import Checkpoint, CheckpointType, GateScan, Mode, Outcome
from fangkong.codes.models import PersonCode
from fangkong.engine import tokens
from fangkong.engine.gate_rules import Decision, Requirements, check_code, check_vehicle_pass
from fangkong.signing import keys

LOCAL = ZoneInfo("Asia/Shanghai")
# Offline records older than this are refused: a device that was offline a week has a problem
# a person should look at, and its key set is stale anyway.
OLDEST_OFFLINE_SCAN = timedelta(days=7)
FUTURE_LEEWAY = timedelta(minutes=5)
MAX_REASONS, MAX_REASON_LENGTH = 10, 200
UNKNOWN_HOLDER = "无法识别持码人"

# Whether a vehicle pass (by its `pid` claim) is out of force — revoked, or unknown here. The
# passes app, which sits above this one, registers its answer when it loads
# (fangkong.passes.apps); without it every vehicle pass counts as out of force.
vehicle_pass_revoked = [lambda pass_id, now: True]


@dataclass
class Verdict:
    outcome: str
    reasons: list[str]
    scan_id: str
    recorded: bool
    kind: str = ""
    colour: str = ""
    name: str = ""
    id_number: str = ""
    mode: str = Mode.ONLINE
    sampling: str = ""


@dataclass
class UploadReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict] = field(default_factory=list)


def requirements_of(checkpoint: Checkpoint) -> Requirements:
    # access.py parses them once when it caches the checkpoint.
    cached = getattr(checkpoint, "requirements", None)
    return cached if cached is not None else checkpoint.type.parsed


def do_create_checkpoint(
    user, *, name: str, type_code: str, county_code: str, now: datetime, community=None, site=None
) -> tuple[Checkpoint, str]:
    """A new checkpoint and its device key (shown once; only the hash is stored)."""
    device_key = "fkd_" + secrets.token_urlsafe(24)
    with transaction.atomic():
        checkpoint = Checkpoint.objects.create(
            name=name,
            type=CheckpointType.objects.get(pk=type_code),
            county_code=county_code,
            community=community,
            testing_site=site,
            device_key_hash=Checkpoint.hash_key(device_key),
            created_at=now,
        )
        record(user, "checkpoint.create", "checkpoint", str(checkpoint.pk), {"name": name}, at=now)
    return checkpoint, device_key


def _judge(checkpoint, token, now, direction, scan_uuid, asked_for):
    """(decision, kind, claims, person id, live colour, first answer) for one token, never
    raising. For a health code the live colour and an earlier copy of this scan come in one
    statement (`asked_for`: the device chose the scan id, so it may be a retry)."""
    req = requirements_of(checkpoint)
    try:
        verified = keys.verify(token, now, req.kinds)
    except tokens.TokenError as error:
        first = _earlier(None, scan_uuid)[1] if asked_for else None
        return Decision(False, (error.reason,)), "", {}, None, "", first
    claims = verified.claims
    person_id = keys.person_from_ref(claims.get("sub"))
    if person_id is None:
        first = _earlier(None, scan_uuid)[1] if asked_for else None
        return Decision(False, (UNKNOWN_HOLDER,)), verified.kind, claims, None, "", first
    if verified.kind == tokens.CODE:
        colour, first = _earlier(person_id, scan_uuid if asked_for else None)
        decision = check_code(req, claims, now, colour)
        return decision, verified.kind, claims, person_id, colour, first
    if verified.kind == tokens.VEHICLE:
        # The driver's live code decides, and a revoked pass is denied at once.
        colour, first = _earlier(person_id, scan_uuid if asked_for else None)
        revoked = vehicle_pass_revoked[0](claims.get("pid"), now)
        decision = check_vehicle_pass(claims, now, driver_colour=colour, revoked=revoked)
        return decision, verified.kind, claims, person_id, colour, first
    from fangkong.exits.gate import check_pass_at_gate

    if direction not in ("exit", "return"):
        return Decision(False, ("请选择出门或回小区",)), verified.kind, claims, person_id, "", None
    decision = check_pass_at_gate(claims, checkpoint.community_id, direction, now)
    return decision, verified.kind, claims, person_id, "", None


def _earlier(person_id: int | None, scan_uuid: uuid.UUID | None) -> tuple[str, Verdict | None]:
    """(the person's stored colour — no row: green —, the first answer to this scan id if it is
    already in the gate log or in this process's spool). One statement on the read connection
    (a replica, when there is one): checkpoints ask this on every scan, and the ORM's query
    building would cost several times the query itself."""
    spooled = gatelog.pending(scan_uuid) if scan_uuid is not None else None
    if spooled is not None:
        scan_uuid = None  # answered from memory; the colour is still needed
    if person_id is None and scan_uuid is None:
        return "green", _verdict_of(spooled, recorded=False) if spooled else None
    with replica_reads():
        db = read_connection()
        codes = db.ops.quote_name(PersonCode._meta.db_table)
        scans = db.ops.quote_name(GateScan._meta.db_table)
        scan_key = GateScan._meta.get_field("scan_id").get_db_prep_value(scan_uuid, db)
        with db.cursor() as cursor:
            cursor.execute(
                "SELECT c.colour, s.outcome, s.reasons, s.kind, s.colour, s.mode "  # noqa: S608
                f"FROM (SELECT 1 AS one) AS q LEFT JOIN {codes} AS c ON c.person_id = %s "
                f"LEFT JOIN {scans} AS s ON s.scan_id = %s",
                [person_id, scan_key],
            )
            colour, outcome, reasons, kind, scan_colour, mode = cursor.fetchone()
    if spooled is not None:
        return colour or "green", _verdict_of(spooled, recorded=False)
    if outcome is None:
        return colour or "green", None
    first = Verdict(
        outcome=outcome,
        reasons=json.loads(reasons) if isinstance(reasons, str) else list(reasons),
        scan_id=str(scan_uuid),
        recorded=False,
        kind=kind,
        colour=scan_colour,
        mode=mode,
    )
    return colour or "green", first


def do_verify(
    checkpoint: Checkpoint,
    token: str,
    now: datetime,
    *,
    scan_id: str | None = None,
    direction: str = "",
    tube: str = "",
    pool_size: int = 10,
    user=None,
    batched: bool = False,
) -> Verdict:
    """Online verification: the token, the live code, the checkpoint's requirements; the scan
    goes into the gate log once. The Ninja route and the hot path (fastpath.py) both come here.

    A health-code scan is written to the gate log now, or (`batched`, the hot path) spooled for
    the batched gate log (gatelog.py) and answered at once. An exit pass (its passage changes
    the pass) and a testing-site scan with a tube (it records a sampling) commit here, with
    their row, before the answer."""
    user = user if getattr(user, "is_authenticated", False) else None  # a device has no user
    scan_uuid = uuid.UUID(scan_id) if scan_id else uuid.uuid4()
    decision, kind, claims, person_id, colour, first = _judge(
        checkpoint, token, now, direction, scan_uuid, asked_for=bool(scan_id)
    )
    if first is not None:  # a retry of a scan already logged: its first answer stands
        return first
    scan = GateScan(
        scan_id=scan_uuid,
        checkpoint=checkpoint,
        kind=kind,
        person_id=person_id,
        colour=colour or claims.get("col", "")[:6],
        scanned_at=now,
        received_at=now,
        outcome=Outcome.PASS if decision.passed else Outcome.DENY,
        reasons=list(decision.reasons),
        mode=Mode.ONLINE,
        direction=direction if kind == tokens.EXIT else "",
        recorded_by=user,
    )
    samples = person_id is not None and requirements_of(checkpoint).records_sampling and tube
    if kind != tokens.EXIT and not samples:
        gatelog.write(scan, batched=batched)
        return _verdict_of(scan, recorded=True, claims=claims)
    with transaction.atomic():
        inserted = _insert_once(scan)
        if inserted and decision.passed and kind == tokens.EXIT:
            from fangkong.exits.gate import do_record_passage

            do_record_passage(claims["pid"], direction, now, checkpoint.pk)
    if not inserted:  # a copy raced this one in
        return _verdict_of(GateScan.objects.get(scan_id=scan_uuid), recorded=False)
    verdict = _verdict_of(scan, recorded=True, claims=claims)
    if samples:
        verdict.sampling = _record_sampling(checkpoint, person_id, tube, pool_size, now, user)
    return verdict


def _insert_once(scan: GateScan) -> bool:
    """INSERT … ON CONFLICT (scan_id) DO NOTHING in one statement (SQLite ≥ 3.35 and
    PostgreSQL): a retried scan costs no extra query, and two racing copies cannot both land.
    Values go through each field's own conversion, as the ORM's save would."""
    fields = [f for f in GateScan._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    values = [f.get_db_prep_save(f.pre_save(scan, True), connection) for f in fields]
    placeholders = ", ".join(["%s"] * len(fields))
    table = connection.ops.quote_name(GateScan._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608 - names from the model
            "ON CONFLICT (scan_id) DO NOTHING RETURNING id",
            values,
        )
        row = cursor.fetchone()
    if row is not None:
        scan.pk = row[0]
    return row is not None


def _verdict_of(scan: GateScan, *, recorded: bool, claims: dict | None = None) -> Verdict:
    claims = claims or {}
    return Verdict(
        outcome=scan.outcome,
        reasons=list(scan.reasons),
        scan_id=str(scan.scan_id),
        recorded=recorded,
        kind=scan.kind,
        colour=scan.colour,
        name=claims.get("nm", ""),
        id_number=claims.get("idm", ""),
        mode=scan.mode,
    )


def _record_sampling(checkpoint, person_id, tube, pool_size, now, user) -> str:
    """A testing-site scan is the sampling itself (扫码采样): it goes in as a sampling fact
    through the one ingestion path, so it is checked like any other."""
    from fangkong.ingest.actions import do_ingest
    from fangkong.people.models import Person

    site = checkpoint.testing_site
    if site is None:
        return "此采样点卡口未关联采样点,未记录采样"
    person = Person.objects.get(pk=person_id)
    report = do_ingest(
        "samplings",
        rows=[
            {
                "id_number": person.id_number,
                "tube": tube,
                "pool_size": pool_size,
                "site_code": site.code,
                "sampled_at": now.astimezone(LOCAL).isoformat(),
            }
        ],
        user=user,
        source=f"checkpoint:{checkpoint.pk}",
        now=now,
        enforce_role=False,
    )
    if report.errors:
        return "采样未记录: " + "; ".join(e.reason for e in report.errors)
    return f"已记录采样(试管 {tube})"


def _parse_offline(entry: dict, now: datetime) -> tuple[dict | None, str]:
    try:
        scan_id = uuid.UUID(str(entry.get("scan_id", "")))
    except ValueError:
        return None, "scan_id 不是有效的UUID"
    raw = entry.get("scanned_at")
    scanned_at = parse_datetime(raw) if isinstance(raw, str) else None
    if scanned_at is None:
        return None, "scanned_at 不是有效的时间(ISO 8601)"
    if scanned_at.tzinfo is None:
        scanned_at = scanned_at.replace(tzinfo=LOCAL)
    if scanned_at > now + FUTURE_LEEWAY:
        return None, "scanned_at 晚于当前时间(设备时钟有误?)"
    if scanned_at < now - OLDEST_OFFLINE_SCAN:
        return None, "scanned_at 早于7天前,请人工核对"
    if entry.get("outcome") not in (Outcome.PASS, Outcome.DENY):
        return None, "outcome 应为 pass 或 deny"
    reasons = entry.get("reasons") or []
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        return None, "reasons 应为字符串列表"
    token = entry.get("token")
    if not isinstance(token, str) or not token or len(token) > tokens.MAX_TOKEN_LENGTH:
        return None, "token 缺失或过长"
    direction = entry.get("direction") or ""
    if direction not in ("", "exit", "return"):
        return None, "direction 应为 exit 或 return"
    return {
        "scan_id": scan_id,
        "scanned_at": scanned_at,
        "outcome": entry["outcome"],
        "reasons": [r[:MAX_REASON_LENGTH] for r in reasons[:MAX_REASONS]],
        "token": token,
        "direction": direction,
    }, ""


def do_upload_scans(checkpoint: Checkpoint, entries: list[dict], now: datetime, user=None):
    """Offline scans from a device's queue. The device's outcome is what happened at the gate
    and is kept; the server re-checks the signature as of the scan time to know the person, and
    notes where it disagrees with a pass."""
    report = UploadReport()
    parsed = []
    for entry in entries:
        scan, problem = _parse_offline(entry if isinstance(entry, dict) else {}, now)
        if scan is None:
            report.rejected.append(
                {"scan_id": str(entry.get("scan_id", ""))[:64], "reason": problem}
            )
        else:
            parsed.append(scan)
    seen = set(
        GateScan.objects.filter(scan_id__in=[s["scan_id"] for s in parsed]).values_list(
            "scan_id", flat=True
        )
    )
    kinds = requirements_of(checkpoint).kinds
    rows, passages = [], []
    for scan in parsed:
        if scan["scan_id"] in seen:
            report.duplicates += 1
            continue
        seen.add(scan["scan_id"])
        kind, person_id, colour, reasons = "", None, "", scan["reasons"]
        try:
            verified = keys.verify(scan["token"], scan["scanned_at"], kinds)
            kind, colour = verified.kind, str(verified.claims.get("col", ""))[:6]
            person_id = keys.person_from_ref(verified.claims.get("sub"))
            if kind == tokens.EXIT and scan["outcome"] == Outcome.PASS and scan["direction"]:
                passages.append((verified.claims.get("pid"), scan["direction"], scan["scanned_at"]))
        except tokens.TokenError as error:
            if scan["outcome"] == Outcome.PASS:
                reasons = [*reasons, f"服务器复核: {error.reason}"]
        rows.append(
            GateScan(
                scan_id=scan["scan_id"],
                checkpoint=checkpoint,
                kind=kind,
                person_id=person_id,
                colour=colour,
                scanned_at=scan["scanned_at"],
                received_at=now,
                outcome=scan["outcome"],
                reasons=reasons,
                mode=Mode.OFFLINE,
                direction=scan["direction"],
                recorded_by=user if getattr(user, "is_authenticated", False) else None,
            )
        )
    with transaction.atomic():
        GateScan.objects.bulk_create(rows, ignore_conflicts=True)
        if passages:
            from fangkong.exits.gate import do_record_passage

            for pass_id, direction, at in passages:
                do_record_passage(pass_id, direction, at, checkpoint.pk)
    report.accepted = len(rows)
    return report
