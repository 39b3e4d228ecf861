"""The moves between apps change Django's picture of the models, never the rows: a
database holding data at the schema before them comes out with every row in place."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_celery_beat.models import PeriodicTask

from notifications.models import Escalation
from outbox.models import OutboundMessage
from tasks.models import Responsibility, Task

# Serialized, as every transactional test here: see tests/demo/test_load_demo.py.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The schema before the catalogue of responsibilities moved to ``tasks``, before a task
# kept its own rung and before it counted its unmet indicators.
BEFORE = [
    ("responsibility", "0003_api_token"),
    ("tasks", "0006_calendar_change"),
    ("notifications", "0006_ladder_history"),
    ("outbox", None),
]
DUE = datetime.date(2018, 11, 30)
EXTENDED = datetime.date(2018, 12, 31)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([node for node in targets if node[1]]).apps


def _old_world(apps) -> dict[str, int]:
    """A campaign with its catalogue, a chased task and an extended one, written with the
    models as they were."""
    Unit = apps.get_model("responsibility", "Unit")
    Campaign = apps.get_model("tasks", "Campaign")
    OldResponsibility = apps.get_model("responsibility", "Responsibility")
    OldTask = apps.get_model("tasks", "Task")
    Escalation = apps.get_model("notifications", "Escalation")
    county = Unit.objects.create(name="丹寨县", kind="county", path="", depth=0)
    county.path = f"{county.pk}/"
    county.save()
    campaign = Campaign.objects.create(
        name="脱贫攻坚", issuing_unit=county, starts_on=datetime.date(2018, 1, 1), ends_on=DUE
    )
    duty = OldResponsibility.objects.create(campaign=campaign, code="一", name="主体责任", order=1)

    def task(title, due_date, parent=None):
        return OldTask.objects.create(
            campaign=campaign,
            parent=parent,
            title=title,
            responsibility=duty,
            issuing_unit=county,
            lead_unit=county,
            due_date=due_date,
            original_due_date=DUE,
            state="in_progress",
        )

    chased = task("危房改造", DUE)
    extended = task("饮水安全", EXTENDED, parent=chased)
    Indicator = apps.get_model("tasks", "Indicator")
    for name, target, current, comparison, veto in [
        ("D级危房改造", 1888, 600, "gte", False),  # short
        ("饮水安全有保障", 100, 100, "gte", False),  # met
        ("综合贫困发生率", 2, 3, "lte", True),  # over
        ("住房安全有保障", 100, 100, "gte", True),  # met
    ]:
        Indicator.objects.create(
            task=chased, name=name, target=target, current_value=current, comparison=comparison, veto=veto
        )
    escalations = [
        Escalation.objects.create(task=target, level=level, rank=rank, due_date=DUE, lead_unit=county)
        for target, level, rank in [(chased, "reminder", 1), (chased, "listed", 3), (extended, "overdue", 2)]
    ]
    message = apps.get_model("notifications", "OutboundMessage").objects.create(
        recipient_unit=county,
        to_address="danzhai@example.cn",
        subject="督办提醒",
        body_text="…",
        message_id="<1@x>",
    )
    message.escalations.set(escalations[:2])
    return {
        "campaign": campaign.pk,
        "duty": duty.pk,
        "chased": chased.pk,
        "extended": extended.pk,
        "message": message.pk,
        "told": sorted(escalation.pk for escalation in escalations[:2]),
    }


def test_the_moves_keep_every_row_and_fill_each_tasks_rung():
    """Every row written before the moves reads back through the models where they are now."""
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        ids = _old_world(_migrate(BEFORE))
        _migrate(leaves)

        duty = Responsibility.objects.get(pk=ids["duty"])
        assert (duty.campaign_id, duty.code, duty.name) == (ids["campaign"], "一", "主体责任")
        chased, extended = Task.objects.get(pk=ids["chased"]), Task.objects.get(pk=ids["extended"])
        assert chased.responsibility_id == extended.responsibility_id == duty.pk
        # The highest rung against the current due date; rungs of an earlier date no longer count.
        assert chased.escalation_rank == 3
        assert extended.escalation_rank is None
        # Each task counts its unmet indicators, veto ones apart, as the services keep them.
        assert (chased.targets_not_met, chased.veto_not_met) == (1, 1)
        assert (extended.targets_not_met, extended.veto_not_met) == (0, 0)
        # Each escalation recorded before keeps its task's parent, as the sweep now records it.
        parents = dict(Escalation.objects.values_list("task_id", "task_parent_id").distinct())
        assert parents == {chased.pk: None, extended.pk: chased.pk}
        assert ContentType.objects.get_for_model(Responsibility).app_label == "tasks"
        assert not ContentType.objects.filter(app_label="responsibility", model="responsibility").exists()

        message = OutboundMessage.objects.get(pk=ids["message"])
        assert (message.to_address, message.message_id) == ("danzhai@example.cn", "<1@x>")
        assert sorted(message.escalations.values_list("pk", flat=True)) == ids["told"]
        assert ContentType.objects.get_for_model(OutboundMessage).app_label == "outbox"
        # The beat schedule the migrations wrote names the flush job where it now lives.
        jobs = set(PeriodicTask.objects.values_list("task", flat=True))
        assert "outbox.jobs.outbox_flush" in jobs and "notifications.jobs.outbox_flush" not in jobs
    finally:
        _migrate(leaves)
