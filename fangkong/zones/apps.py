from django.apps import AppConfig


class ZonesConfig(AppConfig):
    name = "fangkong.zones"
    verbose_name = "风险区划"
