from django.apps import AppConfig


class ClockConfig(AppConfig):
    name = "fangkong.clock"
    verbose_name = "时钟与后台任务"
