"""Idempotency-Key on POST: a retry gets the first answer, and nothing is written twice."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone
from django.utils.module_loading import import_string
from django_celery_beat.models import PeriodicTask

from core.idempotency import MAX_KEY_LENGTH, idempotency_records_purge
from core.jobs import idempotency_purge
from core.models import IdempotencyRecord
from notifications.schedule import DEFAULT_SCHEDULE
from responsibility.models import Unit
from tasks.models import Task

pytestmark = pytest.mark.django_db


def new_task(world, title: str = "村级光伏电站建设") -> dict:
    return {
        "campaign": world.campaign.pk,
        "title": title,
        "issuing_unit": world.unit("锦州市").pk,
        "lead_unit": world.unit("黑山县").pk,
        "due_date": str(datetime.date(2018, 12, 1)),
    }


def test_replay_returns_the_stored_answer(api, world):
    api.as_user("admin")
    body = {"name": "河北村", "kind": "village", "parent": world.unit("七里河镇").pk}
    first = api.post("/api/v1/units/", body, format="json", HTTP_IDEMPOTENCY_KEY="unit-1")
    again = api.post("/api/v1/units/", body, format="json", HTTP_IDEMPOTENCY_KEY="unit-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again["Content-Type"] == first["Content-Type"]
    assert again.json() == first.json()
    assert Unit.objects.filter(name="河北村").count() == 1
    record = IdempotencyRecord.objects.get(key="unit-1")
    assert (record.method, record.path, record.status_code) == ("POST", "/api/v1/units/", 201)
    assert record.principal == f"user:{world.person('admin').pk}"


def test_the_same_key_with_another_body_is_refused(api, world):
    api.as_user("city_head")
    api.post("/api/v1/tasks/", new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="k")
    other = api.post("/api/v1/tasks/", new_task(world, "别的任务"), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert not other.has_header("Idempotent-Replayed")
    assert Task.objects.count() == 1


def test_the_same_key_on_another_path_is_refused(api, world, make_task):
    task = make_task(lead_unit="黑山县")
    api.as_user("heishan_head")
    api.post(f"/api/v1/tasks/{task.pk}/transitions/accept/", {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    other = api.post(f"/api/v1/tasks/{task.pk}/reports/", {}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"


def test_keys_belong_to_their_sender(api, world):
    api.as_user("city_head")
    first = api.post("/api/v1/tasks/", new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    api.as_user("admin")
    second = api.post("/api/v1/tasks/", new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert (first.status_code, second.status_code) == (201, 201)
    assert not second.has_header("Idempotent-Replayed")
    assert Task.objects.count() == 2


def test_a_request_still_running_is_not_run_twice(api, world):
    api.as_user("city_head")
    api.post("/api/v1/tasks/", new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="slow")
    IdempotencyRecord.objects.filter(key="slow").update(status_code=None, body=None)
    again = api.post("/api/v1/tasks/", new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="slow")
    assert again.status_code == 409
    assert again.json()["code"] == "idempotency_in_progress"
    assert Task.objects.count() == 1


def test_a_failed_request_keeps_nothing_so_a_retry_runs(api, world, monkeypatch):
    def database_gone(**kwargs):
        Task.objects.create(
            campaign=world.campaign,
            title="写了一半",
            issuing_unit=world.unit("锦州市"),
            lead_unit=world.unit("黑山县"),
            due_date=datetime.date(2018, 12, 1),
            original_due_date=datetime.date(2018, 12, 1),
        )
        raise OperationalError("server closed the connection unexpectedly")

    api.as_user("city_head")
    with monkeypatch.context() as patch:
        patch.setattr("tasks.services.task_create", database_gone)
        failed = api.post("/api/v1/tasks/", new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert failed.status_code == 503
    assert failed.json()["code"] == "service_unavailable"
    assert not IdempotencyRecord.objects.filter(key="retry-me").exists()
    assert not Task.objects.exists()

    retried = api.post("/api/v1/tasks/", new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="retry-me")
    assert retried.status_code == 201
    assert not retried.has_header("Idempotent-Replayed")
    assert Task.objects.count() == 1


def test_without_a_key_every_post_runs(api, world):
    api.as_user("city_head")
    for _ in range(2):
        assert api.post("/api/v1/tasks/", new_task(world), format="json").status_code == 201
    assert Task.objects.count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_only_posts_are_recorded(api, world, make_task):
    task = make_task()
    api.as_user("city_head")
    assert api.get("/api/v1/tasks/", HTTP_IDEMPOTENCY_KEY="get-1").status_code == 200
    patched = api.patch(
        f"/api/v1/tasks/{task.pk}/", {"title": "改"}, format="json", HTTP_IDEMPOTENCY_KEY="p-1"
    )
    assert patched.status_code == 200
    assert not IdempotencyRecord.objects.exists()


def test_an_overlong_key_is_refused(api, world):
    api.as_user("city_head")
    response = api.post(
        "/api/v1/tasks/", new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="k" * (MAX_KEY_LENGTH + 1)
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not Task.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_an_anonymous_post_with_a_key_records_nothing(api, world):
    api.as_user(None)
    response = api.post("/api/v1/tasks/", new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="anon")
    assert response.status_code == 401
    assert not IdempotencyRecord.objects.exists()


# Retention

RETENTION = datetime.timedelta(days=settings.DUBAN["IDEMPOTENCY_RETENTION_DAYS"])


def record_at(moment: datetime.datetime, key: str) -> None:
    with time_machine.travel(moment, tick=False):
        IdempotencyRecord.objects.create(
            key=key,
            principal="user:1",
            method="POST",
            path="/api/v1/tasks/",
            request_hash="h",
            status_code=201,
        )


def test_the_purge_job_deletes_records_past_the_retention_and_keeps_the_rest(db):
    now = timezone.now()
    record_at(now - RETENTION - datetime.timedelta(days=30), "a month late")
    record_at(now - RETENTION - datetime.timedelta(minutes=1), "just past")
    record_at(now - RETENTION + datetime.timedelta(minutes=1), "just within")
    record_at(now - datetime.timedelta(hours=1), "an hour ago")
    with time_machine.travel(now, tick=False):
        assert idempotency_purge.apply().get() == 2
    assert set(IdempotencyRecord.objects.values_list("key", flat=True)) == {"just within", "an hour ago"}


def test_the_purge_deletes_in_batches_of_one_statement_each(db, django_assert_num_queries):
    now = timezone.now()
    for number in range(5):
        record_at(now - RETENTION - datetime.timedelta(days=1), f"old-{number}")
    record_at(now, "new")
    # Two full batches, then one short batch that ends the purge.
    with django_assert_num_queries(3):
        assert idempotency_records_purge(now=now, batch_size=2) == 5
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_a_retry_after_the_purge_runs_as_a_new_request(api, world):
    sent = timezone.now()
    api.as_user("city_head")
    with time_machine.travel(sent, tick=False):
        first = api.post("/api/v1/tasks/", new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="late")
    with time_machine.travel(sent + RETENTION - datetime.timedelta(hours=1), tick=False):
        idempotency_purge.apply().get()
        replayed = api.post("/api/v1/tasks/", new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="late")
    assert replayed["Idempotent-Replayed"] == "true"
    assert replayed.json() == first.json()
    assert Task.objects.count() == 1

    with time_machine.travel(sent + RETENTION + datetime.timedelta(hours=1), tick=False):
        idempotency_purge.apply().get()
        again = api.post("/api/v1/tasks/", new_task(world), format="json", HTTP_IDEMPOTENCY_KEY="late")
    assert again.status_code == 201
    assert not again.has_header("Idempotent-Replayed")
    assert again.json()["id"] != first.json()["id"]
    assert Task.objects.count() == 2
    assert IdempotencyRecord.objects.get(key="late").created_at > sent + RETENTION


def test_the_purge_is_scheduled_and_every_scheduled_job_exists(db):
    entry = PeriodicTask.objects.get(task="core.jobs.idempotency_purge")
    assert entry.enabled and (entry.crontab.hour, entry.crontab.minute) == ("3", "15")
    for _name, job, _when in DEFAULT_SCHEDULE:
        assert import_string(job).name == job
        assert PeriodicTask.objects.filter(task=job).exists()
