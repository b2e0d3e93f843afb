from django.apps import AppConfig


class TestingConfig(AppConfig):
    name = "fangkong.testing"
    verbose_name = "核酸检测"
