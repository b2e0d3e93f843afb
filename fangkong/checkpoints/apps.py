from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class CheckpointsConfig(AppConfig):
    name = "fangkong.checkpoints"
    verbose_name = "卡口核验"

    def ready(self) -> None:
        from fangkong.checkpoints.models import Checkpoint, CheckpointType
        from fangkong.signing.models import SigningKey

        # What verifiers cache changes only through these rows' saves and deletes (the admin,
        # the actions, the key commands): each one tells every process (access.py).
        for model in (Checkpoint, CheckpointType, SigningKey):
            for signal in (post_save, post_delete):
                signal.connect(_changed, sender=model, dispatch_uid=f"cache-{model.__name__}")


def _changed(sender, **kwargs) -> None:
    from fangkong.checkpoints.access import bump_generation

    bump_generation()
