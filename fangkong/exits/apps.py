from django.apps import AppConfig


class ExitsConfig(AppConfig):
    name = "fangkong.exits"
    verbose_name = "易行码"
