"""The case registry (病例): a person's classification history as append-only events, the
contacts traced from a case, and the daily bulletins (疫情通报)."""

from django.conf import settings
from django.db import models

from fangkong.base.facts import Fact, superseding_once


class FoundBy(models.TextChoices):
    ISOLATION = "isolation", "隔离点筛查"
    CONTROL = "control", "管控区筛查"
    COMMUNITY = "community", "社会面筛查"
    FEVER_CLINIC = "fever_clinic", "发热门诊"
    OTHER = "other", "其他"


class Case(models.Model):
    """One person's infection. Opened by staff, by an import, or pending by a positive single
    tube (`source_result`) until someone classifies it; `found_by` is set at classification."""

    person = models.OneToOneField(
        "people.Person", on_delete=models.PROTECT, related_name="case", db_constraint=False
    )
    community = models.ForeignKey(
        "places.Division", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    county_code = models.CharField("所属区县", max_length=6)
    found_by = models.CharField("发现途径", max_length=16, choices=FoundBy.choices, blank=True)
    source_result = models.ForeignKey(
        "testing.LabResult",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    opened_at = models.DateTimeField("登记时间")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "病例"
        verbose_name_plural = "病例"
        indexes = [models.Index(fields=["county_code"], name="case_county")]

    def __str__(self) -> str:
        return f"病例 #{self.pk}"


class EventKind(models.TextChoices):
    ASYMPTOMATIC = "asymptomatic", "无症状感染者"
    CONFIRMED = "confirmed", "确诊病例"
    RECLASSIFIED = "reclassified", "无症状感染者转为确诊病例"
    DISCHARGED = "discharged", "治愈出院"
    RELEASED = "released", "解除隔离医学观察"
    DIED = "died", "死亡"


class ClinicalType(models.TextChoices):
    MILD = "mild", "轻型"
    ORDINARY = "ordinary", "普通型"
    SEVERE = "severe", "重型"
    CRITICAL = "critical", "危重型"


class CaseEvent(Fact):
    """`at`: when it happened; `recorded_at`: when it became known. Figures as of a time read
    only what was known by then (fangkong.cases.figures)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField("类型", max_length=16, choices=EventKind.choices)
    at = models.DateTimeField("时间")
    clinical_type = models.CharField(
        "临床分型", max_length=12, choices=ClinicalType.choices, blank=True
    )

    class Meta:
        verbose_name = "病例事件"
        verbose_name_plural = "病例事件"
        constraints = [
            superseding_once("case_event_corrected_once"),
            models.CheckConstraint(
                condition=~models.Q(kind__in=["confirmed", "reclassified"])
                | ~models.Q(clinical_type=""),
                name="case_event_confirmed_has_type",
            ),
        ]
        indexes = [models.Index(fields=["at"], name="case_event_at")]


class CaseContact(models.Model):
    """A contact traced from a case: the designation that made them one."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="contacts")
    designation = models.OneToOneField(
        "people.Designation", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"病例 #{self.case_id} 的接触者(判定 #{self.designation_id})"


class ResultMark(models.Model):
    """The last lab result looked at for pending cases: each sweep reads only newer ones."""

    last_result_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"检测结果已读至 #{self.last_result_id}"


class BulletinStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    APPROVED = "approved", "已审核"
    PUBLISHED = "published", "已发布"


class Bulletin(models.Model):
    """One version of a day's bulletin. Its text and figures are those as of `as_of`, stored
    when drafted and never changed; figures that change after publication go out as a new
    version, which names the corrections."""

    date = models.DateField("日期")
    version = models.PositiveSmallIntegerField("版本")
    status = models.CharField(max_length=12, choices=BulletinStatus.choices)
    as_of = models.DateTimeField("数据截至")
    text = models.TextField("通报文本")
    figures = models.JSONField("数字")
    corrections = models.JSONField("更正", default=list)
    drafted_at = models.DateTimeField()
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "疫情通报"
        verbose_name_plural = "疫情通报"
        constraints = [
            models.UniqueConstraint(fields=["date", "version"], name="bulletin_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.date} 第{self.version}版"
