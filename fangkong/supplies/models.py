"""Supply assurance (保供): the registry of supply firms (两级保供企业) and reopened small
supermarkets (小超市) with an append-only status history; requests for living and protective
supplies from closed-loop enterprises and building sites (工地), their deliveries and the
receiver's confirmation; housing sites (住宿安置) and the placements of returning workers.

Every figure is counted from these rows as of a time (fangkong.supplies.stats); nothing here
stores a count.
"""

from django.conf import settings
from django.db import models


class Level(models.TextChoices):
    CITY = "city", "市级"
    DISTRICT = "district", "区级"
    SMALL = "small", "小超市"


class FirmKind(models.TextChoices):
    MARKET = "market", "农贸市场"
    HYPERMARKET = "hypermarket", "大型商超"
    SUPERMARKET = "supermarket", "超市"
    LOGISTICS = "logistics", "物流配送"
    MOBILE = "mobile", "流动大篷车"
    ONLINE = "online", "电商平台"
    PHARMACY = "pharmacy", "药房"
    SMALL_SHOP = "small_shop", "小超市"


class FirmStatus(models.TextChoices):
    OPEN = "open", "营业"
    SUSPENDED = "suspended", "暂停营业"
    CLOSED = "closed", "关闭"


class SupplyFirm(models.Model):
    """A supply firm or a small supermarket. `code` (登记编号) is who it is in files."""

    code = models.CharField("登记编号", max_length=32, unique=True)
    name = models.CharField("名称", max_length=128)
    level = models.CharField("级别", max_length=10, choices=Level.choices)
    kind = models.CharField("类型", max_length=12, choices=FirmKind.choices)
    county_code = models.CharField("所属区县", max_length=6, db_index=True)
    address = models.CharField("地址", max_length=200, blank=True, default="")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supply_firms",
    )
    recorded_at = models.DateTimeField("登记时间")

    class Meta:
        verbose_name = "保供企业"
        verbose_name_plural = "保供企业"

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class StatusChange(models.Model):
    """One entry of a firm's status history, append-only: its status at T is that of its latest
    change effective by T and recorded by T."""

    firm = models.ForeignKey(SupplyFirm, on_delete=models.PROTECT, related_name="changes")
    status = models.CharField("状态", max_length=10, choices=FirmStatus.choices)
    effective_at = models.DateTimeField("生效时间")
    recorded_at = models.DateTimeField("登记时间")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField("原因", max_length=200, blank=True, default="")
    upload = models.ForeignKey(
        "supplies.Upload", null=True, blank=True, on_delete=models.PROTECT, related_name="changes"
    )

    class Meta:
        verbose_name = "保供企业状态变更"
        verbose_name_plural = "保供企业状态变更"
        indexes = [models.Index(fields=["firm", "effective_at"], name="supply_status_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["firm", "effective_at", "status"], name="supply_status_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class Upload(models.Model):
    """One file of the registry loaded (CSV or XLSX): what it did and what it refused."""

    filename = models.CharField("文件名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField("导入时间")
    rows = models.PositiveIntegerField("行数", default=0)
    firms_created = models.PositiveIntegerField("新登记", default=0)
    changes_created = models.PositiveIntegerField("新状态变更", default=0)
    unchanged = models.PositiveIntegerField("未变(已有)", default=0)
    errors = models.JSONField("错误行", default=list)

    class Meta:
        verbose_name = "保供企业名录导入"
        verbose_name_plural = "保供企业名录导入"

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class ImportFlag(models.Model):
    """A row that names an existing firm but says something else about it (another name,
    level, kind, district): not applied; a person decides."""

    upload = models.ForeignKey(Upload, on_delete=models.PROTECT, related_name="flags")
    firm = models.ForeignKey(SupplyFirm, on_delete=models.PROTECT, related_name="flags")
    row = models.PositiveIntegerField("行号")
    field = models.CharField("字段", max_length=32)
    stored = models.CharField("现有值", max_length=200)
    offered = models.CharField("文件中的值", max_length=200)
    resolved_at = models.DateTimeField("处理时间", null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField("处理结果", max_length=200, blank=True, default="")

    class Meta:
        verbose_name = "待人工核实的导入行"
        verbose_name_plural = "待人工核实的导入行"

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class Site(models.Model):
    """A building site (工地) that receives supplies."""

    name = models.CharField("工地名称", max_length=128, unique=True)
    county_code = models.CharField("所属区县", max_length=6, db_index=True)
    address = models.CharField("地址", max_length=200, blank=True, default="")
    contractor = models.CharField("施工单位", max_length=128, blank=True, default="")
    contact_name = models.CharField("联系人", max_length=64, blank=True, default="")
    contact_phone = models.CharField("联系电话", max_length=20, blank=True, default="")
    workers = models.PositiveIntegerField("在场人数", default=0)
    recorded_at = models.DateTimeField("登记时间")

    class Meta:
        verbose_name = "工地"
        verbose_name_plural = "工地"

    def __str__(self) -> str:
        return self.name


class Category(models.TextChoices):
    LIVING = "living", "生活物资"
    PROTECTIVE = "protective", "防护物资"


class Item(models.TextChoices):
    VEGETABLES = "vegetables", "蔬菜"
    GRAIN_OIL = "grain_oil", "粮油"
    DAILY_GOODS = "daily_goods", "日用品"
    PROTECTIVE_SUIT = "protective_suit", "防护服"
    MASK = "mask", "口罩"
    DISINFECTANT = "disinfectant", "消毒液"
    HERBAL = "herbal", "中药汤剂"
    ANTIGEN = "antigen", "抗原试剂盒"


class Unit(models.TextChoices):
    TONNE = "吨", "吨"
    KG = "千克", "千克"
    SET = "套", "套"
    PIECE = "件", "件"
    DOSE = "副", "副"
    SERVING = "份", "份"
    BOX = "盒", "盒"
    BOTTLE = "瓶", "瓶"


class Funding(models.TextChoices):
    DONATED = "donated", "无偿捐赠"
    PAID = "paid", "有偿采购"


class SupplyRequest(models.Model):
    """A request of one enterprise (or one building site) for supplies; its items below."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supply_requests",
    )
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )
    county_code = models.CharField("所属区县", max_length=6, db_index=True)
    category = models.CharField("类别", max_length=10, choices=Category.choices)
    note = models.CharField("说明", max_length=300, blank=True, default="")
    requested_at = models.DateTimeField("申请时间")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "物资需求"
        verbose_name_plural = "物资需求"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(enterprise__isnull=False, site__isnull=True)
                | models.Q(enterprise__isnull=True, site__isnull=False),
                name="supply_request_one_receiver",
            )
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"

    @property
    def receiver_name(self) -> str:
        return self.enterprise.name if self.enterprise_id else self.site.name


class RequestItem(models.Model):
    request = models.ForeignKey(SupplyRequest, on_delete=models.PROTECT, related_name="items")
    item = models.CharField("物资", max_length=16, choices=Item.choices)
    unit = models.CharField("单位", max_length=4, choices=Unit.choices)
    quantity = models.DecimalField("数量", max_digits=12, decimal_places=3)

    class Meta:
        verbose_name = "需求物资"
        verbose_name_plural = "需求物资"
        constraints = [
            models.UniqueConstraint(fields=["request", "item", "unit"], name="request_item_once"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="request_item_pos"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class Delivery(models.Model):
    """One delivery against a request (partial deliveries allowed), and its confirmation by the
    receiver."""

    request = models.ForeignKey(SupplyRequest, on_delete=models.PROTECT, related_name="deliveries")
    delivered_at = models.DateTimeField("配送时间")
    recorded_at = models.DateTimeField("登记时间")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    supplier = models.CharField("配送单位", max_length=128)
    courier_name = models.CharField("配送人", max_length=64, blank=True, default="")
    courier_phone = models.CharField("配送人电话", max_length=20, blank=True, default="")
    funding = models.CharField("方式", max_length=8, choices=Funding.choices)
    value_yuan = models.DecimalField("货值(元)", max_digits=12, decimal_places=2, default=0)
    round = models.PositiveSmallIntegerField("批次", null=True, blank=True)
    confirmed_at = models.DateTimeField("确认收货时间", null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "物资配送"
        verbose_name_plural = "物资配送"

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class DeliveryLine(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="lines")
    item = models.ForeignKey(RequestItem, on_delete=models.PROTECT, related_name="deliveries")
    quantity = models.DecimalField("数量", max_digits=12, decimal_places=3)

    class Meta:
        verbose_name = "配送物资"
        verbose_name_plural = "配送物资"
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="delivery_line_pos"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class HousingKind(models.TextChoices):
    SCHOOL = "school", "学校"
    VACANT = "vacant", "空闲楼宇"
    DORMITORY = "dormitory", "宿舍"
    HOTEL = "hotel", "宾馆"


class HousingSite(models.Model):
    """A place where returning workers sleep (住宿安置), with the beds it offers."""

    name = models.CharField("名称", max_length=128, unique=True)
    kind = models.CharField("类型", max_length=10, choices=HousingKind.choices)
    county_code = models.CharField("所属区县", max_length=6, db_index=True)
    address = models.CharField("地址", max_length=200, blank=True, default="")
    beds = models.PositiveIntegerField("床位数")
    opened_at = models.DateTimeField("启用时间")
    recorded_at = models.DateTimeField("登记时间")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "住宿安置点"
        verbose_name_plural = "住宿安置点"

    def __str__(self) -> str:
        return self.name


class Placement(models.Model):
    """Workers of an enterprise placed at a housing site from `placed_at` (to `ended_at`)."""

    site = models.ForeignKey(HousingSite, on_delete=models.PROTECT, related_name="placements")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="placements"
    )
    people = models.PositiveIntegerField("安置人数")
    placed_at = models.DateTimeField("安置时间")
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)
    recorded_at = models.DateTimeField("登记时间")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    employees = models.ManyToManyField(
        "enterprises.Employee", blank=True, related_name="placements"
    )

    class Meta:
        verbose_name = "住宿安置"
        verbose_name_plural = "住宿安置"
        constraints = [
            models.CheckConstraint(condition=models.Q(people__gt=0), name="placement_people_pos"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"
