"""Read only: supply assurance changes through its pages, API and imports, which audit it."""

from django.contrib import admin

from fangkong.base.admin import ReadOnlyAdmin
from fangkong.supplies.models import (
    Delivery,
    HousingSite,
    ImportFlag,
    Placement,
    Site,
    StatusChange,
    SupplyFirm,
    SupplyRequest,
    Upload,
)


@admin.register(SupplyFirm)
class SupplyFirmAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "level", "kind", "county_code")
    list_filter = ("level", "kind", "county_code")
    search_fields = ("=code", "name")


@admin.register(StatusChange)
class StatusChangeAdmin(ReadOnlyAdmin):
    list_display = ("firm", "status", "effective_at", "recorded_at", "reason")
    list_select_related = ("firm",)


@admin.register(Upload)
class UploadAdmin(ReadOnlyAdmin):
    list_display = ("filename", "uploaded_at", "rows", "firms_created", "changes_created")


@admin.register(ImportFlag)
class ImportFlagAdmin(ReadOnlyAdmin):
    list_display = ("firm", "row", "field", "stored", "offered", "resolved_at")


@admin.register(Site)
class SiteAdmin(ReadOnlyAdmin):
    list_display = ("name", "county_code", "contractor", "workers")


@admin.register(SupplyRequest)
class SupplyRequestAdmin(ReadOnlyAdmin):
    list_display = ("pk", "enterprise", "site", "category", "requested_at")
    list_select_related = ("enterprise", "site")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("pk", "request", "delivered_at", "supplier", "funding", "confirmed_at")


@admin.register(HousingSite)
class HousingSiteAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "county_code", "beds", "opened_at")


@admin.register(Placement)
class PlacementAdmin(ReadOnlyAdmin):
    list_display = ("site", "enterprise", "people", "placed_at", "ended_at")
    list_select_related = ("site", "enterprise")
