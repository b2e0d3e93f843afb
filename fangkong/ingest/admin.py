"""Batches, their row errors and flags: read-only here; flags are resolved on the flag page."""

from django.contrib import admin

from fangkong.base.admin import ReadOnlyAdmin
from fangkong.ingest.models import Batch, Flag, RowError


class RowErrorInline(admin.TabularInline):
    model = RowError
    fields = ("row", "field", "value", "reason")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("row", "id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "source",
        "filename",
        "uploaded_by",
        "started_at",
        "rows",
        "inserted",
        "duplicates",
        "flagged",
        "rejected",
    )
    list_filter = ("kind", "source")
    list_select_related = ("uploaded_by",)
    search_fields = ("=id", "filename", "=sha256")
    ordering = ("-id",)


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "key",
        "county_code",
        "status",
        "batch",
        "resolved_by",
        "resolved_at",
    )
    list_filter = ("status", "kind", "county_code")
    list_select_related = ("batch", "resolved_by")
    ordering = ("-id",)
    exclude = ("incoming_digest",)


@admin.register(RowError)
class RowErrorAdmin(ReadOnlyAdmin):
    list_display = ("batch", "row", "field", "value", "reason")
    list_select_related = ("batch",)
    search_fields = ("=batch__id",)
    ordering = ("batch", "row")
