from django.db import migrations


def load(apps, schema_editor):
    from fangkong.checkpoints.loading import load_checkpoint_types

    load_checkpoint_types(apps.get_model("checkpoints", "CheckpointType"))


class Migration(migrations.Migration):
    dependencies = [("checkpoints", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
