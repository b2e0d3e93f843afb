"""Clearance requests (解码申请): one model for the employer batch, the online appeal and the
12345 hotline. The status moves only through fangkong.engine.clearances; `steps` keeps every
step (who, when, why) for the resident's page and the review desk."""

from django.conf import settings
from django.db import models

from fangkong.codes.models import ReadableJSONEncoder
from fangkong.engine.clearances import FINAL, STATUS_LABELS


class Channel(models.TextChoices):
    EMPLOYER = "employer", "单位集中申请"
    APPEAL = "appeal", "线上申诉"
    HOTLINE = "hotline", "12345热线"


OPEN_STATUSES = [s for s in STATUS_LABELS if s not in FINAL]


class Clearance(models.Model):
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    # The person's district when submitted: reviewers see their districts' requests.
    county_code = models.CharField("所属区县", max_length=6)
    policy_id = models.CharField("申诉的赋码政策", max_length=64)
    policy_version = models.PositiveIntegerField("政策版本")
    channel = models.CharField("渠道", max_length=12, choices=Channel.choices)
    status = models.CharField("状态", max_length=16, choices=list(STATUS_LABELS.items()))
    description = models.TextField("情况说明", blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField("提交时间")
    decided_at = models.DateTimeField("决定时间", null=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_reason = models.CharField("决定理由", max_length=500, blank=True)
    steps = models.JSONField(default=list, encoder=ReadableJSONEncoder)

    class Meta:
        verbose_name = "解码申请"
        verbose_name_plural = "解码申请"
        constraints = [
            # One open request per person and reason.
            models.UniqueConstraint(
                fields=["person", "policy_id"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="clearance_open_once",
            )
        ]
        indexes = [models.Index(fields=["county_code", "status"], name="clearance_queue")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.policy_id} {self.get_status_display()}"
