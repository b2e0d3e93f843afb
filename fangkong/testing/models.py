"""Testing sites, tubes, samplings (采样) and lab results (检测结果) — append-only facts."""

from django.db import models

from fangkong.base.facts import Fact, superseding_once


class TestingSite(models.Model):
    code = models.CharField("采样点编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=128)
    community = models.ForeignKey("places.Division", on_delete=models.PROTECT, related_name="+")
    county_code = models.CharField("所属区县", max_length=6, db_index=True)

    class Meta:
        verbose_name = "采样点"
        verbose_name_plural = "采样点"

    def __str__(self) -> str:
        return self.name


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
        constraints = [
            models.UniqueConstraint(
                fields=["person", "tube", "site", "sampled_at"], name="sampling_natural_key"
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
        constraints = [
            models.UniqueConstraint(
                fields=["tube", "result", "lab", "reported_at"], name="result_natural_key"
            ),
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
