"""The outbox moved to an app of its own (outbox 0001): Django forgets its model here,
and the link between a digest and the escalations it told of is declared on the
escalation instead, over the same table and columns. Nothing in the database changes
but the name of the scheduled flush job."""

from django.db import migrations, models

FLUSH = ("notifications.jobs.outbox_flush", "outbox.jobs.outbox_flush")


def rename_job(apps, schema_editor, names=FLUSH):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task=names[0]).update(task=names[1])


def restore_job(apps, schema_editor):
    rename_job(apps, schema_editor, names=FLUSH[::-1])


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0007_fill_task_escalation_rank"),
        ("outbox", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="outboundmessage", name="escalations"),
                migrations.DeleteModel(name="OutboundMessage"),
                migrations.AddField(
                    model_name="escalation",
                    name="messages",
                    field=models.ManyToManyField(
                        blank=True,
                        db_table="notifications_outboundmessage_escalations",
                        related_name="escalations",
                        to="outbox.outboundmessage",
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(rename_job, restore_job),
    ]
