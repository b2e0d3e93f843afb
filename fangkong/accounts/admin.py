from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from fangkong.accounts.models import StaffProfile
from fangkong.audit.actions import record


def record_profile(request, profile: StaffProfile) -> None:
    """Who may see what is a decision: it goes to the audit log like the others."""
    record(
        request.user,
        "staff.change",
        "user",
        profile.user_id,
        {
            "role": profile.role,
            "districts": list(profile.districts or []),
        },
    )


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False
    extra = 0
    max_num = 1
    fields = ("role", "districts", "organisation")


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "districts", "organisation")
    list_filter = ("role",)
    list_select_related = ("user",)
    search_fields = ("user__username", "organisation")
    raw_id_fields = ("user",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record_profile(request, obj)


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    inlines = (StaffProfileInline,)
    list_display = ("username", "role", "is_active", "is_staff", "last_login")
    list_select_related = ("staff",)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is StaffProfile:
            for profile in formset.new_objects + [obj for obj, _ in formset.changed_objects]:
                record_profile(request, profile)

    @admin.display(description="角色")
    def role(self, obj):
        profile = getattr(obj, "staff", None)
        return profile.get_role_display() if profile else "—"
