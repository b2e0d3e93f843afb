"""Every file, API call or demo load is one batch; its bad rows and its conflicts stay with it."""

from django.conf import settings
from django.db import models


class Kind(models.TextChoices):
    RESIDENTS = "residents", "居民"
    PRESENCE = "presence", "在场记录"
    DESIGNATIONS = "designations", "密接判定"
    SAMPLINGS = "samplings", "采样记录"
    RESULTS = "results", "检测结果"
    SITES = "sites", "采样点"
    CASES = "cases", "病例"
    ENTERPRISES = "enterprises", "企业名录"
    EMPLOYEES = "employees", "企业员工"
    DAILY_REPORTS = "daily_reports", "企业日报"


class Batch(models.Model):
    kind = models.CharField("类别", max_length=16, choices=Kind.choices)
    source = models.CharField("来源", max_length=16)  # web, cli, api, demo
    filename = models.CharField("文件名", max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    file_format = models.CharField("格式", max_length=8, blank=True)
    encoding = models.CharField("编码", max_length=16, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField("开始时间")
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    rows = models.PositiveIntegerField("行数", default=0)
    inserted = models.PositiveIntegerField("新增", default=0)
    duplicates = models.PositiveIntegerField("重复", default=0)
    rejected = models.PositiveIntegerField("拒绝", default=0)
    flagged = models.PositiveIntegerField("待核", default=0)
    failure = models.TextField("失败原因", blank=True)
    ignored_columns = models.JSONField("已忽略的列", default=list, blank=True)
    # The process loading it ("host:pid"), for telling a batch still being loaded from one
    # whose process died (fangkong.ingest.actions.do_close_abandoned).
    worker = models.CharField("导入进程", max_length=80, blank=True)
    # An upload of the same file after this one's process died: it completes it.
    retry_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="retries",
        verbose_name="重试的批次",
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "导入批次"
        verbose_name_plural = "导入批次"
        # Every load looks for unfinished batches (do_close_abandoned): a few among many.
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(finished_at__isnull=True),
                name="batch_unfinished",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.filename}"


class RowError(models.Model):
    """A row that was not loaded, with the field and the reason, so the sender can fix it."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="errors")
    row = models.PositiveIntegerField("行号")
    field = models.CharField("字段", max_length=32)
    value = models.CharField("值", max_length=200, blank=True)
    reason = models.CharField("原因", max_length=200)

    class Meta:
        ordering = ["batch", "row"]

    def __str__(self) -> str:
        return f"第{self.row}行 {self.field}: {self.reason}"


class Flag(models.Model):
    """A conflict a person must resolve: an incoming row disagrees with a fact already held."""

    class Status(models.TextChoices):
        OPEN = "open", "待处理"
        ACCEPTED = "accepted", "已采纳新值"
        REJECTED = "rejected", "已维持原值"

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    row = models.PositiveIntegerField("行号")
    key = models.CharField("对象", max_length=64)
    county_code = models.CharField(max_length=6, blank=True, db_index=True)
    existing = models.JSONField("现有值")
    incoming = models.JSONField("新值")
    # sha256 of the incoming row's canonical JSON: the same conflicting row arriving again
    # is the same flag.
    incoming_digest = models.CharField(max_length=64)
    reason = models.CharField("原因", max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "key", "incoming_digest"], name="flag_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key}: {self.reason}"
