from __future__ import annotations

from django.db import migrations


def create_head(apps, schema_editor):
    # The chain's head row must exist before the first append locks it.
    AuditHead = apps.get_model("audit", "AuditHead")
    AuditHead.objects.get_or_create(pk=1, defaults={"last_hash": "0" * 64, "last_id": 0})


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(create_head, migrations.RunPython.noop)]
