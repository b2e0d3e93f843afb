from django.apps import AppConfig


class CheckpointsConfig(AppConfig):
    name = "fangkong.checkpoints"
    verbose_name = "卡口核验"
