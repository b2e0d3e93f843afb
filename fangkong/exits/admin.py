"""Exit rules and passes, read-only: rules change by publishing (do_publish_rules), passes by
requests and gate scans (do_request_exit_pass, do_record_passage), all audited."""

from django.contrib import admin

from fangkong.base.admin import ReadOnlyAdmin
from fangkong.exits.models import ExitPass, ExitRuleSet


@admin.register(ExitRuleSet)
class ExitRuleSetAdmin(ReadOnlyAdmin):
    list_display = ("community", "effective_from", "recorded_at", "recorded_by", "note")
    list_select_related = ("community", "recorded_by")
    ordering = ("-effective_from",)


@admin.register(ExitPass)
class ExitPassAdmin(ReadOnlyAdmin):
    list_display = ("id", "person", "community", "household", "issued_at", "valid_until", "status")
    list_filter = ("status",)
    raw_id_fields = ("person",)
    search_fields = ("=household", "=community__code")
    ordering = ("-issued_at",)
