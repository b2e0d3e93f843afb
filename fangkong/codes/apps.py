from django.apps import AppConfig


class CodesConfig(AppConfig):
    name = "fangkong.codes"
    verbose_name = "健康码"
