"""The catalogue of responsibilities now belongs to ``tasks`` (tasks 0008); its table stays."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("responsibility", "0003_api_token"),
        ("tasks", "0008_responsibility_catalogue"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Responsibility")],
            database_operations=[],
        ),
    ]
