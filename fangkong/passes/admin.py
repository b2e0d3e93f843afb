"""Read-only admin views of passes and batches: every change goes through the actions (audited)."""

from django.contrib import admin

from fangkong.passes.models import PassBatch, VehiclePass


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(VehiclePass)
class VehiclePassAdmin(ReadOnly):
    list_display = ("plate", "enterprise", "county_code", "applied_at", "decision", "number")
    list_filter = ("county_code", "decision", "vehicle_type")
    search_fields = ("plate",)
    raw_id_fields = ("enterprise", "previous", "batch")
    exclude = ("driver",)  # the driver is a person: not shown in the admin


@admin.register(PassBatch)
class PassBatchAdmin(ReadOnly):
    list_display = ("number", "closed_at", "closed_by")
