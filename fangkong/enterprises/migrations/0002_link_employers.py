"""Employers were free text (a resident's 工作单位, a liaison account's 单位, an employer list's
单位): link each to the registered enterprise of that name, where there is one. The same matching
runs after every enterprise import (fangkong.enterprises.linking)."""

from django.db import migrations


def link(apps, schema_editor):
    from fangkong.enterprises.linking import link_by_name

    link_by_name(
        apps.get_model("enterprises", "Enterprise"),
        apps.get_model("enterprises", "Employee"),
        apps.get_model("people", "Person"),
        apps.get_model("accounts", "StaffProfile"),
        apps.get_model("clearances", "EmployerBatch"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("enterprises", "0001_initial"),
        ("accounts", "0003_staff_enterprise"),
        ("clearances", "0003_batch_enterprise"),
    ]

    operations = [migrations.RunPython(link, migrations.RunPython.noop)]
