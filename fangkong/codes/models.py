"""Health codes (健康码/吉祥码): the current code per person, and every change as an event.

Only people whose code was ever computed non-green have a row: a person without one is green.
Code changes are the audit trail, the person's history and the input of statistics.
"""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class ReadableJSONEncoder(DjangoJSONEncoder):
    """Chinese stays Chinese in stored JSON: readable in the database, and no `\\uXXXX` escapes
    for the PostgreSQL driver to process row by row in bulk writes."""

    def __init__(self, *args, **kwargs):
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)


class Colour(models.TextChoices):
    GREEN = "green", "绿码"
    YELLOW = "yellow", "黄码"
    RED = "red", "红码"


class PersonCode(models.Model):
    person = models.OneToOneField(
        "people.Person", on_delete=models.CASCADE, primary_key=True, related_name="code"
    )
    colour = models.CharField("颜色", max_length=6, choices=Colour.choices)
    county_code = models.CharField(max_length=6)
    # [{policy, version, colour, title, message, since}] — the full explanation (triggering
    # facts, how to clear) is computed on demand by the per-person evaluator.
    reasons = models.JSONField(default=list, encoder=ReadableJSONEncoder)
    # Identifies the set of policy versions behind the code, so a recompute can tell a changed
    # explanation from an unchanged one without reading every stored reason.
    signature = models.BigIntegerField(default=0)
    since = models.DateTimeField("起始时间", null=True)
    evaluated_at = models.DateTimeField()

    class Meta:
        verbose_name = "当前健康码"
        verbose_name_plural = "当前健康码"
        indexes = [models.Index(fields=["county_code", "colour"], name="code_county_colour")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.get_colour_display()}"


class CodeChange(models.Model):
    class Cause(models.TextChoices):
        PUBLISH = "publish", "发布政策"
        WITHDRAW = "withdraw", "撤回政策"
        FACTS = "facts", "新的检测/判定数据"
        TIME = "time", "到期"
        RECOMPUTE = "recompute", "全量重算"
        CLEARANCE = "clearance", "解码审批"

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField("时间")
    old_colour = models.CharField(max_length=6, choices=Colour.choices)
    new_colour = models.CharField(max_length=6, choices=Colour.choices)
    reasons = models.JSONField(default=list, encoder=ReadableJSONEncoder)
    cause = models.CharField("原因", max_length=12, choices=Cause.choices)
    cause_detail = models.CharField(max_length=200, blank=True)
    county_code = models.CharField(max_length=6)

    class Meta:
        ordering = ["person", "at", "id"]
        verbose_name = "健康码变更"
        verbose_name_plural = "健康码变更"
        indexes = [
            models.Index(fields=["person", "at"], name="code_change_person"),
            models.Index(fields=["at"], name="code_change_at"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.old_colour}→{self.new_colour} @ {self.at:%Y-%m-%d %H:%M}"


class Exemption(models.Model):
    """An approved exemption of one person from one policy (解码): the engine clears that policy
    for them from `approved_at`. Made by the clearance workflows; revoked, never deleted."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    policy_id = models.CharField("政策编号", max_length=64)
    # The version the clearance contested; empty: every version of the policy.
    policy_version = models.PositiveIntegerField("政策版本", null=True, blank=True)
    approved_at = models.DateTimeField("批准时间")
    approved_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField("理由", max_length=200)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)

    class Meta:
        verbose_name = "解码豁免"
        verbose_name_plural = "解码豁免"
        indexes = [models.Index(fields=["person"], name="exemption_person")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.policy_id}"


class PendingEvaluation(models.Model):
    """People whose facts changed and whose codes have not been re-evaluated since: one row per
    chunk of facts, written in the chunk's transaction, deleted in the one that writes the codes.
    A load killed between the two leaves its rows here, and the next evaluation of pending
    people (`codes.actions.do_evaluate_pending`: every load, `codes recompute`, a clock)
    finishes it. The people are listed in one text, so that marking a million costs one row."""

    batch_id = models.BigIntegerField("导入批次", null=True)
    # When the facts became known (their `recorded_at`): an evaluation as of an earlier time
    # cannot see them, so it leaves the row for a later one.
    since = models.DateTimeField("待重新判定自")
    people = models.TextField("人员编号")  # person ids, comma-separated

    class Meta:
        verbose_name = "待重新判定"
        verbose_name_plural = "待重新判定"

    def __str__(self) -> str:
        return f"批次 {self.batch_id} @ {self.since:%Y-%m-%d %H:%M}"

    def person_ids(self) -> list[int]:
        return [int(i) for i in self.people.split(",") if i]


class EvaluationClock(models.Model):
    """One row: the time as of which codes were last evaluated and written. An evaluation of
    some people (after a load, a clearance, a zone change) is made as of its own time or this
    one, whichever is later, so a stored code never goes back to an older picture of the facts
    (a load that started earlier and finished later would otherwise write what it knew then)."""

    at = models.DateTimeField()

    class Meta:
        verbose_name = "赋码时钟"
        verbose_name_plural = "赋码时钟"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S}"


class NextChange(models.Model):
    """When a person's code could next change with no new fact (到期重新判定): a designation
    starting or ending, a reason expiring. Written by every evaluation for everyone it
    evaluated — green people included, who have no PersonCode (a close contact designated
    from tomorrow) — and read by the clock (fangkong.clock), which re-evaluates them then.
    Instants that concern everyone or a whole community (a policy's window, a zone's start) are
    the clock's to find, not stored per person."""

    person = models.OneToOneField(
        "people.Person", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    at = models.DateTimeField("下次判定时间", db_index=True)

    class Meta:
        verbose_name = "到期重新判定"
        verbose_name_plural = "到期重新判定"

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.at:%Y-%m-%d %H:%M}"
