"""The catalogue of responsibilities moves from ``responsibility`` to ``tasks``, beside the
campaign it belongs to, so that no model below ``tasks`` points up at a campaign.

Only Django's picture of the models changes: the table, its rows and its constraint stay
as they are (``db_table`` keeps the old name). The content type follows the model, so
permissions granted on it and admin history keep pointing at it."""

import django.db.models.deletion
from django.db import migrations, models


def move_content_type(apps, schema_editor, source="responsibility", target="tasks"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label=target, model="responsibility").exists():
        return
    ContentType.objects.filter(app_label=source, model="responsibility").update(app_label=target)


def restore_content_type(apps, schema_editor):
    move_content_type(apps, schema_editor, source="tasks", target="responsibility")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("responsibility", "0003_api_token"),
        ("tasks", "0007_task_escalation_rank"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Responsibility",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("code", models.CharField(max_length=20, verbose_name="编号")),
                        ("name", models.CharField(max_length=100, verbose_name="责任")),
                        ("description", models.TextField(blank=True, verbose_name="内容")),
                        ("holder", models.CharField(blank=True, max_length=200, verbose_name="责任主体")),
                        ("order", models.PositiveSmallIntegerField(default=0, verbose_name="排序")),
                        (
                            "campaign",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="responsibilities",
                                to="tasks.campaign",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "责任清单",
                        "verbose_name_plural": "责任清单",
                        "db_table": "responsibility_responsibility",
                        "ordering": ["campaign", "order", "code"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("campaign", "code"), name="responsibility_unique_code"
                            )
                        ],
                    },
                ),
                migrations.AlterField(
                    model_name="task",
                    name="responsibility",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="tasks",
                        to="tasks.responsibility",
                        verbose_name="所属责任",
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
