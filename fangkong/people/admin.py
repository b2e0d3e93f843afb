"""Residents and their facts, read-only: they change through ingestion, which keeps revisions.
ID numbers are masked here too; opening a resident is recorded in the audit log."""

from django.contrib import admin

from fangkong.audit.actions import record
from fangkong.base.admin import ReadOnlyAdmin
from fangkong.engine.id_numbers import mask_phone
from fangkong.people.models import Designation, Person, PersonRevision, Presence


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "masked_id_number", "masked_phone", "community", "county_code")
    list_select_related = ("community",)
    list_filter = ("county_code",)
    search_fields = ("=id_number", "=phone")
    fields = (
        "masked_id_number",
        "name",
        "masked_phone",
        "community",
        "county_code",
        "employer",
        "recorded_at",
        "batch",
    )
    readonly_fields = fields
    ordering = ("id",)

    @admin.display(description="身份证号")
    def masked_id_number(self, obj):
        return obj.masked_id_number

    @admin.display(description="手机号")
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200 and str(object_id).isdigit():
            record(request.user, "person.view", "person", object_id, {"via": "admin"})
        return response


@admin.register(PersonRevision)
class PersonRevisionAdmin(ReadOnlyAdmin):
    list_display = ("id", "person", "valid_until", "reason", "recorded_by")
    list_select_related = ("person", "recorded_by")
    exclude = ("phone",)
    ordering = ("-id",)


@admin.register(Presence)
class PresenceAdmin(ReadOnlyAdmin):
    list_display = ("id", "person", "region_code", "start_at", "end_at", "source")
    list_select_related = ("person",)
    ordering = ("-id",)


@admin.register(Designation)
class DesignationAdmin(ReadOnlyAdmin):
    list_display = ("id", "person", "kind", "start_at", "end_at", "designated_by")
    list_select_related = ("person",)
    list_filter = ("kind",)
    ordering = ("-id",)
