from django.contrib import admin

from fangkong.audit.models import AuditEntry
from fangkong.base.admin import ReadOnlyAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "at", "actor_name", "action", "target_type", "target_id")
    list_filter = ("action",)
    search_fields = ("=actor_name", "=target_id", "=action")
    ordering = ("-id",)
