from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "fangkong.policies"
    verbose_name = "赋码政策"
