"""Checkpoints (卡口) and their gate log (一人一档通行记录)."""

import hashlib

from django.conf import settings
from django.db import models

from fangkong.engine.gate_rules import RuleError, parse_requirements


class CheckpointType(models.Model):
    """A kind of checkpoint and its requirements, as data (fixtures/checkpoint_types.toml)."""

    code = models.CharField("类型编码", max_length=32, primary_key=True)
    name = models.CharField("名称", max_length=64)
    requirements = models.JSONField("通行要求", default=dict)

    class Meta:
        verbose_name = "卡口类型"
        verbose_name_plural = "卡口类型"

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        try:
            parse_requirements(self.requirements)
        except RuleError as error:
            raise ValidationError({"requirements": str(error)}) from None

    @property
    def parsed(self):
        return parse_requirements(self.requirements)


class Checkpoint(models.Model):
    name = models.CharField("名称", max_length=128)
    type = models.ForeignKey(CheckpointType, on_delete=models.PROTECT, related_name="+")
    county_code = models.CharField("所属区县", max_length=6, db_index=True)
    # The compound a gate belongs to (小区门岗), or the site a testing checkpoint samples for.
    community = models.ForeignKey(
        "places.Division", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    testing_site = models.ForeignKey(
        "testing.TestingSite", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A scanning device authenticates with a bearer key; only its hash is kept.
    device_key_hash = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "卡口"
        verbose_name_plural = "卡口"

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class Outcome(models.TextChoices):
    PASS = "pass", "通过"
    DENY = "deny", "不通过"


class Mode(models.TextChoices):
    ONLINE = "online", "在线核验"
    OFFLINE = "offline", "离线核验"


class GateScan(models.Model):
    """One verified scan, recorded once however often it is sent (scan_id is the device's)."""

    scan_id = models.UUIDField("扫码编号", unique=True)
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="scans")
    kind = models.CharField("码类型", max_length=16, blank=True)
    person = models.ForeignKey(
        "people.Person",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    colour = models.CharField("颜色", max_length=6, blank=True)
    scanned_at = models.DateTimeField("扫码时间")
    received_at = models.DateTimeField("入库时间")
    outcome = models.CharField("结果", max_length=4, choices=Outcome.choices)
    reasons = models.JSONField("原因", default=list)
    mode = models.CharField("方式", max_length=8, choices=Mode.choices)
    direction = models.CharField("方向", max_length=8, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )

    class Meta:
        verbose_name = "通行记录"
        verbose_name_plural = "通行记录"
        indexes = [
            models.Index(fields=["checkpoint", "scanned_at"], name="scan_checkpoint_time"),
            models.Index(fields=["person", "scanned_at"], name="scan_person_time"),
        ]

    def __str__(self) -> str:
        return f"{self.checkpoint_id} {self.outcome} @ {self.scanned_at:%Y-%m-%d %H:%M:%S}"


class CacheGeneration(models.Model):
    """One counter, bumped in the transaction of any change to what verifiers cache (a
    checkpoint, a checkpoint type, a device key, a signing key): each process compares it with
    the one its caches were filled under, at most once a second (docs/verify-hot-path.md)."""

    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "核验缓存版本"
        verbose_name_plural = "核验缓存版本"

    def __str__(self) -> str:
        return str(self.value)
