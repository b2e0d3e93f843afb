"""Checkpoints, their types and the gate log, read-only. A type's requirements decide who passes
its gates: they come from fixtures/checkpoint_types.toml (reviewed like code, loaded by
load_checkpoint_types); checkpoints are created by `fangkong checkpoint create`
(do_create_checkpoint, audited, which also issues the device key); scans are recorded by do_verify
and do_upload_scans. None of them is edited by hand."""

from django.contrib import admin

from fangkong.base.admin import ReadOnlyAdmin
from fangkong.checkpoints.models import Checkpoint, CheckpointType, GateScan


@admin.register(CheckpointType)
class CheckpointTypeAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "requirements")


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("name", "type", "county_code", "community")
    exclude = ("device_key_hash",)


@admin.register(GateScan)
class GateScanAdmin(ReadOnlyAdmin):
    list_display = ("scanned_at", "checkpoint", "kind", "outcome", "mode", "direction")
    list_filter = ("outcome", "mode", "kind")
