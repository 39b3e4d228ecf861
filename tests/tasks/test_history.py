"""A task's history is written once and never changed or deleted."""

import pytest
from django.db import DatabaseError, connection, transaction

from core.models import AppendOnlyError
from tasks.models import TaskEvent

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def event(world, make_task) -> TaskEvent:
    task = make_task("入户核查")
    return TaskEvent.objects.filter(task=task).order_by("pk").first()


def test_a_new_event_can_be_appended(world, make_task, event):
    appended = TaskEvent.objects.create(task=event.task, actor=world.person("yi_member"), action="reported")
    assert TaskEvent.objects.filter(task=event.task).count() == 3
    assert appended.pk > event.pk


def test_an_event_cannot_be_saved_again(event):
    event.comment = "改写历史"
    with pytest.raises(AppendOnlyError):
        event.save()
    event.refresh_from_db()
    assert event.comment == ""


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert TaskEvent.objects.filter(pk=event.pk).exists()


def test_a_queryset_cannot_update_or_delete_events(event):
    with pytest.raises(AppendOnlyError):
        TaskEvent.objects.filter(pk=event.pk).update(comment="改写历史")
    with pytest.raises(AppendOnlyError):
        TaskEvent.objects.all().delete()
    event.refresh_from_db()
    assert event.comment == ""
    assert TaskEvent.objects.count() == 2


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only"
)


@pytest.mark.postgres
@postgres_only
def test_the_database_refuses_a_raw_update(event):
    table = TaskEvent._meta.db_table
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET comment = %s WHERE id = %s", ["改写历史", event.pk])
    event.refresh_from_db()
    assert event.comment == ""


@pytest.mark.postgres
@postgres_only
def test_the_database_refuses_a_raw_delete(event):
    table = TaskEvent._meta.db_table
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [event.pk])
    assert TaskEvent.objects.filter(pk=event.pk).exists()
