from django.contrib import admin

from fangkong.checkpoints.models import Checkpoint, CheckpointType, GateScan


@admin.register(CheckpointType)
class CheckpointTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "requirements")


@admin.register(Checkpoint)
class CheckpointAdmin(admin.ModelAdmin):
    list_display = ("name", "type", "county_code", "community")
    exclude = ("device_key_hash",)


@admin.register(GateScan)
class GateScanAdmin(admin.ModelAdmin):
    list_display = ("scanned_at", "checkpoint", "kind", "outcome", "mode", "direction")
    list_filter = ("outcome", "mode", "kind")
    readonly_fields = [f.name for f in GateScan._meta.fields]

    def has_change_permission(self, request, obj=None):
        return False
