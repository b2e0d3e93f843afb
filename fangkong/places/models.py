"""Administrative divisions (行政区划) of 长春市, from a maintained public dataset."""

from django.db import models


class Level(models.IntegerChoices):
    PROVINCE = 1, "省"
    CITY = 2, "市"
    COUNTY = 3, "区县"
    STREET = 4, "街道/乡镇"
    COMMUNITY = 5, "社区/村"


class Division(models.Model):
    """One division. Codes are GB/T 2260 (6 digits) or statistical codes (9 and 12 digits).

    `county_code` is the county-level ancestor: staff are scoped by it. Historic county codes
    (九台市 220181, 公主岭市 220381 …) are kept with `is_current=False` because real ID numbers
    carry them.
    """

    code = models.CharField("代码", max_length=12, primary_key=True)
    name = models.CharField("名称", max_length=64)
    level = models.PositiveSmallIntegerField("级别", choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    county_code = models.CharField("所属区县代码", max_length=6, db_index=True)
    is_current = models.BooleanField("现行", default=True)
    is_development_zone = models.BooleanField("开发区", default=False)
    population_2020 = models.PositiveIntegerField("七普常住人口", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"

    def __str__(self) -> str:
        return f"{self.name}({self.code})"


class ZoneLevel(models.TextChoices):
    """Levels as the notices name them, in two schemes (fangkong.engine.policies.ZONE_SCHEMES):
    the three zones of the 2021 plan (三区划分) and the risk areas of the 9th edition."""

    PREVENTION = "prevention", "防范区"
    CONTROL = "control", "管控区"
    LOCKDOWN = "lockdown", "封控区"
    LOW = "low", "低风险区"
    MEDIUM = "medium", "中风险区"
    HIGH = "high", "高风险区"


class CommunityZone(models.Model):
    """A community's level from `start_at` (until `end_at` if the decision set an end).
    Append-only: a change of level is a new row, written when a zone decision is published
    (`decision`; rows made before decisions existed have none). Of the rows in effect, the
    latest started stands, one per scheme (fangkong.engine.evaluate.standing_zones)."""

    community = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="zones")
    level = models.CharField("级别", max_length=12, choices=ZoneLevel.choices)
    start_at = models.DateTimeField("起始")
    end_at = models.DateTimeField("截止", null=True, blank=True)
    recorded_at = models.DateTimeField("入库时间")
    decided_by = models.CharField("决定单位", max_length=64, blank=True)
    decision = models.ForeignKey(
        "zones.ZoneDecision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="zone_rows",
        verbose_name="决定(通告)",
    )

    class Meta:
        verbose_name = "风险区划"
        verbose_name_plural = "风险区划"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_at__isnull=True) | models.Q(end_at__gt=models.F("start_at")),
                name="community_zone_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.get_level_display()} 自 {self.start_at:%Y-%m-%d}"
