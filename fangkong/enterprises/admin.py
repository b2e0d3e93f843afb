from django.contrib import admin

from fangkong.base.admin import ReadOnlyAdmin
from fangkong.enterprises.models import (
    DailyReport,
    Employee,
    Enterprise,
    GateEntry,
    GateExit,
    PlantGate,
    ResumptionStep,
    SupplyLink,
    VehicleDisinfection,
)


@admin.register(Enterprise)
class EnterpriseAdmin(ReadOnlyAdmin):
    """Read only: enterprises change on their page (/enterprises/) or by an import, which audit
    the change."""

    list_display = ("name", "uscc", "county_code", "industry", "above_scale", "normal_staff")
    list_filter = ("county_code", "industry", "above_scale")
    search_fields = ("name", "=uscc")


@admin.register(SupplyLink)
class SupplyLinkAdmin(ReadOnlyAdmin):
    list_display = ("supplier", "customer", "note", "recorded_at")
    list_select_related = ("supplier", "customer")


@admin.register(Employee)
class EmployeeAdmin(ReadOnlyAdmin):
    list_display = ("enterprise", "person", "role", "since")
    list_filter = ("role",)
    list_select_related = ("enterprise", "person")
    ordering = ("-id",)


@admin.register(ResumptionStep)
class ResumptionStepAdmin(ReadOnlyAdmin):
    list_display = ("enterprise", "kind", "status", "at", "recorded_at", "recorded_by")
    list_filter = ("kind", "status")
    list_select_related = ("enterprise", "recorded_by")
    ordering = ("-id",)


@admin.register(DailyReport)
class DailyReportAdmin(ReadOnlyAdmin):
    list_display = (
        "enterprise",
        "day",
        "staff_on_duty",
        "returning_staff",
        "capacity_percent",
        "closed_loop",
        "supersedes",
        "recorded_at",
    )
    list_filter = ("day", "closed_loop")
    ordering = ("-id",)


@admin.register(PlantGate)
class PlantGateAdmin(ReadOnlyAdmin):
    list_display = ("checkpoint", "enterprise")
    list_select_related = ("checkpoint", "enterprise")


@admin.register(GateEntry)
class GateEntryAdmin(ReadOnlyAdmin):
    list_display = ("enterprise", "gate", "person", "at", "admitted", "antigen", "new_returnee")
    list_filter = ("admitted", "antigen")
    ordering = ("-id",)


@admin.register(GateExit)
class GateExitAdmin(ReadOnlyAdmin):
    list_display = ("enterprise", "gate", "person", "at", "purpose", "breaks_loop")
    list_filter = ("purpose", "breaks_loop")
    ordering = ("-id",)


@admin.register(VehicleDisinfection)
class VehicleDisinfectionAdmin(ReadOnlyAdmin):
    list_display = ("enterprise", "gate", "plate", "at", "method", "disinfected_by")
    search_fields = ("=plate",)
    ordering = ("-id",)
