from django.contrib import admin

from fangkong.base.admin import ReadOnlyAdmin
from fangkong.tickets.models import GroupMember, TaskGroup, Ticket, TicketStep


@admin.register(TaskGroup)
class TaskGroupAdmin(ReadOnlyAdmin):
    """Read only: the task force is formed and staffed by fangkong.tickets.actions, audited."""

    list_display = ("county_code", "kind", "created_at")
    list_filter = ("county_code", "kind")


@admin.register(GroupMember)
class GroupMemberAdmin(ReadOnlyAdmin):
    list_display = ("group", "user", "lead", "since")
    list_select_related = ("group", "user")


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    """Read only: tickets change on their page (/tickets/) or through the API, audited."""

    list_display = ("number", "enterprise", "category", "status", "group", "priority", "due_at")
    list_filter = ("county_code", "status", "category", "priority")
    list_select_related = ("enterprise", "group")
    search_fields = ("=number",)
    exclude = ("contact_name", "contact_phone")


@admin.register(TicketStep)
class TicketStepAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "action", "actor_label", "at", "status")
    list_select_related = ("ticket",)
