"""Checkpoint API: the key set, a device's offline bundle, online verification and the upload of
offline scans. Devices authenticate with `Authorization: Bearer <device key>`; staff pages use
their session (with CSRF)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Literal

from django.http import JsonResponse
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer, django_auth

from fangkong.api_errors import refusals
from fangkong.checkpoints.access import checkpoint_for_device, checkpoint_for_request
from fangkong.checkpoints.actions import do_upload_scans, do_verify
from fangkong.checkpoints.fastpath import throttled
from fangkong.engine import tokens
from fangkong.signing import keys

router = Router(tags=["checkpoints"])
MAX_UPLOAD = 5000


class DeviceKey(HttpBearer):
    def authenticate(self, request, token):
        checkpoint = checkpoint_for_device(token)
        if checkpoint is None:
            # A device that sends a key means to be a device: a wrong key is 401, not a fall
            # through to the session check (whose CSRF refusal would say 403 for the same thing).
            raise AuthenticationError()
        request.auth_checkpoint = checkpoint
        return checkpoint


AUTH = [DeviceKey(), django_auth]


class JWK(Schema):
    kty: str
    crv: str
    x: str
    kid: str
    use: str


class Revoked(Schema):
    kid: str
    revoked_at: str


class KeySet(Schema):
    keys: list[JWK]
    revoked: list[Revoked]
    issued_at: str


@router.get("/keys", response=KeySet, auth=None, summary="Published public keys (JWKS)")
def key_set(request):
    """Keys a verifier should trust now, and revoked keys of the last 30 days."""
    return keys.key_set(timezone.now())


class CheckpointOut(Schema):
    id: int
    name: str
    type: str
    type_name: str
    community: str | None


class Bundle(KeySet):
    checkpoint: CheckpointOut
    requirements: dict


@router.get(
    "/checkpoints/{checkpoint_id}/bundle",
    response={200: Bundle, **refusals(401, 403, 404, 422)},
    auth=AUTH,
)
def bundle(request, checkpoint_id: int):
    """Everything a verifier needs to work offline: requirements, keys, revocations."""
    checkpoint = checkpoint_for_request(request, checkpoint_id)
    return {
        **keys.key_set(timezone.now()),
        "checkpoint": {
            "id": checkpoint.pk,
            "name": checkpoint.name,
            "type": checkpoint.type_id,
            "type_name": checkpoint.type.name,
            "community": checkpoint.community_id,
        },
        "requirements": asdict(checkpoint.type.parsed),
    }


class VerifyIn(Schema):
    token: str = Field(max_length=tokens.MAX_TOKEN_LENGTH)
    scan_id: str | None = Field(None, max_length=36)
    direction: Literal["exit", "return", ""] = ""
    tube: str = Field("", max_length=32)
    pool_size: Literal[1, 10, 20] = 10


class VerdictOut(Schema):
    outcome: Literal["pass", "deny"]
    reasons: list[str]
    kind: str
    colour: str
    name: str
    id_number: str
    mode: str
    scan_id: str
    recorded: bool
    sampling: str


@router.post(
    "/checkpoints/{checkpoint_id}/verify",
    response={200: VerdictOut, **refusals(400, 401, 403, 404, 422, 429)},
    auth=AUTH,
)
def verify(request, checkpoint_id: int, payload: VerifyIn):
    """Verify a scanned QR: pass or deny with reasons. The scan is logged once per scan_id.
    A checkpoint scanning faster than a gate can (CHECKPOINT_SCANS_PER_SECOND, per app
    process) is answered 429 with Retry-After. Devices' requests are served by the hot path
    (fangkong/checkpoints/fastpath.py), which answers exactly as this route does."""
    checkpoint = checkpoint_for_request(request, checkpoint_id)
    if payload.scan_id is not None:
        try:
            uuid.UUID(payload.scan_id)
        except ValueError:
            raise HttpError(422, "scan_id 应为UUID") from None
    limited = throttled(checkpoint.pk)
    if limited is not None:
        wait, reason = limited
        return JsonResponse({"detail": reason}, status=429, headers={"Retry-After": str(wait)})
    verdict = do_verify(
        checkpoint,
        payload.token,
        timezone.now(),
        scan_id=payload.scan_id,
        direction=payload.direction,
        tube=payload.tube,
        pool_size=payload.pool_size,
        user=request.user,
    )
    return verdict.__dict__


class OfflineScan(Schema):
    scan_id: str = Field(max_length=64)
    token: str = Field(max_length=tokens.MAX_TOKEN_LENGTH)
    scanned_at: str = Field(max_length=40)
    outcome: str = Field(max_length=8)
    reasons: list[str] = []
    direction: str = Field("", max_length=8)


class UploadIn(Schema):
    scans: list[OfflineScan]


class RejectedOut(Schema):
    scan_id: str
    reason: str


class UploadOut(Schema):
    accepted: int
    duplicates: int
    rejected: list[RejectedOut]


@router.post(
    "/checkpoints/{checkpoint_id}/scans",
    response={200: UploadOut, **refusals(400, 401, 403, 404, 413, 422)},
    auth=AUTH,
)
def upload_scans(request, checkpoint_id: int, payload: UploadIn):
    """A verifier's offline queue. Uploading the same queue again changes nothing."""
    checkpoint = checkpoint_for_request(request, checkpoint_id)
    if len(payload.scans) > MAX_UPLOAD:
        raise HttpError(413, f"一次最多上传{MAX_UPLOAD}条,请分批")
    report = do_upload_scans(
        checkpoint, [s.dict() for s in payload.scans], timezone.now(), user=request.user
    )
    return report.__dict__
