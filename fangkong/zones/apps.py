from django.apps import AppConfig


class ZonesConfig(AppConfig):
    name = "fangkong.zones"
    verbose_name = "风险区划"

    def ready(self) -> None:
        # A new positive is answered on the clock's beat, with nobody running a command.
        from fangkong.clock.hooks import after_sweep
        from fangkong.zones.eligibility_actions import assess_after_sweep

        after_sweep(assess_after_sweep)
