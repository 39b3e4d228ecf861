"""Each escalation keeps its task's parent (``Escalation.task_parent``), filled for the rows
recorded before: a task's parent never changes once it is split off."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_parents(apps, schema_editor):
    Escalation = apps.get_model("notifications", "Escalation")
    Task = apps.get_model("tasks", "Task")
    Escalation.objects.update(
        task_parent_id=Subquery(Task.objects.filter(pk=OuterRef("task_id")).values("parent_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0011_escalation_obligation"),
        ("tasks", "0024_event_actions_after_merge"),
    ]

    operations = [
        migrations.AddField(
            model_name="escalation",
            name="task_parent",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="tasks.task",
            ),
        ),
        migrations.RunPython(copy_parents, migrations.RunPython.noop),
    ]
