from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "fangkong.ingest"
    verbose_name = "数据导入"
