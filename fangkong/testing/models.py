"""Testing sites, tubes, samplings (采样) and lab results (检测结果) — append-only facts."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce

from fangkong.base.facts import Fact, superseding_once


class SiteKind(models.TextChoices):
    FIXED = "fixed", "固定采样点"
    MOBILE = "mobile", "流动采样队"
    HOSPITAL = "hospital", "医疗机构"


class SiteStatus(models.TextChoices):
    OPEN = "open", "开放"
    CLOSED = "closed", "已关闭"


class TestingSite(models.Model):
    """A place (or team) that swabs. Reference data, not a fact: staff edit it, and every change
    keeps the old values as a `TestingSiteRevision`. A closed site takes no samplings from the
    moment it closed; the samplings it took before stay."""

    code = models.CharField("采样点编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=128)
    community = models.ForeignKey("places.Division", on_delete=models.PROTECT, related_name="+")
    # The community's county: samplers and reviewers are scoped by it.
    county_code = models.CharField("所属区县", max_length=6, db_index=True)
    # Database defaults too, because ingestion inserts sites in plain SQL.
    address = models.CharField("地址", max_length=200, blank=True, default="", db_default="")
    kind = models.CharField(
        "类型", max_length=12, choices=SiteKind.choices, default=SiteKind.FIXED, db_default="fixed"
    )
    status = models.CharField(
        "状态", max_length=8, choices=SiteStatus.choices, default=SiteStatus.OPEN, db_default="open"
    )
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)

    class Meta:
        verbose_name = "采样点"
        verbose_name_plural = "采样点"

    def __str__(self) -> str:
        return self.name


class TestingSiteRevision(models.Model):
    """The values a site had before a change replaced them (append-only): from a page (with
    the user and the reason) or from a corrected row of a site list (with its batch)."""

    site = models.ForeignKey(TestingSite, on_delete=models.PROTECT, related_name="revisions")
    name = models.CharField(max_length=128)
    community_code = models.CharField(max_length=12)
    address = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=12, choices=SiteKind.choices)
    status = models.CharField(max_length=8, choices=SiteStatus.choices)
    valid_until = models.DateTimeField()
    replaced_by_batch = models.ForeignKey(
        "ingest.Batch", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=200)

    class Meta:
        verbose_name = "采样点变更记录"
        verbose_name_plural = "采样点变更记录"

    def __str__(self) -> str:
        return f"{self.site_id} 至 {self.valid_until:%Y-%m-%d %H:%M}"


class Tube(models.Model):
    """A sample tube: 1 (单管), 10 (10混1) or 20 (20混1) people."""

    barcode = models.CharField("试管条码", max_length=32)  # unique through Meta (see Person)
    capacity = models.PositiveSmallIntegerField("混采人数")
    batch = models.ForeignKey(
        "ingest.Batch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        verbose_name = "试管"
        verbose_name_plural = "试管"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__in=[1, 10, 20]), name="tube_capacity_known"
            ),
            models.UniqueConstraint(fields=["barcode"], name="tube_barcode_once"),
        ]

    def __str__(self) -> str:
        return self.barcode


class Sampling(Fact):
    """A site scanned a person's code and a tube barcode at a time."""

    # Looked up through the natural key, whose first column is the person.
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        related_name="samplings",
        db_index=False,
        db_constraint=False,
    )
    tube = models.ForeignKey(
        Tube, on_delete=models.PROTECT, related_name="samplings", db_constraint=False
    )
    site = models.ForeignKey(
        TestingSite, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    sampled_at = models.DateTimeField("采样时间")

    class Meta:
        verbose_name = "采样记录"
        verbose_name_plural = "采样记录"
        # One sampling of a person per tube: a second one (another time or site) is a
        # correction, which names the sampling it replaces. Enforced here, not only by the
        # merge, so that no two writers can ever both add one. Lookups by person and tube use
        # this index too.
        constraints = [
            models.UniqueConstraint(
                "person", "tube", Coalesce("supersedes", 0), name="sampling_once_per_tube"
            ),
            superseding_once("sampling_corrected_once"),
        ]


class Outcome(models.TextChoices):
    NEGATIVE = "negative", "阴性"
    POSITIVE = "positive", "阳性"
    INVALID = "invalid", "无效(需重采)"


class LabResult(Fact):
    tube = models.ForeignKey(
        Tube, on_delete=models.PROTECT, related_name="results", db_index=False, db_constraint=False
    )
    result = models.CharField("结果", max_length=8, choices=Outcome.choices)
    lab = models.CharField("检测机构", max_length=64)
    reported_at = models.DateTimeField("报告时间")

    class Meta:
        verbose_name = "检测结果"
        verbose_name_plural = "检测结果"
        # One result per tube: another one is a correction naming the result it replaces, so
        # at most one stands (and lookups by tube use this index).
        constraints = [
            models.UniqueConstraint("tube", Coalesce("supersedes", 0), name="result_once_per_tube"),
            superseding_once("result_corrected_once"),
        ]


class AntigenTest(models.Model):
    """An antigen self-test (抗原自测) the resident reported on their page. Factory gates ask
    for a negative one the same day; a positive one is reported on, never hidden."""

    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    result = models.CharField("结果", max_length=8, choices=Outcome.choices[:2])
    tested_at = models.DateTimeField("检测时间")
    recorded_at = models.DateTimeField("上报时间")

    class Meta:
        verbose_name = "抗原自测"
        verbose_name_plural = "抗原自测"
        indexes = [models.Index(fields=["person", "tested_at"], name="antigen_person_time")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.get_result_display()} {self.tested_at:%Y-%m-%d %H:%M}"
