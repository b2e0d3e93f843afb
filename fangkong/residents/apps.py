from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "fangkong.residents"
    verbose_name = "居民端"
