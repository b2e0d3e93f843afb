from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "fangkong.tickets"
    verbose_name = "问题工单与日调度"
