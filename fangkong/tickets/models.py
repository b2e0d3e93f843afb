"""Problem tickets (问题工单) and the "1+5" task force (复工复产工作专班) that solves them.

A ticket's status, group, priority and due time are kept on the ticket (as they stand now) and
on every step (`TicketStep`, append-only: as they stood after that step), so the daily dispatch
(日调度) of any day is computed as known at any time (fangkong.tickets.stats). Steps are never
edited: a note is a step, a reopening is a step.
"""

from django.conf import settings
from django.db import models

from fangkong.tickets import rules


class TaskGroup(models.Model):
    """One of the five groups of a district's task force."""

    county_code = models.CharField("所属区县(开发区)", max_length=6, db_index=True)
    kind = models.CharField("工作组", max_length=16, choices=rules.GROUPS)
    created_at = models.DateTimeField("成立时间")

    class Meta:
        verbose_name = "专班工作组"
        verbose_name_plural = "专班工作组"
        constraints = [
            models.UniqueConstraint(fields=["county_code", "kind"], name="task_group_once")
        ]

    def __str__(self) -> str:
        return f"{self.county_code} {self.get_kind_display()}"


class GroupMember(models.Model):
    group = models.ForeignKey(TaskGroup, on_delete=models.PROTECT, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="task_groups"
    )
    lead = models.BooleanField("组长", default=False)
    since = models.DateTimeField("加入时间")

    class Meta:
        verbose_name = "专班组员"
        verbose_name_plural = "专班组员"
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="group_member_once")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.group}"


class Channel(models.TextChoices):
    ENTERPRISE = "enterprise", "企业自主提交"
    HOTLINE = "hotline", "24小时服务热线"
    LIAISON = "liaison", "包保联络员或区县"


class Ticket(models.Model):
    number = models.CharField("工单编号", max_length=20, unique=True)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="tickets"
    )
    county_code = models.CharField("所属区县(开发区)", max_length=6, db_index=True)
    category = models.CharField("问题类别", max_length=24, choices=rules.CATEGORIES_CHOICES)
    description = models.TextField("问题描述")
    contact_name = models.CharField("联系人", max_length=64)
    contact_phone = models.CharField("联系电话", max_length=20)
    channel = models.CharField("来源", max_length=12, choices=Channel.choices)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="raised_tickets",
    )
    raised_at = models.DateTimeField("提出时间", db_index=True)
    status = models.CharField("状态", max_length=12, choices=rules.STATUS_CHOICES)
    group = models.ForeignKey(
        TaskGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    priority = models.CharField(
        "优先级", max_length=8, choices=rules.PRIORITIES, blank=True, default=""
    )
    due_at = models.DateTimeField("办结时限", null=True, blank=True)
    resolution = models.TextField("办理结果", blank=True, default="")
    updated_at = models.DateTimeField("最近办理时间")

    class Meta:
        verbose_name = "问题工单"
        verbose_name_plural = "问题工单"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status__in=["solved", "closed"], resolution=""),
                name="ticket_solved_has_resolution",
            ),
            models.CheckConstraint(
                condition=models.Q(status="new") | models.Q(group__isnull=False),
                name="ticket_assigned_has_group",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class TicketStep(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="steps")
    action = models.CharField("操作", max_length=8, choices=rules.ACTION_CHOICES)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField("办理人", max_length=64, blank=True, default="")
    at = models.DateTimeField("时间", db_index=True)
    text = models.TextField("内容", blank=True, default="")
    # As they stood after the step.
    status = models.CharField("状态", max_length=12, choices=rules.STATUS_CHOICES)
    group = models.ForeignKey(
        TaskGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    priority = models.CharField("优先级", max_length=8, blank=True, default="")
    due_at = models.DateTimeField("办结时限", null=True, blank=True)
    recorded_at = models.DateTimeField("登记时间")

    class Meta:
        verbose_name = "工单办理记录"
        verbose_name_plural = "工单办理记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.action} {self.at:%Y-%m-%d %H:%M}"
