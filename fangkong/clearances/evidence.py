"""Evidence files (申诉材料): what an upload is is read from its first bytes, never from its name
or the browser's claim; files are kept under settings.EVIDENCE_DIR (outside the web root) with a
random name, and read back only after `staff_may_read` or `resident_may_read` says yes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.http import FileResponse

from fangkong.accounts.scoping import districts_of, role_of
from fangkong.clearances.models import Clearance, EmployerBatch, Evidence
from fangkong.ingest.limits import FORM_OVERHEAD

# (magic bytes at offset 0, content type, extension); WebP is checked apart (RIFF....WEBP).
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"%PDF-", "application/pdf", "pdf"),
)
ACCEPTED_TEXT = "JPG、PNG、WebP 图片或 PDF"


def request_bytes(files: int | None = None) -> int:
    """The most a request carrying `files` evidence files (by default as many as one request
    may carry) can need: larger bodies are refused unread (fangkong.ingest.limits)."""
    count = settings.EVIDENCE_FILES_PER_REQUEST if files is None else files
    return count * settings.EVIDENCE_MAX_BYTES + FORM_OVERHEAD


class EvidenceError(ValueError):
    """An upload refused, said in Chinese with the file's name."""


def sniff(head: bytes) -> tuple[str, str] | None:
    """The content type and extension the bytes really are, or None."""
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def clean_name(name: str) -> str:
    """The uploaded name for display only: no directories, no control characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*')
    return base.strip(" .")[:120] or "材料"


def check(upload) -> tuple[bytes, str, str]:
    """Read an uploaded file and check it: (data, content type, extension) or EvidenceError."""
    name = clean_name(upload.name or "")
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise EvidenceError(f"文件“{name}”超过 {limit // (1024 * 1024)} MB,请压缩后再上传")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise EvidenceError(f"文件“{name}”超过 {limit // (1024 * 1024)} MB,请压缩后再上传")
    if not data:
        raise EvidenceError(f"文件“{name}”是空的")
    kind = sniff(data[:16])
    if kind is None:
        raise EvidenceError(f"文件“{name}”不是{ACCEPTED_TEXT}(按文件内容判断,与扩展名无关)")
    return data, *kind


def store(
    upload,
    now: datetime,
    *,
    user=None,
    clearance: Clearance | None = None,
    batch: EmployerBatch | None = None,
) -> Evidence:
    """Check and keep one file. Call inside the transaction that owns the request; a file written
    for a transaction that then rolls back is left unreferenced (never served)."""
    data, content_type, extension = check(upload)
    stored_name = f"{secrets.token_hex(16)}.{extension}"
    folder = Path(settings.EVIDENCE_DIR)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / stored_name
    with open(path, "xb") as handle:
        handle.write(data)
    path.chmod(0o600)
    return Evidence.objects.create(
        clearance=clearance,
        batch=batch,
        stored_name=stored_name,
        original_name=clean_name(upload.name or ""),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_at=now,
        uploaded_by=user,
    )


def evidence_of(clearance: Clearance):
    """The request's own files and, for an employer's row, the list's supporting document."""
    files = Q(clearance=clearance)
    if clearance.batch_id:
        files |= Q(batch_id=clearance.batch_id, clearance__isnull=True)
    return Evidence.objects.filter(files).select_related("clearance", "batch").order_by("id")


def _county(evidence: Evidence) -> set[str]:
    if evidence.clearance_id:
        return {evidence.clearance.county_code}
    return set(evidence.batch.clearances.values_list("county_code", flat=True))


def staff_may_read(user, evidence: Evidence) -> bool:
    """Reviewers: of the person's district, or the command centre (which reviews city-wide); and
    the liaisons of the employer whose list it supports. Nobody else, hotline and auditors
    included."""
    from fangkong.accounts.models import Role

    role = role_of(user)
    if role == Role.COMMAND_CENTRE:
        return True
    if role == Role.EMPLOYER:  # the liaisons of the company that uploaded it
        if evidence.batch_id is None or evidence.uploaded_by_id is None:
            return False
        mine = (user.staff.organisation or "").strip()
        return evidence.uploaded_by_id == user.pk or bool(mine and evidence.batch.employer == mine)
    if role != Role.DISTRICT_REVIEWER:
        return False
    districts = districts_of(user)
    return bool(districts and _county(evidence) & set(districts))


def resident_may_read(person, evidence: Evidence) -> bool:
    return evidence.clearance_id is not None and evidence.clearance.person_id == person.pk


def path_of(evidence: Evidence) -> Path:
    # stored_name is ours (hex + known extension); still refuse anything that is not a plain name.
    name = Path(evidence.stored_name).name
    if name != evidence.stored_name:
        raise FileNotFoundError(evidence.stored_name)
    return Path(settings.EVIDENCE_DIR) / name


def response(evidence: Evidence) -> FileResponse:
    """The file with the type we detected; sandboxed so a PDF or image cannot run script on our
    origin, and never cached by shared caches."""
    reply = FileResponse(
        open(path_of(evidence), "rb"),  # noqa: SIM115 - FileResponse closes it
        content_type=evidence.content_type,
        as_attachment=evidence.content_type == "application/pdf",
        filename=evidence.original_name,
    )
    reply["X-Content-Type-Options"] = "nosniff"
    reply["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    reply["Cache-Control"] = "private, no-store"
    return reply
