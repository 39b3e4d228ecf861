"""What imported tasks owe: an import writes drafts, which owe nothing until issued; issuing
one opens its sign-for (签收) as for any task; a re-import that hands an issued task to
another lead unit hands over what the lead unit owes on it."""

import datetime

import pytest
import time_machine

from imports.writer import TaskSpec, tasks_sync_imported
from tasks.models import Obligation, ObligationKind, Task, TaskState
from tasks.services import task_transition, task_update

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime.datetime(2018, 10, 8, 1, 0, tzinfo=datetime.UTC), tick=False):
        yield


def owed(task: Task) -> list[tuple]:
    rows = Obligation.objects.filter(task=task, met_at__isnull=True)
    return list(rows.values_list("kind", "owed_by__name", "due_date"))


def test_imported_tasks_owe_from_their_issue_and_to_their_lead_unit(world):
    unit = world.unit
    specs = [
        TaskSpec("1", None, "饮水安全", unit("义县"), D(2018, 11, 30)),
        TaskSpec("2", None, "危房改造", unit("黑山县"), D(2018, 11, 30)),
    ]
    city_head = world.person("city_head")
    tasks_sync_imported(actor=city_head, campaign=world.campaign, specs=specs, apply=True)
    water, houses = Task.objects.filter(imported=True).order_by("number")
    assert {water.state, houses.state} == {TaskState.DRAFT}
    assert not Obligation.objects.exists()

    task_transition(task_id=water.pk, actor=city_head, name="assign")
    assert owed(water) == [(ObligationKind.SIGN_FOR, "义县", D(2018, 10, 11))]
    water.refresh_from_db()
    assert water.next_obligation_date == D(2018, 10, 11)

    # The table, corrected, hands 饮水安全 to 黑山县: the sign-for passes with the task.
    specs[0].lead_unit = unit("黑山县")
    tasks_sync_imported(actor=city_head, campaign=world.campaign, specs=specs, apply=True)
    assert owed(water) == [(ObligationKind.SIGN_FOR, "黑山县", D(2018, 10, 11))]
    # As does an edit of the lead unit by the issuer.
    task_update(task_id=water.pk, actor=city_head, lead_unit=unit("市住建委"))
    assert owed(water) == [(ObligationKind.SIGN_FOR, "市住建委", D(2018, 10, 11))]
    assert owed(houses) == []
