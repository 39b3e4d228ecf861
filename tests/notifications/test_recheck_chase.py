"""A missed re-check (回头看) is chased like a missed verification: once per rung, up the
issuing unit's chain, though the item it belongs to is closed.

七里河镇 closes a rectification item of 大榆树堡村 on Friday 28 September 2018; its campaign
re-checks five working days after closing, so by Wednesday 10 October, across the National
Day holiday.
"""

import datetime

import pytest
import time_machine

from notifications.models import Escalation
from notifications.services import sweep_run
from tasks.models import Campaign, Obligation, ObligationKind, Task, TaskKind
from tasks.rungs import LEVEL_RANK, Level
from tasks.services import task_create, task_recheck_record, task_transition

from .conftest import at_nine, text_of

pytestmark = pytest.mark.django_db

D = datetime.date
VILLAGE_HEAD = "village_a_head@jz.example.cn"
TOWNSHIP_HEAD = "qilihe_head@jz.example.cn"


def sweep_on(day: datetime.date) -> dict:
    with time_machine.travel(at_nine(day), tick=False):
        return sweep_run(day=day)


def act(world, day, username, name, task, comment=""):
    with time_machine.travel(at_nine(day), tick=False):
        return task_transition(task_id=task.pk, actor=world.person(username), name=name, comment=comment)


@pytest.fixture
def closed(addressed) -> Task:
    world = addressed
    Campaign.objects.filter(pk=world.campaign.pk).update(recheck_working_days=5)
    with time_machine.travel(at_nine(D(2018, 9, 20)), tick=False):
        task = task_create(
            actor=world.person("qilihe_head"),
            campaign=Campaign.objects.get(pk=world.campaign.pk),
            title="大榆树堡村饮水管网漏损",
            kind=TaskKind.RECTIFICATION,
            issuing_unit=world.unit("七里河镇"),
            lead_unit=world.unit("大榆树堡村"),
            responsible_person=world.person("village_a_head"),
            due_date=D(2018, 9, 28),
            assign=True,
        )
    act(world, D(2018, 9, 20), "village_a_head", "accept", task)
    act(world, D(2018, 9, 27), "village_a_head", "submit", task, "管网已修复")
    return act(world, D(2018, 9, 28), "qilihe_head", "close", task)


def chased(task: Task) -> list[str]:
    rows = Escalation.objects.filter(task=task, obligation__kind=ObligationKind.RECHECK)
    return sorted(rows.values_list("level", flat=True))


def test_a_missed_recheck_is_chased_once_per_rung_up_the_issuers_chain(addressed, closed, smtp):
    task = closed
    owed = Obligation.objects.get(task=task, kind=ObligationKind.RECHECK)
    assert owed.due_date == D(2018, 10, 10)
    village_mail = len(smtp.mailbox.to(VILLAGE_HEAD))

    sweep_on(D(2018, 10, 10))  # due today: no warning before its date
    assert chased(task) == []
    sweep_on(D(2018, 10, 11))
    assert chased(task) == ["overdue"]
    row = Escalation.objects.get(obligation=owed)
    assert (row.lead_unit_id, row.responsible_person_id) == (addressed.unit("七里河镇").pk, None)
    digest = text_of(smtp.mailbox.to(TOWNSHIP_HEAD)[-1])
    assert "回头看复查（应于10月10日前完成）" in digest
    assert "大榆树堡村饮水管网漏损" in digest

    sent = len(smtp.mailbox.messages)
    sweep_on(D(2018, 10, 11))  # again the same day: nothing new, nobody told twice
    assert chased(task) == ["overdue"]
    assert len(smtp.mailbox.messages) == sent

    # Three working days past (11, 12 and 15 October): listed; seven (to the 19th): criticised.
    sweep_on(D(2018, 10, 15))
    assert chased(task) == ["listed", "overdue"]
    sweep_on(D(2018, 10, 19))
    assert chased(task) == ["criticism", "listed", "overdue"]
    sweep_on(D(2018, 10, 22))
    assert chased(task) == ["criticism", "listed", "overdue"]
    owed.refresh_from_db()
    assert owed.escalation_rank == LEVEL_RANK[Level.CRITICISM]
    # The item's own date is not chased (it was finished in time), nor its unit told.
    assert not Escalation.objects.filter(task=task, obligation__isnull=True).exists()
    assert len(smtp.mailbox.to(VILLAGE_HEAD)) == village_mail

    # Recorded at last: the climb stops.
    with time_machine.travel(at_nine(D(2018, 10, 23)), tick=False):
        task_recheck_record(task_id=task.pk, actor=addressed.person("qilihe_head"), result="passed")
    sweep_on(D(2018, 10, 29))
    assert chased(task) == ["criticism", "listed", "overdue"]


def test_a_recheck_recorded_in_time_is_never_chased(addressed, closed, smtp):
    with time_machine.travel(at_nine(D(2018, 10, 9)), tick=False):
        task_recheck_record(task_id=closed.pk, actor=addressed.person("qilihe_head"), result="passed")
    sweep_on(D(2018, 10, 22))
    assert chased(closed) == []
