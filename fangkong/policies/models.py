"""Published policy versions (赋码政策). Rows are only ever added: a new version supersedes, and
a withdrawal (撤回) is a version of its own that ends the policy from its publication on."""

from django.conf import settings
from django.db import models

from fangkong.engine.policies import COLOUR_LABELS, Policy, parse_policy


class PolicyVersion(models.Model):
    policy_id = models.CharField("政策编号", max_length=64)
    version = models.PositiveIntegerField("版本")
    title = models.CharField("标题", max_length=200)
    colour = models.CharField("颜色", max_length=6)
    message = models.TextField("告知居民")
    source = models.TextField("发布原文")  # the TOML/JSON text exactly as published
    data = models.JSONField("规则")  # the parsed mapping, times as ISO text
    effective_from = models.DateTimeField("生效时间")
    effective_until = models.DateTimeField("失效时间", null=True, blank=True)
    published_at = models.DateTimeField("发布时间")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A withdrawal: from `published_at` on, no version of this policy is in force (until a
    # later version is published). It carries the rules of the version it withdrew, for reading.
    withdrawn = models.BooleanField("撤回", default=False)
    reason = models.CharField("撤回理由", max_length=500, blank=True)
    # The decision this version continues (same trigger, scope and clears as the version before,
    # no `restart`): its first version and that version's publication. Empty: a new decision.
    continues_from = models.PositiveIntegerField("延续自版本", null=True, blank=True)
    continues_since = models.DateTimeField("延续自发布时间", null=True, blank=True)

    class Meta:
        ordering = ["policy_id", "-version"]
        verbose_name = "政策版本"
        verbose_name_plural = "政策版本"
        constraints = [
            models.UniqueConstraint(fields=["policy_id", "version"], name="policy_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.policy_id} v{self.version} {self.title}"

    @property
    def colour_label(self) -> str:
        return COLOUR_LABELS.get(self.colour, self.colour)

    def as_engine(self) -> Policy:
        # Published rules were checked when published: read them as they were accepted then.
        return parse_policy(
            self.data,
            version=self.version,
            published_at=self.published_at,
            strict=False,
            continues_from=self.continues_from,
            continues_since=self.continues_since,
        )
