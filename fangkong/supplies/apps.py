from django.apps import AppConfig


class SuppliesConfig(AppConfig):
    name = "fangkong.supplies"
    verbose_name = "保供与物资保障"
