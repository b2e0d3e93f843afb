# When each person's code could next change by itself, green people included (the clock reads
# it). Rows appear as people are evaluated; the clock's first sweep evaluates everyone once.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('codes', '0005_pending_people_by_chunk'),
        ('people', '0002_household'),
    ]

    operations = [
        migrations.CreateModel(
            name='NextChange',
            fields=[
                ('person', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='people.person')),
                ('at', models.DateTimeField(db_index=True, verbose_name='下次判定时间')),
            ],
            options={
                'verbose_name': '到期重新判定',
                'verbose_name_plural': '到期重新判定',
            },
        ),
    ]
