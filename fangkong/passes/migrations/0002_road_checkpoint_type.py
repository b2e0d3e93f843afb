"""The road checkpoint type (道路卡口, kinds fk-vehicle and fk-code), from the checkpoint types
fixture (fangkong/checkpoints/fixtures/checkpoint_types.toml)."""

from django.db import migrations


def load(apps, schema_editor):
    from fangkong.checkpoints.loading import load_checkpoint_types

    load_checkpoint_types(apps.get_model("checkpoints", "CheckpointType"))


class Migration(migrations.Migration):
    dependencies = [
        ("passes", "0001_initial"),
        ("checkpoints", "0003_cache_generation"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
