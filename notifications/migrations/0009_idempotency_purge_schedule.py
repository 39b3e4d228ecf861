from django.db import migrations


def install(apps, schema_editor):
    from notifications.schedule import install_schedule

    install_schedule(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0008_outbox_app"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
