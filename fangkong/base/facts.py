"""What every append-only fact carries: where it came from, when it became known, and what it
corrects."""

from django.conf import settings
from django.db import models

# Why the high-volume fact tables declare their foreign keys with db_constraint=False: the merge
# (fangkong.ingest.merge) resolves every reference by a join before it inserts, and rows whose
# person, tube, site or community is unknown are rejected, so the database-level check would
# only repeat it — at the price of one trigger per row and key on PostgreSQL, which costs more
# than the whole merge. Deletion is PROTECTed in the ORM and facts are never deleted.


class Fact(models.Model):
    batch = models.ForeignKey(
        "ingest.Batch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    recorded_at = models.DateTimeField("入库时间")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
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
        db_constraint=False,
    )
    correction_reason = models.CharField("更正原因", max_length=200, blank=True)

    class Meta:
        abstract = True


def superseding_once(name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["supersedes"], condition=models.Q(supersedes__isnull=False), name=name
    )
