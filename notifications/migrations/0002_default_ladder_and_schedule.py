from django.db import migrations


def install(apps, schema_editor):
    from notifications.ladder import DEFAULT_LADDER
    from notifications.schedule import install_schedule

    EscalationRule = apps.get_model("notifications", "EscalationRule")
    for level, offset, audience in DEFAULT_LADDER:
        EscalationRule.objects.get_or_create(
            campaign=None, level=level, defaults={"offset_working_days": offset, **audience}
        )

    install_schedule(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
