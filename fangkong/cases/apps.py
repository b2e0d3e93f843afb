from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "fangkong.cases"
    verbose_name = "病例与疫情通报"

    def ready(self) -> None:
        # A positive single tube opens a pending case on the clock's beat, nobody running a
        # command (ingestion wakes the clock after every load).
        from fangkong.cases.actions import open_pending_cases
        from fangkong.clock.hooks import after_sweep

        after_sweep(open_pending_cases)
