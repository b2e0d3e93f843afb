from django.contrib import admin

from fangkong.base.admin import ReadOnlyAdmin
from fangkong.testing.models import LabResult, Sampling, TestingSite, TestingSiteRevision, Tube


@admin.register(TestingSite)
class TestingSiteAdmin(ReadOnlyAdmin):
    """Read only: sites change on their staff page (/ingest/sites/) or by a site list, which
    keep the old values and audit the change."""

    list_display = ("code", "name", "kind", "status", "community", "county_code")
    list_filter = ("county_code", "kind", "status")
    list_select_related = ("community",)
    search_fields = ("code", "name")


@admin.register(TestingSiteRevision)
class TestingSiteRevisionAdmin(ReadOnlyAdmin):
    list_display = ("site", "name", "status", "valid_until", "recorded_by", "replaced_by_batch")
    list_select_related = ("site", "recorded_by")
    ordering = ("-id",)


@admin.register(Tube)
class TubeAdmin(ReadOnlyAdmin):
    list_display = ("barcode", "capacity", "batch")
    search_fields = ("=barcode",)
    ordering = ("-id",)


@admin.register(Sampling)
class SamplingAdmin(ReadOnlyAdmin):
    list_display = ("id", "person", "tube", "site", "sampled_at", "batch", "supersedes")
    list_select_related = ("person", "tube", "site", "batch")
    search_fields = ("=tube__barcode",)
    ordering = ("-id",)


@admin.register(LabResult)
class LabResultAdmin(ReadOnlyAdmin):
    list_display = ("id", "tube", "result", "lab", "reported_at", "batch", "supersedes")
    list_select_related = ("tube", "batch")
    list_filter = ("result",)
    search_fields = ("=tube__barcode",)
    ordering = ("-id",)
