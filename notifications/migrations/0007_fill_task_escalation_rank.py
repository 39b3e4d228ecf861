"""Each task's highest rung against its current due date, read once from the escalations
recorded so far; from here on the services that record escalations keep it."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    Task = apps.get_model("tasks", "Task")
    Escalation = apps.get_model("notifications", "Escalation")
    highest = (
        Escalation.objects.filter(task=OuterRef("pk"), due_date=OuterRef("due_date"))
        .order_by("-rank")
        .values("rank")[:1]
    )
    Task.objects.filter(escalations__isnull=False).update(escalation_rank=Subquery(highest))


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0006_ladder_history"),
        ("tasks", "0007_task_escalation_rank"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
