"""A pending re-check (回头看) is warned of before its date from now on
(``tasks.obligations.WARNED``): the closed items that owe one carry its date as their
``next_warned_date``, on the task and its scope rows, as ``next_obligation_refresh`` keeps it."""

from django.db import migrations
from django.db.models import Min, OuterRef, Subquery

WARNED = ("step", "report", "recheck")


def forwards(apps, schema_editor):
    Obligation = apps.get_model("tasks", "Obligation")
    Task = apps.get_model("tasks", "Task")
    TaskScope = apps.get_model("tasks", "TaskScope")
    pending = Obligation.objects.filter(kind="recheck", met_at__isnull=True).values("task_id")

    def earliest(task_column: str) -> Subquery:
        return Subquery(
            Obligation.objects.filter(task=OuterRef(task_column), met_at__isnull=True, kind__in=WARNED)
            .order_by()
            .values("task")
            .annotate(first=Min("due_date"))
            .values("first")
        )

    Task.objects.filter(pk__in=pending).update(next_warned_date=earliest("pk"))
    TaskScope.objects.filter(task_id__in=pending).update(next_warned_date=earliest("task_id"))


class Migration(migrations.Migration):
    dependencies = [("tasks", "0019_recheck_attachments")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
