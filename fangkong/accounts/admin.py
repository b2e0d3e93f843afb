"""Staff accounts: the one part of the admin that changes anything. Who may sign in, with which
role, in which districts, and as superuser or not decides what a person may do, so every change
made here (a form, a password, a deletion) writes a `staff.change` audit entry in the same
transaction as the change. Groups are not used (roles are): they are read-only."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.db import models, transaction
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

from fangkong.accounts.forms import AdminLoginForm
from fangkong.accounts.models import StaffProfile
from fangkong.audit.actions import record
from fangkong.base.admin import ReadOnlyAdmin

# The admin's own sign-in counts wrong passwords like the staff sign-in does.
admin.site.login_form = AdminLoginForm

# Fields whose values never go to the audit log: that they changed does.
SECRETS = frozenset({"password", "password1", "password2", "usable_password"})


def _plain(value):
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | tuple | set | models.QuerySet):
        return sorted(_plain(item) for item in value)
    return value


def changes_of(form) -> dict:
    """{field: [before, after]} for what the admin's form changed, secrets left out."""
    pairs = (
        (name, _plain(form.initial.get(name)), _plain(form.cleaned_data.get(name)))
        for name in form.changed_data
        if name not in SECRETS
    )
    # A form may call a field changed that holds the same value (JSON re-typed, say).
    changed = {name: [before, after] for name, before, after in pairs if before != after}
    if SECRETS & set(form.changed_data):
        changed["password"] = True  # that it changed; never the value
    return changed


def record_staff(request, user_id, detail: dict) -> None:
    record(request.user, "staff.change", "user", user_id, {"via": "admin", **detail})


def record_profile(request, profile: StaffProfile, form=None, *, deleted=False) -> None:
    detail = {"role": profile.role, "districts": list(profile.districts or [])}
    if deleted:
        detail["deleted"] = "staff_profile"
    elif form is not None:
        detail["changed"] = changes_of(form)
    record_staff(request, profile.user_id, detail)


class AuditedDeletion:
    """Deleting from the admin, one object or a selection, is recorded with what was deleted."""

    def record_deletion(self, request, obj) -> None:
        raise NotImplementedError

    def delete_model(self, request, obj):
        with transaction.atomic():
            self.record_deletion(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # The "delete selected" action runs outside the admin's transactions: take one.
        with transaction.atomic():
            for obj in queryset:
                self.record_deletion(request, obj)
            super().delete_queryset(request, queryset)


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False
    extra = 0
    max_num = 1
    fields = ("role", "districts", "organisation")


@admin.register(StaffProfile)
class StaffProfileAdmin(AuditedDeletion, admin.ModelAdmin):
    list_display = ("user", "role", "districts", "organisation")
    list_filter = ("role",)
    list_select_related = ("user",)
    search_fields = ("user__username", "organisation")
    raw_id_fields = ("user",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        record_profile(request, obj, form)

    def record_deletion(self, request, obj):
        record_profile(request, obj, deleted=True)


User = get_user_model()
for model in (User, Group):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin):
    list_display = ("name",)


@admin.register(User)
class StaffUserAdmin(AuditedDeletion, UserAdmin):
    inlines = (StaffProfileInline,)
    list_display = ("username", "role", "is_active", "is_staff", "last_login")
    list_select_related = ("staff",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed = changes_of(form)
        if changed:
            record_staff(request, obj.pk, {"changed": changed})

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is StaffProfile:
            for inline in formset.forms:
                if inline.instance.pk and changes_of(inline):
                    record_profile(request, inline.instance, inline)

    def record_deletion(self, request, obj):
        record_staff(request, obj.pk, {"deleted": obj.get_username()})

    @method_decorator(sensitive_post_parameters())
    def user_change_password(self, request, id, form_url=""):
        # Django saves the new password outside any transaction; the change and its record
        # land together here.
        with transaction.atomic():
            user = self.get_object(request, unquote(id))
            before = user.password if user is not None else None
            response = super().user_change_password(request, id, form_url)
            if user is not None:
                user.refresh_from_db(fields=["password"])
                if user.password != before:
                    record_staff(request, user.pk, {"changed": {"password": True}})
        return response

    @admin.display(description="角色")
    def role(self, obj):
        profile = getattr(obj, "staff", None)
        return profile.get_role_display() if profile else "—"
