# One row per chunk of facts, its people listed in one text (marking a million people costs one
# row instead of a million).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("codes", "0004_pending_evaluation"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="pendingevaluation",
            name="person",
        ),
        migrations.AddField(
            model_name="pendingevaluation",
            name="people",
            field=models.TextField(default="", verbose_name="人员编号"),
            preserve_default=False,
        ),
    ]
