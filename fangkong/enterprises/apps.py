from django.apps import AppConfig


class EnterprisesConfig(AppConfig):
    name = "fangkong.enterprises"
    verbose_name = "企业复工复产"
