# The clock: how far time-driven changes have been applied, and the background tasks pages start.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SweepState',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('swept_to', models.DateTimeField(verbose_name='已处理至')),
            ],
            options={
                'verbose_name': '时钟进度',
                'verbose_name_plural': '时钟进度',
            },
        ),
        migrations.CreateModel(
            name='BackgroundTask',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('employer_batch', '单位集中申请名单核验'), ('audit_verify', '审计日志完整校验')], max_length=32, verbose_name='任务')),
                ('requested_at', models.DateTimeField(verbose_name='提交时间')),
                ('status', models.CharField(choices=[('queued', '排队中'), ('running', '正在处理'), ('done', '已完成'), ('failed', '失败')], default='queued', max_length=8, verbose_name='状态')),
                ('params', models.JSONField(default=dict, verbose_name='参数')),
                ('payload', models.BinaryField(null=True, verbose_name='待处理文件')),
                ('result', models.JSONField(null=True, verbose_name='结果')),
                ('error', models.TextField(blank=True, verbose_name='失败原因')),
                ('started_at', models.DateTimeField(null=True, verbose_name='开始时间')),
                ('finished_at', models.DateTimeField(null=True, verbose_name='完成时间')),
                ('requested_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': '后台任务',
                'verbose_name_plural': '后台任务',
                'indexes': [models.Index(fields=['kind', 'requested_by', '-requested_at'], name='task_kind_user')],
            },
        ),
    ]
