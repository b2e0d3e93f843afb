"""Published policy versions (赋码政策). Rows are only ever added: a new version supersedes."""

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
        return parse_policy(self.data, version=self.version, published_at=self.published_at)
