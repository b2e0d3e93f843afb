from django.contrib import admin

from fangkong.base.admin import ReadOnlyAdmin
from fangkong.places.models import Division


@admin.register(Division)
class DivisionAdmin(ReadOnlyAdmin):
    """Loaded from the shipped data files (fangkong.places.loading), not edited by hand."""

    list_display = (
        "code",
        "name",
        "level",
        "county_code",
        "is_current",
        "is_development_zone",
        "population_2020",
    )
    list_filter = ("level", "is_current", "is_development_zone")
    search_fields = ("code", "name")
    list_select_related = ("parent",)
