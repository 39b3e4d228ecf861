import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def keep_drf_tokens(apps, schema_editor):
    """Tokens issued by DRF's authtoken app, which this model replaces, keep working: each
    is copied with a fresh idle period. The old table is left as it was."""
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    key = connection.ops.quote_name("key")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO responsibility_apitoken ({key}, user_id, created, last_used_at) "
            f"SELECT {key}, user_id, created, %s FROM authtoken_token",
            [timezone.now()],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("responsibility", "0002_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=40, unique=True, verbose_name="密钥")),
                ("created", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                (
                    "last_used_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="最近使用时间"),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_token",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="人员",
                    ),
                ),
            ],
            options={
                "verbose_name": "API 令牌",
                "verbose_name_plural": "API 令牌",
            },
        ),
        migrations.RunPython(keep_drf_tokens, migrations.RunPython.noop),
    ]
