"""Residents (居民), presence facts (在场) and designations (密接/次密接判定)."""

from django.conf import settings
from django.db import models

from fangkong.base.facts import Fact, superseding_once


class Person(models.Model):
    """A resident. `id` is the dense person number the batch engine indexes arrays by."""

    # Unique and indexed through Meta, not unique=/db_index=: on PostgreSQL those add a second,
    # pattern-matching index per column, which bulk loads pay for and no query here uses.
    id_number = models.CharField("身份证号", max_length=18)
    name = models.CharField("姓名", max_length=64)
    phone = models.CharField("手机号", max_length=20)
    community = models.ForeignKey(
        "places.Division",
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    # The county-level division of the home community: every staff query is scoped by it.
    county_code = models.CharField("所属区县", max_length=6)
    employer = models.CharField("工作单位", max_length=128, blank=True)
    # Household (户号): its members share one exit-pass quota; empty, the person is a household
    # of one. A database default too, because ingestion inserts residents in plain SQL.
    household = models.CharField("户号", max_length=32, blank=True, default="", db_default="")
    batch = models.ForeignKey(
        "ingest.Batch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    recorded_at = models.DateTimeField("登记时间")

    class Meta:
        verbose_name = "居民"
        verbose_name_plural = "居民"
        constraints = [models.UniqueConstraint(fields=["id_number"], name="person_id_number_once")]
        indexes = [
            models.Index(fields=["phone"], name="person_phone"),
            models.Index(fields=["county_code"], name="person_county"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.masked_id_number}"

    @property
    def masked_id_number(self) -> str:
        from fangkong.engine.id_numbers import mask

        return mask(self.id_number)


class PersonRevision(models.Model):
    """The values a resident record had before a correction replaced them (append-only)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="revisions")
    name = models.CharField(max_length=64)
    phone = models.CharField(max_length=20)
    community_code = models.CharField(max_length=12)
    employer = models.CharField(max_length=128, blank=True)
    valid_until = models.DateTimeField()
    replaced_by_batch = models.ForeignKey(
        "ingest.Batch", null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"{self.person_id} 至 {self.valid_until:%Y-%m-%d %H:%M}"


class Presence(Fact):
    """A person detected in a region during a period (在场): the real rule's population was
    registered residents plus people known to be present."""

    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="presences",
        db_index=False,
        db_constraint=False,
    )
    region_code = models.CharField("区域代码", max_length=12)
    start_at = models.DateTimeField("开始")
    end_at = models.DateTimeField("结束")
    source = models.CharField("来源", max_length=64, blank=True)

    class Meta:
        verbose_name = "在场记录"
        verbose_name_plural = "在场记录"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "region_code", "start_at", "end_at", "source"],
                name="presence_natural_key",
            ),
            superseding_once("presence_corrected_once"),
            models.CheckConstraint(
                condition=models.Q(end_at__gte=models.F("start_at")), name="presence_ordered"
            ),
        ]


class DesignationKind(models.TextChoices):
    CLOSE_CONTACT = "close_contact", "密切接触者"
    SECONDARY_CONTACT = "secondary_contact", "次密切接触者"
    SPACETIME_COMPANION = "spacetime_companion", "时空伴随者"


class Designation(Fact):
    """A person designated a contact by an epidemiological investigation (流调判定)."""

    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="designations",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField("类别", max_length=24, choices=DesignationKind.choices)
    start_at = models.DateTimeField("起始")
    end_at = models.DateTimeField("截止", null=True, blank=True)
    designated_by = models.CharField("判定单位", max_length=64)

    class Meta:
        verbose_name = "密接判定"
        verbose_name_plural = "密接判定"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "kind", "start_at", "designated_by", "end_at"],
                name="designation_natural_key",
            ),
            superseding_once("designation_corrected_once"),
        ]
