"""The admin of append-only records."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """For append-only facts and records: they change only through their actions, which keep
    who, when and why."""

    show_full_result_count = False  # no COUNT(*) over millions of rows on every list page

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
