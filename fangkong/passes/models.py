"""Vehicle passes (车辆通行证): an enterprise's application, the officer's decision, the numbered
issuing batch (第一批2872个) and revocation. One row per application: a re-application after a
rejection is a new row pointing at the old one, with its own handling clock."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class VehicleType(models.TextChoices):
    TRUCK = "truck", "货车"
    BUS = "bus", "客车"
    CAR = "car", "小型汽车"
    COLD_CHAIN = "cold_chain", "冷链车"
    HAZMAT = "hazmat", "危化品车"
    VAN = "van", "厢式货车"
    OTHER = "other", "其他"


class Decision(models.TextChoices):
    APPROVED = "approved", "批准"
    REJECTED = "rejected", "驳回"


class PassBatch(models.Model):
    """A numbered issuing batch: closing it gives every approved, unissued pass in the closing
    officer's districts its batch and pass number, and makes it valid."""

    number = models.PositiveIntegerField("批次", unique=True)
    closed_at = models.DateTimeField("发放时间")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # The districts the closing officer spoke for (empty: the whole city).
    districts = models.JSONField("发放范围", default=list, blank=True)

    class Meta:
        verbose_name = "发放批次"
        verbose_name_plural = "发放批次"
        ordering = ["number"]

    def __str__(self) -> str:
        return f"第{self.number}批"


class VehiclePass(models.Model):
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="vehicle_passes"
    )
    county_code = models.CharField("所属区县", max_length=6, db_index=True)
    plate = models.CharField("车牌号", max_length=10)
    vehicle_type = models.CharField("车辆类型", max_length=12, choices=VehicleType.choices)
    driver = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    driver_phone = models.CharField("驾驶员电话", max_length=20)
    origin = models.CharField("起点", max_length=40)
    origin_code = models.CharField("起点区划", max_length=12, blank=True, default="")
    destination = models.CharField("终点", max_length=40)
    destination_code = models.CharField("终点区划", max_length=12, blank=True, default="")
    cargo = models.CharField("运输物资", max_length=100)
    valid_from = models.DateTimeField("有效期自")
    valid_until = models.DateTimeField("有效期至")
    previous = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reapplication",
        verbose_name="原申请(驳回后重新申请)",
    )
    applied_at = models.DateTimeField("申请时间", db_index=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(
        "处理结果", max_length=8, choices=Decision.choices, blank=True, default=""
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.CharField("处理意见", max_length=200, blank=True, default="")
    batch = models.ForeignKey(
        PassBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="passes"
    )
    number = models.PositiveIntegerField("通行证编号", null=True, blank=True, unique=True)
    issued_at = models.DateTimeField("发放时间", null=True, blank=True)
    token = models.TextField("签名二维码", blank=True, default="")
    kid = models.CharField("签名密钥", max_length=32, blank=True, default="")
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.CharField("吊销原因", max_length=200, blank=True, default="")

    class Meta:
        verbose_name = "车辆通行证"
        verbose_name_plural = "车辆通行证"
        indexes = [models.Index(fields=["county_code", "applied_at"], name="pass_county_applied")]

    def __str__(self) -> str:
        return f"{self.plate} ({self.enterprise_id})"

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.issued_at is not None:
            return "issued"
        if self.decision:
            return self.decision
        return "pending"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def number_text(self) -> str:
        return "" if self.number is None else f"吉车证{self.number:06d}"


STATUS_LABELS = {
    "pending": "待处理",
    "approved": "已批准,待发放",
    "rejected": "已驳回",
    "issued": "已发放",
    "revoked": "已吊销",
}
