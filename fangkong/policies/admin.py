"""Published policy versions, read-only: a policy changes only by publishing a new version
(fangkong.policies.actions.do_publish, which is audited)."""

from django.contrib import admin

from fangkong.base.admin import ReadOnlyAdmin
from fangkong.policies.models import PolicyVersion


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = (
        "policy_id",
        "version",
        "title",
        "colour",
        "effective_from",
        "effective_until",
        "published_at",
        "published_by",
    )
    list_filter = ("colour",)
    list_select_related = ("published_by",)
    search_fields = ("=policy_id", "title")
    ordering = ("policy_id", "-version")
