"""Staff roles (DESIGN §6) and the districts each staff member may see."""

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    RESIDENT = "resident", "居民"
    SAMPLER = "sampler", "采样人员"
    LAB = "lab", "检测机构"
    CHECKPOINT = "checkpoint", "卡口人员"
    HOTLINE = "hotline", "12345热线专席"
    EMPLOYER = "employer", "企业联络员"
    # The resumption desk's "1+5" task force (fangkong.passes, fangkong.tickets, fangkong.supplies).
    PASS_OFFICER = "pass_officer", "车辆通行证专员"
    TASK_GROUP = "task_group", "复工复产专班组员"
    SUPPLY_OFFICER = "supply_officer", "物资保障专员"
    DISTRICT_REVIEWER = "district_reviewer", "区县审核员"
    COMMAND_CENTRE = "command_centre", "指挥部"
    AUDITOR = "auditor", "审计员"
    ADMIN = "admin", "系统管理员"


class StaffProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    role = models.CharField("角色", max_length=24, choices=Role.choices)
    # County-level codes this person may see; empty means none unless the role is city-wide.
    districts = models.JSONField("负责区县", default=list, blank=True)
    organisation = models.CharField("单位", max_length=128, blank=True)
    # An enterprise liaison account (企业联络员) speaks for one registered enterprise: its staff,
    # clearance lists, reports and dashboard are that enterprise's (fangkong.enterprises).
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
        verbose_name="所属企业",
    )

    class Meta:
        verbose_name = "工作人员"
        verbose_name_plural = "工作人员"

    def __str__(self) -> str:
        return f"{self.user.username} ({self.get_role_display()})"


class Throttle(models.Model):
    """Sign-in attempts counted for one client or one account (fangkong.accounts.throttle). In
    the database so that every app node behind the proxy counts the same attempts."""

    scope = models.CharField(max_length=24)
    # A keyed hash of the address, ID number or user name: none of them is stored in clear.
    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="throttle_scope_key")]
        indexes = [models.Index(fields=["window_start"], name="throttle_window")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key[:8]} ×{self.count}"
