"""Codes, their changes and exemptions, read-only: no one sets a colour by hand (DESIGN §6).
Codes change by publishing policies, adding facts and approving clearances. People appear by
name and masked ID number."""

from django.contrib import admin

from fangkong.audit.actions import record
from fangkong.base.admin import ReadOnlyAdmin
from fangkong.codes.models import CodeChange, Exemption, PersonCode


class PersonRecordAdmin(ReadOnlyAdmin):
    """Opening one row shows part of a resident's record: that view is audited."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200 and str(object_id).isdigit():
            row = self.get_object(request, object_id)
            if row is not None:
                record(request.user, "person.view", "person", row.person_id, {"via": "admin"})
        return response


@admin.register(PersonCode)
class PersonCodeAdmin(PersonRecordAdmin):
    list_display = ("person", "colour", "county_code", "since", "evaluated_at")
    list_filter = ("colour", "county_code")
    list_select_related = ("person",)
    search_fields = ("=person__id_number",)
    ordering = ("person_id",)


@admin.register(CodeChange)
class CodeChangeAdmin(PersonRecordAdmin):
    list_display = ("at", "person", "old_colour", "new_colour", "cause", "cause_detail")
    list_filter = ("cause", "new_colour", "county_code")
    list_select_related = ("person",)
    search_fields = ("=person__id_number", "cause_detail")
    ordering = ("-at", "-id")


@admin.register(Exemption)
class ExemptionAdmin(PersonRecordAdmin):
    list_display = ("person", "policy_id", "approved_at", "approved_by", "reason", "revoked_at")
    list_filter = ("policy_id",)
    list_select_related = ("person", "approved_by")
    search_fields = ("=person__id_number", "=policy_id")
    ordering = ("-approved_at",)
