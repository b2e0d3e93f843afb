from django.apps import AppConfig


class ClearancesConfig(AppConfig):
    name = "fangkong.clearances"
    verbose_name = "解码申请"
