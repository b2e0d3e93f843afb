"""Enterprise resumption of work (复工复产): the registry of enterprises and their staff, the
resumption filing (一企一策) with its history, daily reports (日调度), plant-gate registrations
of returning workers (一人一登记、一车一消杀) and closed-loop exits.

Every figure the dashboard shows is computed from these rows as of a time (fangkong.enterprises
.stats); nothing here stores a rate.
"""

from django.conf import settings
from django.db import models

from fangkong.base.facts import Fact, superseding_once


class Industry(models.TextChoices):
    AUTOMOTIVE = "automotive", "汽车及零部件"
    PHARMA = "pharma", "医药健康"
    OPTOELECTRONICS = "optoelectronics", "光电信息"
    EQUIPMENT = "equipment", "装备制造"
    FOOD = "food", "食品加工"
    MATERIALS = "materials", "新材料"
    CHEMICALS = "chemicals", "化工"
    ENERGY = "energy", "能源"
    OTHER = "other", "其他"


class Enterprise(models.Model):
    """A registered enterprise (企业). The unified social credit code (统一社会信用代码, GB 32100,
    checked by its check character) is who it is; the name is how free-text employers are
    matched to it."""

    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True)
    name = models.CharField("企业名称", max_length=128, unique=True)
    county_code = models.CharField("所属区县(开发区)", max_length=6, db_index=True)
    community = models.ForeignKey(
        "places.Division",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    address = models.CharField("地址", max_length=200, blank=True, default="")
    industry = models.CharField("行业", max_length=16, choices=Industry.choices)
    above_scale = models.BooleanField("规上工业企业", default=False)
    # The weight of this enterprise in the capacity-weighted production rate (复产率): its staff
    # in normal times (正常用工人数).
    normal_staff = models.PositiveIntegerField("正常用工人数", default=0)
    # The district's officers for it: liaison (包保企业联络员) and instructor (疫情防控指导员).
    liaison_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="liaised_enterprises",
    )
    liaison_name = models.CharField("包保联络员", max_length=64, blank=True, default="")
    liaison_phone = models.CharField("联络员电话", max_length=20, blank=True, default="")
    instructor_name = models.CharField("疫情防控指导员", max_length=64, blank=True, default="")
    instructor_phone = models.CharField("指导员电话", max_length=20, blank=True, default="")
    # Closed-loop testing cadence (闭环管理检测频次), as data: every how many days a PCR and an
    # antigen test is due for each closed-loop employee.
    pcr_every_days = models.PositiveSmallIntegerField("核酸检测间隔(天)", default=3)
    antigen_every_days = models.PositiveSmallIntegerField("抗原检测间隔(天)", default=1)
    batch = models.ForeignKey(
        "ingest.Batch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    recorded_at = models.DateTimeField("登记时间")

    class Meta:
        verbose_name = "企业"
        verbose_name_plural = "企业"

    def __str__(self) -> str:
        return self.name


class SupplyLink(models.Model):
    """The supplier delivers to the customer (产业链配套: a parts maker → the vehicle maker)."""

    supplier = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="supplies_to")
    customer = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="supplied_by")
    note = models.CharField("配套内容", max_length=200, blank=True, default="")
    recorded_at = models.DateTimeField("登记时间")

    class Meta:
        verbose_name = "产业链配套"
        verbose_name_plural = "产业链配套"
        constraints = [
            models.UniqueConstraint(fields=["supplier", "customer"], name="supply_link_once"),
            models.CheckConstraint(
                condition=~models.Q(supplier=models.F("customer")), name="supply_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id} → {self.customer_id}"


class EmployeeRole(models.TextChoices):
    RESIDENT = "resident", "驻厂员工"
    RETURNING = "returning", "返岗员工"
    CLOSED_LOOP = "closed_loop", "闭环员工"


class Employee(models.Model):
    """A person working for an enterprise, in a role. The one link between a resident and their
    employer: `people.Person.employer` is only what a file said."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="employees")
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="jobs", db_constraint=False
    )
    role = models.CharField("身份", max_length=12, choices=EmployeeRole.choices)
    since = models.DateTimeField("起始时间")
    recorded_at = models.DateTimeField("登记时间")
    batch = models.ForeignKey(
        "ingest.Batch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )

    class Meta:
        verbose_name = "企业员工"
        verbose_name_plural = "企业员工"
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "person"], name="employee_once"),
        ]
        indexes = [models.Index(fields=["person"], name="employee_person")]

    def __str__(self) -> str:
        return f"{self.enterprise_id}/{self.person_id} {self.get_role_display()}"


class ResumptionStatus(models.TextChoices):
    NOT_STARTED = "not_started", "未复工"
    FILED = "filed", "已报备"
    APPROVED = "approved", "已批准"
    RESUMED = "resumed", "已复工"
    SUSPENDED = "suspended", "已停工"


class ResumptionStep(models.Model):
    """One step of an enterprise's resumption filing (复工复产报备), append-only: the status at
    any time is that of its latest step effective by then. A filing carries the plan and
    commitment (一企一策); an on-site check its team, findings and whether the site was
    disinfected; approval and suspension their reason."""

    class Kind(models.TextChoices):
        FILE = "file", "提交复工方案及承诺书"
        CHECK = "check", "现场检查"
        APPROVE = "approve", "区县批准"
        REJECT = "reject", "退回"
        RESUME = "resume", "复工"
        SUSPEND = "suspend", "停工"

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="resumption_steps"
    )
    kind = models.CharField("环节", max_length=8, choices=Kind.choices)
    status = models.CharField("此后状态", max_length=12, choices=ResumptionStatus.choices)
    at = models.DateTimeField("时间")
    recorded_at = models.DateTimeField("入库时间")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField("说明", blank=True, default="")
    document = models.CharField("方案文件", max_length=255, blank=True, default="")
    document_name = models.CharField("文件名", max_length=255, blank=True, default="")
    check_team = models.CharField("检查组", max_length=128, blank=True, default="")
    findings = models.TextField("检查发现", blank=True, default="")
    disinfected = models.BooleanField("已完成全场区消杀", null=True, blank=True)

    class Meta:
        verbose_name = "复工报备环节"
        verbose_name_plural = "复工报备环节"
        indexes = [models.Index(fields=["enterprise", "at"], name="resumption_step_time")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.get_kind_display()} @ {self.at:%Y-%m-%d %H:%M}"


class DailyReport(Fact):
    """An enterprise's report for one day (日报): staff on duty, of them returning staff,
    production capacity as % of normal, closed loop or not, problems. A correction is a new row
    naming the one it replaces (`supersedes`)."""

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="reports", db_constraint=False
    )
    day = models.DateField("日期")
    staff_on_duty = models.PositiveIntegerField("在岗人数")
    returning_staff = models.PositiveIntegerField("其中返岗人数", default=0)
    capacity_percent = models.DecimalField("产能恢复(%)", max_digits=5, decimal_places=1)
    closed_loop = models.BooleanField("闭环生产", default=False)
    problems = models.TextField("存在问题", blank=True, default="")

    class Meta:
        verbose_name = "企业日报"
        verbose_name_plural = "企业日报"
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "day"],
                condition=models.Q(supersedes__isnull=True),
                name="daily_report_once",
            ),
            superseding_once("daily_report_corrected_once"),
            models.CheckConstraint(
                condition=models.Q(capacity_percent__gte=0, capacity_percent__lte=200),
                name="daily_report_capacity_range",
            ),
            models.CheckConstraint(
                condition=models.Q(returning_staff__lte=models.F("staff_on_duty")),
                name="daily_report_returning_within_staff",
            ),
        ]
        indexes = [models.Index(fields=["day"], name="daily_report_day")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.day}"


class PlantGate(models.Model):
    """A checkpoint (of type 企业厂门) at an enterprise's gate."""

    checkpoint = models.OneToOneField(
        "checkpoints.Checkpoint", on_delete=models.PROTECT, related_name="plant_gate"
    )
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="gates")

    class Meta:
        verbose_name = "企业厂门"
        verbose_name_plural = "企业厂门"

    def __str__(self) -> str:
        return f"{self.enterprise_id} 厂门 {self.checkpoint_id}"


class AntigenAtGate(models.TextChoices):
    NEGATIVE = "negative", "阴性"
    POSITIVE = "positive", "阳性"
    INVALID = "invalid", "无效"


class GateEntry(models.Model):
    """One registration of a person at a plant gate (一人一登记): the code, the 48-hour negative
    PCR, where they came from, the antigen test at the gate, temperature and mask. A refused
    entry names its reasons. A scan sent twice (same `scan_id`) or a person scanned again while
    already inside is registered once."""

    scan_id = models.UUIDField("扫码编号", unique=True)
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="entries")
    gate = models.ForeignKey(PlantGate, on_delete=models.PROTECT, related_name="entries")
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    at = models.DateTimeField("入厂时间")
    admitted = models.BooleanField("准入")
    reasons = models.JSONField("不予准入原因", default=list)
    colour = models.CharField("健康码", max_length=6, blank=True)
    pcr_sampled_at = models.DateTimeField("最近阴性核酸采样时间", null=True, blank=True)
    origin = models.ForeignKey(
        "places.Division",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    origin_level = models.CharField("来源地风险等级", max_length=12, blank=True)
    antigen = models.CharField("入厂抗原", max_length=8, choices=AntigenAtGate.choices)
    temperature = models.DecimalField("体温(℃)", max_digits=3, decimal_places=1)
    mask = models.BooleanField("规范佩戴口罩")
    # A new returnee stays in the buffer zone (缓冲区) until a PCR sampled after this entry is
    # negative (fangkong.enterprises.gate.buffer_zone).
    new_returnee = models.BooleanField("新返岗", default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("入库时间")

    class Meta:
        verbose_name = "入厂登记"
        verbose_name_plural = "入厂登记"
        indexes = [
            models.Index(fields=["enterprise", "at"], name="gate_entry_time"),
            models.Index(fields=["person", "at"], name="gate_entry_person"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} @ {self.enterprise_id} {self.at:%Y-%m-%d %H:%M}"


class ExitPurpose(models.TextChoices):
    TESTING = "testing", "参加核酸检测"
    SUPPLIES = "supplies", "领取生活物资"
    OTHER = "other", "其他"


class GateExit(models.Model):
    """A person leaving the plant through its gate. For a closed-loop plant, any purpose other
    than testing or collecting supplies breaks the loop and is flagged (`breaks_loop`)."""

    scan_id = models.UUIDField("扫码编号", unique=True)
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="exits")
    gate = models.ForeignKey(PlantGate, on_delete=models.PROTECT, related_name="exits")
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    at = models.DateTimeField("出厂时间")
    purpose = models.CharField("事由", max_length=10, choices=ExitPurpose.choices)
    note = models.CharField("说明", max_length=200, blank=True, default="")
    breaks_loop = models.BooleanField("破环", default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("入库时间")

    class Meta:
        verbose_name = "出厂登记"
        verbose_name_plural = "出厂登记"
        indexes = [models.Index(fields=["enterprise", "at"], name="gate_exit_time")]

    def __str__(self) -> str:
        return f"{self.person_id} 出厂 {self.at:%Y-%m-%d %H:%M}"


class VehicleDisinfection(models.Model):
    """One vehicle entering the plant and its disinfection (一车一消杀): one row per vehicle
    per entry (`entry_id`, the device's)."""

    entry_id = models.UUIDField("登记编号", unique=True)
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="vehicle_entries"
    )
    gate = models.ForeignKey(PlantGate, on_delete=models.PROTECT, related_name="vehicle_entries")
    plate = models.CharField("车牌号", max_length=16)
    driver_name = models.CharField("驾驶员", max_length=64, blank=True, default="")
    at = models.DateTimeField("入厂时间")
    method = models.CharField("消杀方式", max_length=64)
    disinfected_by = models.CharField("消杀人员", max_length=64)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("入库时间")

    class Meta:
        verbose_name = "车辆消杀登记"
        verbose_name_plural = "车辆消杀登记"
        indexes = [models.Index(fields=["enterprise", "at"], name="vehicle_entry_time")]

    def __str__(self) -> str:
        return f"{self.plate} @ {self.at:%Y-%m-%d %H:%M}"
