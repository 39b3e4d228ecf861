"""A closed item's pending re-check (回头看) is warned of from 0020 on: the items closed before
it get the re-check's date as their next warned date, on the task and its scope rows."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tasks.models import Task, TaskScope

from .test_migrations import _migrate

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

BEFORE = [("tasks", "0019_recheck_attachments")]
D = datetime.date


def _old_items(apps) -> dict[str, int]:
    Unit = apps.get_model("responsibility", "Unit")
    Campaign = apps.get_model("tasks", "Campaign")
    OldTask = apps.get_model("tasks", "Task")
    Obligation = apps.get_model("tasks", "Obligation")
    Scope = apps.get_model("tasks", "TaskScope")
    county = Unit.objects.create(name="义县", kind="county", path="", depth=0)
    county.path = f"{county.pk}/"
    county.save()
    campaign = Campaign.objects.create(
        name="百日攻坚", issuing_unit=county, starts_on=D(2018, 9, 1), ends_on=D(2018, 12, 10)
    )

    def item(title, state, recheck=None, met=False):
        task = OldTask.objects.create(
            campaign=campaign,
            title=title,
            kind="rectification",
            issuing_unit=county,
            lead_unit=county,
            due_date=D(2018, 10, 31),
            original_due_date=D(2018, 10, 31),
            state=state,
            next_obligation_date=recheck if recheck and not met else None,
        )
        Scope.objects.create(
            task=task,
            unit=county,
            issuing=True,
            state=state,
            kind="rectification",
            campaign=campaign,
            due_date=task.due_date,
            next_obligation_date=task.next_obligation_date,
        )
        if recheck:
            Obligation.objects.create(
                task=task,
                kind="recheck",
                owed_by=county,
                due_date=recheck,
                met_at=datetime.datetime(2018, 12, 1, tzinfo=datetime.UTC) if met else None,
                result="passed" if met else "",
            )
        return task.pk

    return {
        "pending": item("档案填写不完整", "closed", D(2018, 12, 28)),
        "recorded": item("信息上墙不到位", "closed", D(2018, 12, 28), met=True),
        "open": item("危房改造", "in_progress"),
    }


def test_pending_rechecks_carry_their_date_as_the_next_warned_date():
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        ids = _old_items(_migrate(BEFORE))
        _migrate(leaves)
        warned = dict(Task.objects.filter(pk__in=ids.values()).values_list("pk", "next_warned_date"))
        assert warned == {ids["pending"]: D(2018, 12, 28), ids["recorded"]: None, ids["open"]: None}
        scoped = dict(TaskScope.objects.filter(task__in=ids.values()).values_list("task", "next_warned_date"))
        assert scoped == warned
    finally:
        _migrate(leaves)
