"""What every append-only fact carries: where it came from, when it became known, and what it
corrects."""

from django.conf import settings
from django.db import models


class Fact(models.Model):
    batch = models.ForeignKey(
        "ingest.Batch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    recorded_at = models.DateTimeField("入库时间")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    # A correction is a new fact naming the one it replaces; the old row is never changed.
    # Unique where set (see `superseding_once`): a fact is corrected at most once, and the
    # index holds only corrections, so bulk loads of new facts do not pay for it.
    supersedes = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        db_index=False,
    )
    correction_reason = models.CharField("更正原因", max_length=200, blank=True)

    class Meta:
        abstract = True


def superseding_once(name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["supersedes"], condition=models.Q(supersedes__isnull=False), name=name
    )
