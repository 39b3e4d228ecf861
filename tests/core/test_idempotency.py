"""Idempotency-Key on POST: a retry gets the first answer, and nothing is written twice."""

import datetime

import pytest
from django.db import OperationalError

from core.idempotency import MAX_KEY_LENGTH
from core.models import IdempotencyRecord
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
