"""Clearance requests (解码申请): one model for the employer batch, the online appeal and the
12345 hotline. The status moves only through fangkong.engine.clearances; `steps` keeps every
step (who, when, why) for the resident's page and the review desk."""

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Subquery

from fangkong.codes.models import ReadableJSONEncoder
from fangkong.engine.clearances import (
    FINAL,
    MORE_EVIDENCE,
    STATUS_LABELS,
    SUBMITTED,
    UNDER_REVIEW,
)
from fangkong.policies.models import PolicyVersion


class Channel(models.TextChoices):
    EMPLOYER = "employer", "单位集中申请"
    APPEAL = "appeal", "线上申诉"
    HOTLINE = "hotline", "12345热线"
    # An exceptional manual override (人工复核解除): proposed by one staff member, approved by
    # another, its reason shown to the resident. It exempts like any clearance; no colour typed.
    OVERRIDE = "override", "人工复核(双人)"


OPEN_STATUSES = [s for s in STATUS_LABELS if s not in FINAL]


class ClearanceQuerySet(models.QuerySet):
    def with_policy_title(self):
        """`policy_title`: the title of the version contested, which staff read before its id."""
        return self.annotate(
            policy_title=Subquery(
                PolicyVersion.objects.filter(
                    policy_id=OuterRef("policy_id"), version=OuterRef("policy_version")
                ).values("title")[:1]
            )
        )


class EmployerBatchQuerySet(models.QuerySet):
    def with_policy_title(self):
        """`policy_title`: the title of the version in force when the list was uploaded."""
        return self.annotate(
            policy_title=Subquery(
                PolicyVersion.objects.filter(
                    policy_id=OuterRef("policy_id"), published_at__lte=OuterRef("uploaded_at")
                )
                .order_by("-version")
                .values("title")[:1]
            )
        )


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
    # The employer's list this request came from (channel "employer").
    batch = models.ForeignKey(
        "EmployerBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="clearances"
    )

    objects = ClearanceQuerySet.as_manager()

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

    @property
    def awaiting(self) -> str:
        """Whom an open request waits for, as its proposer or a reviewer reads it."""
        if self.status == MORE_EVIDENCE:
            return "等待申请人补充材料"
        if self.status not in (SUBMITTED, UNDER_REVIEW):
            return ""
        return "等待另一名工作人员批准" if self.channel == Channel.OVERRIDE else "等待区县审核"


class EmployerBatch(models.Model):
    """An employer's list of staff sampled without scanning (单位集中申请解码名单)."""

    employer = models.CharField("单位", max_length=128)
    # The registered enterprise the list is for (fangkong.enterprises), when there is one.
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="clearance_batches",
        verbose_name="企业",
    )
    policy_id = models.CharField("申诉的赋码政策", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间")
    file_name = models.CharField("名单文件", max_length=255)
    # The same list uploaded again is the same batch: nothing changes.
    sha256 = models.CharField(max_length=64)
    note = models.TextField("单位说明", blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_accepted = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)

    objects = EmployerBatchQuerySet.as_manager()

    class Meta:
        verbose_name = "单位集中申请"
        verbose_name_plural = "单位集中申请"
        constraints = [
            models.UniqueConstraint(
                fields=["employer", "policy_id", "sha256"], name="employer_batch_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.employer} #{self.pk}"


class EmployerBatchRow(models.Model):
    """One row of an employer's list as uploaded, with the checks it failed (if any)."""

    batch = models.ForeignKey(EmployerBatch, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField("行号")  # as the spreadsheet numbers it
    id_number = models.CharField("身份证号", max_length=32)
    name = models.CharField("姓名", max_length=64)
    site_code = models.CharField("采样点", max_length=64, blank=True)
    sampled_at = models.DateTimeField("采样时间", null=True)
    tube = models.CharField("试管条码", max_length=32, blank=True)
    person = models.ForeignKey(
        "people.Person", null=True, on_delete=models.PROTECT, related_name="+"
    )
    errors = models.JSONField("未通过的核验", default=list)
    clearance = models.OneToOneField(
        Clearance, null=True, on_delete=models.PROTECT, related_name="batch_row"
    )

    class Meta:
        ordering = ["row_number"]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_number}"


class Evidence(models.Model):
    """An uploaded proof (申诉材料): an image or PDF checked by its content, kept outside the web
    root under a random name, served only to the district's reviewers and the appellant."""

    clearance = models.ForeignKey(
        Clearance, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    batch = models.ForeignKey(
        EmployerBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    stored_name = models.CharField(max_length=64, unique=True)
    original_name = models.CharField("文件名", max_length=120)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField("上传时间")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "申诉材料"
        verbose_name_plural = "申诉材料"

    def __str__(self) -> str:
        return self.original_name


class HotlineCall(models.Model):
    """A call to the 12345 code desk (赋码工作专席来电记录)."""

    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("来电时间")
    notes = models.TextField("通话记录")
    clearance = models.ForeignKey(
        Clearance, null=True, blank=True, on_delete=models.PROTECT, related_name="calls"
    )

    class Meta:
        verbose_name = "热线来电"
        verbose_name_plural = "热线来电"
        indexes = [models.Index(fields=["person", "at"], name="hotline_call_person")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.at:%Y-%m-%d %H:%M}"
