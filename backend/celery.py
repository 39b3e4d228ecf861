import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.base")

app = Celery("duban")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Jobs live in each app's jobs.py, so the tasks app has no confusing tasks/tasks.py.
app.autodiscover_tasks(related_name="jobs")
