"""The outbox becomes an app of its own. Only Django's picture of the model moves: the
table (``db_table`` keeps its old name), its rows and its index stay as they are, and the
content type follows the model."""

import django.db.models.deletion
import outbox.models
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor, source="notifications", target="outbox"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label=target, model="outboundmessage").exists():
        return
    ContentType.objects.filter(app_label=source, model="outboundmessage").update(app_label=target)


def restore_content_type(apps, schema_editor):
    move_content_type(apps, schema_editor, source="outbox", target="notifications")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('responsibility', '0003_api_token'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.CreateModel(
            name='OutboundMessage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(default='digest', max_length=16)),
                ('to_address', models.CharField(blank=True, max_length=254)),
                ('subject', models.CharField(max_length=300)),
                ('body_text', models.TextField()),
                ('body_html', models.TextField(blank=True)),
                ('message_id', models.CharField(default=outbox.models.new_message_id, max_length=200, unique=True)),
                ('state', models.CharField(choices=[('pending', '待发送'), ('sending', '发送中'), ('sent', '已发送'), ('failed', '发送失败'), ('no_address', '无邮箱地址'), ('suppressed', '本人已退订')], default='pending', max_length=16)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                ('lease_until', models.DateTimeField(blank=True, null=True)),
                ('last_error', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('attachment_path', models.CharField(blank=True, max_length=255)),
                ('attachment_name', models.CharField(blank=True, max_length=255)),
                ('recipient_unit', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='responsibility.unit')),
                ('recipient_user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': '发件箱',
                'verbose_name_plural': '发件箱',
                'db_table': 'notifications_outboundmessage',
                'ordering': ['-created_at', '-pk'],
                'indexes': [models.Index(condition=models.Q(('state__in', ['pending', 'sending'])), fields=['next_attempt_at'], name='outbox_due_idx')],
            },
        )], database_operations=[]),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
