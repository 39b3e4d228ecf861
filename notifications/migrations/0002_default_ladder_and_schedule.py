from django.db import migrations


def install(apps, schema_editor):
    from notifications.ladder import DEFAULT_LADDER
    from notifications.schedule import DEFAULT_SCHEDULE

    EscalationRule = apps.get_model("notifications", "EscalationRule")
    for level, offset, audience in DEFAULT_LADDER:
        EscalationRule.objects.get_or_create(
            campaign=None, level=level, defaults={"offset_working_days": offset, **audience}
        )

    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    for name, job, (kind, *when) in DEFAULT_SCHEDULE:
        if kind == "crontab":
            minute, hour = when
            crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*",
                timezone="Asia/Shanghai",
            )
            PeriodicTask.objects.get_or_create(name=name, defaults={"task": job, "crontab": crontab})
        else:
            interval, _ = IntervalSchedule.objects.get_or_create(every=when[0], period="seconds")
            PeriodicTask.objects.get_or_create(name=name, defaults={"task": job, "interval": interval})


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
