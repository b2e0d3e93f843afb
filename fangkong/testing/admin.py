from django.contrib import admin

from fangkong.base.admin import ReadOnlyAdmin
from fangkong.testing.models import LabResult, Sampling, TestingSite, Tube


@admin.register(TestingSite)
class TestingSiteAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "community", "county_code")
    list_filter = ("county_code",)
    list_select_related = ("community",)
    search_fields = ("code", "name")
    raw_id_fields = ("community",)

    def save_model(self, request, obj, form, change):
        # The district is the community's: a site is scoped like the people it samples.
        obj.county_code = obj.community.county_code
        super().save_model(request, obj, form, change)

    def get_readonly_fields(self, request, obj=None):
        return ("county_code",)


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
