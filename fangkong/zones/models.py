"""Zone decisions (风险区划调整通告) and epidemic-free labels (无疫小区 / 无疫乡镇(街道)).

A decision is proposed, approved by someone else and published as a numbered notice; publishing
writes its entries as `places.CommunityZone` rows from its effective time. Epidemic-free labels
are granted in numbered batches (第N批) and withdrawn (摘牌) with a time and a reason, never
deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from fangkong.engine.policies import RISK_AREAS, THREE_ZONES
from fangkong.places.models import Division, ZoneLevel

CITY_ISSUER = "长春市新冠肺炎疫情防控工作领导小组"


class Scheme(models.TextChoices):
    THREE_ZONES = THREE_ZONES, "三区划分(封控区、管控区、防范区)"
    RISK_AREAS = RISK_AREAS, "风险区(高、中、低风险区)"


class DecisionStatus(models.TextChoices):
    PROPOSED = "proposed", "待审核"
    APPROVED = "approved", "已批准,待发布"
    PUBLISHED = "published", "已发布"
    REJECTED = "rejected", "已驳回"


class DecisionSource(models.TextChoices):
    MANUAL = "manual", "人工提出"
    AUTO = "auto", "系统按规则自动提出"


def _user_field(label: str):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=label,
    )


class ZoneDecision(models.Model):
    """One notice: its entries (community → level) take effect from `effective_from`."""

    number = models.PositiveIntegerField("通告编号", null=True, blank=True)
    issuer = models.CharField("发布单位", max_length=64, default=CITY_ISSUER)
    title = models.CharField("标题", max_length=200)
    scheme = models.CharField("划分方式", max_length=12, choices=Scheme.choices)
    effective_from = models.DateTimeField("生效时间")
    effective_until = models.DateTimeField("截止时间", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=DecisionStatus.choices, default=DecisionStatus.PROPOSED
    )
    source = models.CharField(
        "来源", max_length=8, choices=DecisionSource.choices, default=DecisionSource.MANUAL
    )
    evidence = models.JSONField("依据数据", default=dict, blank=True)
    proposed_by = _user_field("提出人")
    proposed_at = models.DateTimeField("提出时间")
    approved_by = _user_field("批准人")
    approved_at = models.DateTimeField("批准时间", null=True, blank=True)
    published_by = _user_field("发布人")
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    rejected_by = _user_field("驳回人")
    rejected_at = models.DateTimeField("驳回时间", null=True, blank=True)
    reject_reason = models.CharField("驳回理由", max_length=200, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        verbose_name = "风险区划调整决定"
        verbose_name_plural = "风险区划调整决定"
        constraints = [
            # A rejected draft gives its number back; every other notice keeps its own.
            models.UniqueConstraint(
                fields=["number"],
                condition=Q(number__isnull=False) & ~Q(status="rejected"),
                name="zone_decision_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gt=models.F("effective_from")),
                name="zone_decision_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notice} {self.title}"

    @property
    def notice(self) -> str:
        """The notice's name as published, e.g. 长春市…领导小组通告(第21号)."""
        if self.number is None:
            return f"{self.issuer}通告(编号待定)"
        return f"{self.issuer}通告(第{self.number}号)"


class ZoneDecisionEntry(models.Model):
    decision = models.ForeignKey(ZoneDecision, on_delete=models.PROTECT, related_name="entries")
    community = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+")
    level = models.CharField("级别", max_length=12, choices=ZoneLevel.choices)

    class Meta:
        ordering = ["community_id"]
        verbose_name = "调整条目"
        verbose_name_plural = "调整条目"
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "community"], name="zone_decision_entry_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.get_level_display()}"


class EpidemicFreeKind(models.TextChoices):
    COMMUNITY = "community", "无疫小区"
    TOWN = "town", "无疫乡镇(街道)"


class EpidemicFreeBatch(models.Model):
    """第N批 of one kind; numbers run 1, 2, 3 … per kind."""

    kind = models.CharField("类别", max_length=10, choices=EpidemicFreeKind.choices)
    number = models.PositiveIntegerField("批次")
    published_at = models.DateTimeField("公布时间")
    recorded_at = models.DateTimeField("入库时间")
    published_by = _user_field("公布人")
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        ordering = ["kind", "number"]
        verbose_name = "无疫小区(乡镇)批次"
        verbose_name_plural = "无疫小区(乡镇)批次"
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="epidemic_free_batch_number"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return f"第{self.number}批{self.get_kind_display()}"


class EpidemicFreeLabel(models.Model):
    """A division's label, granted by a batch; withdrawing (摘牌) fills the withdrawal fields."""

    batch = models.ForeignKey(EpidemicFreeBatch, on_delete=models.PROTECT, related_name="labels")
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="epidemic_free_labels"
    )
    granted_at = models.DateTimeField("授牌时间")
    withdrawn_at = models.DateTimeField("摘牌时间", null=True, blank=True)
    withdraw_reason = models.CharField("摘牌原因", max_length=200, blank=True)
    withdrawn_by = _user_field("摘牌人")
    withdrawn_recorded_at = models.DateTimeField("摘牌入库时间", null=True, blank=True)

    class Meta:
        ordering = ["division_id"]
        verbose_name = "无疫标识"
        verbose_name_plural = "无疫标识"
        constraints = [
            models.UniqueConstraint(
                fields=["division"],
                condition=Q(withdrawn_at__isnull=True),
                name="epidemic_free_one_standing_label",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.division_id} {self.batch}"


class AssessmentMark(models.Model):
    """One row: the facts the last automatic eligibility assessment saw (the highest id of each
    table that can change a finding) — the clock runs the assessment after a sweep only when
    they moved, not at every instant it applies."""

    facts = models.CharField("数据标记", max_length=200)
    assessed_at = models.DateTimeField("核查时间")

    class Meta:
        verbose_name = "自动核查标记"
        verbose_name_plural = "自动核查标记"

    def __str__(self) -> str:
        return f"{self.assessed_at:%Y-%m-%d %H:%M} {self.facts}"
