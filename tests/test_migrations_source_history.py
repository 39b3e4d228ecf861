"""Sources registered before 0025 get their registration in the new history: by whoever
registered them, when, with what they say; the history refuses changes in the database."""

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from tasks.models import SourceEvent

from .test_migrations import _migrate

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BEFORE = [("tasks", "0024_event_actions_after_merge")]


def test_sources_registered_before_get_their_registration():
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        apps = _migrate(BEFORE)
        Unit = apps.get_model("responsibility", "Unit")
        OldSource = apps.get_model("tasks", "TaskSource")
        city = Unit.objects.create(name="锦州市", kind="city", path="", depth=0)
        city.path = f"{city.pk}/"
        city.save()
        source = OldSource.objects.create(
            kind="instruction",
            document_number="锦市委办发〔2018〕12号",
            document_date=datetime.date(2018, 10, 6),
            title="关于整改的批示",
            registered_by=city,
        )
        _migrate(leaves)

        event = SourceEvent.objects.get(source_id=source.pk)
        assert (event.action, event.registered_by_id, event.actor_id, event.at) == (
            "created",
            city.pk,
            None,
            source.created_at,
        )
        assert event.data["fields"]["document_date"] == "2018-10-06"
        assert event.data["recorded_later"] is True
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE tasks_sourceevent SET action = 'edited'")
    finally:
        _migrate(leaves)
