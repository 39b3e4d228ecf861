"""The embedded default: with no DATABASE_URL, Duban runs on SQLite, every migration applies
there, and the demo loads and is served through the API, as ``bin/demo`` does it.

bin/test runs the suite on PostgreSQL and only the tests marked ``sqlite`` again on SQLite;
this one is what says the embedded default as a whole still works."""

import os
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from responsibility.models import ApiToken
from tasks.models import Task

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

DEMO_PASSWORD = "duban-demo"


def test_the_embedded_default_migrates_and_serves_the_demo():
    if "DATABASE_URL" not in os.environ:
        assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    # No model change without its migration, and every migration applied to this database.
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())
    call_command("migrate", "--check", stdout=StringIO())

    # Through the command, wherever the loader lives.
    call_command("load_demo", "--force", stdout=StringIO())
    client = APIClient()
    answer = client.post("/api/v1/auth/token/", {"username": "yi_staff", "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.content
    assert answer.json()["token"] == ApiToken.objects.get(user__username="yi_staff").key

    client.credentials(HTTP_AUTHORIZATION=f"Token {answer.json()['token']}")
    tasks = client.get("/api/v1/tasks/")
    assert tasks.status_code == 200, tasks.content
    assert tasks.json()["count"] > 0
    yi_task = Task.objects.filter(lead_unit__name="义县").order_by("pk").first()
    assert client.get(f"/api/v1/tasks/{yi_task.pk}/history/").status_code == 200
    # 黑山县's head sees none of 义县's work, on SQLite as on PostgreSQL.
    heishan = ApiToken.objects.get(user__username="heishan_head").key
    client.credentials(HTTP_AUTHORIZATION=f"Token {heishan}")
    assert client.get(f"/api/v1/tasks/{yi_task.pk}/").status_code == 404
