"""Exit passes (易行码): community rules as data, and the passes residents were issued.

A rule set applies to one community, or (community empty) to the whole city. Rule sets are
append-only: publishing rules adds a row; the latest one in effect wins, and a community's own
rules beat the city default (fangkong.exits.rules.rules_for).
"""

from django.conf import settings
from django.db import models

from fangkong.engine.gate_rules import ExitRules, parse_exit_rules


class ExitRuleSet(models.Model):
    community = models.ForeignKey(
        "places.Division",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="社区/村",
        help_text="为空即全市默认规则",
    )
    # The rule mapping as published: keys of fangkong.engine.gate_rules.ExitRules, plain JSON.
    rules = models.JSONField("规则")
    effective_from = models.DateTimeField("生效时间")
    recorded_at = models.DateTimeField("发布时间")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "易行码规则"
        verbose_name_plural = "易行码规则"
        indexes = [models.Index(fields=["community", "effective_from"], name="exit_rules_at")]

    def __str__(self) -> str:
        return f"{self.community_id or '全市'} 自 {self.effective_from:%Y-%m-%d %H:%M}"

    def as_rules(self) -> ExitRules:
        return parse_exit_rules(self.rules)


class ExitPass(models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued", "待出门"
        OUT = "out", "已出门"
        RETURNED = "returned", "已返回"
        CANCELLED = "cancelled", "已作废"

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey("places.Division", on_delete=models.PROTECT, related_name="+")
    # The household the pass counts against: Person.household, or "p<person id>" when empty.
    household = models.CharField("户", max_length=40)
    rule_set = models.ForeignKey(
        ExitRuleSet, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField("签发时间")
    valid_from = models.DateTimeField("生效时间")
    valid_until = models.DateTimeField("失效时间")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ISSUED)
    exited_at = models.DateTimeField("出门时间", null=True, blank=True)
    returned_at = models.DateTimeField("返回时间", null=True, blank=True)
    # Checkpoint ids as text: the checkpoints app may key them any way it likes.
    exit_checkpoint = models.CharField("出门卡口", max_length=64, blank=True)
    return_checkpoint = models.CharField("返回卡口", max_length=64, blank=True)

    class Meta:
        verbose_name = "易行码"
        verbose_name_plural = "易行码"
        indexes = [
            models.Index(fields=["household", "issued_at"], name="exit_pass_household"),
            models.Index(fields=["person", "issued_at"], name="exit_pass_person"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.person_id} {self.get_status_display()}"

    def expired(self, now) -> bool:
        """Issued, never used, and past its window (no stored status: nothing runs at expiry)."""
        return self.status == self.Status.ISSUED and self.valid_until <= now

    def state_label(self, now) -> str:
        return "已过期" if self.expired(now) else self.get_status_display()
