from django.apps import AppConfig


class PassesConfig(AppConfig):
    name = "fangkong.passes"
    verbose_name = "车辆通行证"

    def ready(self):
        # Online verification at a road checkpoint asks here whether a pass is still in force
        # (fangkong.checkpoints.actions sits below this app and cannot import it).
        from fangkong.checkpoints import actions
        from fangkong.passes.queries import out_of_force

        actions.vehicle_pass_revoked[0] = out_of_force
