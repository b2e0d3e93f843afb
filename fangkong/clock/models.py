"""The clock's durable state, and the background tasks started from pages.

The clock's queue itself is django-tasks-db's table (one row per enqueued task); what it keeps
here is what must survive a crash: how far time has been applied (SweepState), and, per task a
page started, who asked, what for, and the outcome the page shows (BackgroundTask)."""

from django.conf import settings
from django.db import models


class SweepState(models.Model):
    """One row: every time-driven change due at or before `swept_to` has been applied. A sweep
    moves it forward in the transaction that applies the changes due at the new instant, so an
    instant is applied once, whoever sweeps and however often they die midway."""

    swept_to = models.DateTimeField("已处理至")

    class Meta:
        verbose_name = "时钟进度"
        verbose_name_plural = "时钟进度"

    def __str__(self) -> str:
        return f"{self.swept_to:%Y-%m-%d %H:%M:%S}"


class BackgroundTask(models.Model):
    """Slow work a page handed to the worker (an employer's list of 1 000 rows, the audit log's
    full check): the page shows 正在处理… and reads the outcome here when it is done."""

    class Kind(models.TextChoices):
        EMPLOYER_BATCH = "employer_batch", "单位集中申请名单核验"
        AUDIT_VERIFY = "audit_verify", "审计日志完整校验"

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "正在处理"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    kind = models.CharField("任务", max_length=32, choices=Kind.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField("提交时间")
    status = models.CharField("状态", max_length=8, choices=Status.choices, default="queued")
    params = models.JSONField("参数", default=dict)
    # Uploaded files waiting to be read; emptied once the task has run.
    payload = models.BinaryField("待处理文件", null=True)
    result = models.JSONField("结果", null=True)
    error = models.TextField("失败原因", blank=True)
    started_at = models.DateTimeField("开始时间", null=True)
    finished_at = models.DateTimeField("完成时间", null=True)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        indexes = [
            models.Index(fields=["kind", "requested_by", "-requested_at"], name="task_kind_user")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} {self.get_status_display()}"
