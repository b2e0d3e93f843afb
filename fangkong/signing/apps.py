from django.apps import AppConfig


class SigningConfig(AppConfig):
    name = "fangkong.signing"
    verbose_name = "签名密钥"
