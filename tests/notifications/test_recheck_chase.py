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

    sweep_on(D(2018, 10, 10))  # due today: warned of already (see below)
    assert chased(task) == ["reminder"]
    sweep_on(D(2018, 10, 11))
    assert chased(task) == ["overdue", "reminder"]
    row = Escalation.objects.get(obligation=owed, level="overdue")
    assert (row.lead_unit_id, row.responsible_person_id) == (addressed.unit("七里河镇").pk, None)
    digest = text_of(smtp.mailbox.to(TOWNSHIP_HEAD)[-1])
    assert "回头看复查（应于10月10日前完成）" in digest
    assert "大榆树堡村饮水管网漏损" in digest

    sent = len(smtp.mailbox.messages)
    sweep_on(D(2018, 10, 11))  # again the same day: nothing new, nobody told twice
    assert chased(task) == ["overdue", "reminder"]
    assert len(smtp.mailbox.messages) == sent

    # Three working days past (11, 12 and 15 October): listed; seven (to the 19th): criticised.
    sweep_on(D(2018, 10, 15))
    assert chased(task) == ["listed", "overdue", "reminder"]
    sweep_on(D(2018, 10, 19))
    assert chased(task) == ["criticism", "listed", "overdue", "reminder"]
    sweep_on(D(2018, 10, 22))
    assert chased(task) == ["criticism", "listed", "overdue", "reminder"]
    owed.refresh_from_db()
    assert owed.escalation_rank == LEVEL_RANK[Level.CRITICISM]
    # The item's own date is not chased (it was finished in time), nor its unit told.
    assert not Escalation.objects.filter(task=task, obligation__isnull=True).exists()
    assert len(smtp.mailbox.to(VILLAGE_HEAD)) == village_mail

    # Recorded at last: the climb stops.
    with time_machine.travel(at_nine(D(2018, 10, 23)), tick=False):
        task_recheck_record(task_id=task.pk, actor=addressed.person("qilihe_head"), result="passed")
    sweep_on(D(2018, 10, 29))
    assert chased(task) == ["criticism", "listed", "overdue", "reminder"]


def test_a_recheck_recorded_in_time_is_never_chased(addressed, closed, smtp):
    with time_machine.travel(at_nine(D(2018, 9, 29)), tick=False):
        task_recheck_record(task_id=closed.pk, actor=addressed.person("qilihe_head"), result="passed")
    sweep_on(D(2018, 10, 22))
    assert chased(closed) == []


def test_the_issuer_is_reminded_of_a_recheck_its_warning_days_before_and_only_once(addressed, closed, smtp):
    """The campaign warns three working days ahead: of the 10 October re-check from Sunday 30
    September (a working day in lieu; 8, 9 and 10 October follow the holiday), not on the
    Saturday before, when the third working day ahead is 8 October."""
    task = closed
    village_mail = len(smtp.mailbox.to(VILLAGE_HEAD))
    sweep_on(D(2018, 9, 29))
    assert chased(task) == []
    sweep_on(D(2018, 9, 30))
    assert chased(task) == ["reminder"]
    row = Escalation.objects.get(task=task, level="reminder")
    # Owed by the issuing unit: it is reminded, not the unit that fixed the problem.
    assert (row.lead_unit_id, row.responsible_person_id, row.obligation.kind) == (
        addressed.unit("七里河镇").pk,
        None,
        ObligationKind.RECHECK,
    )
    # The reminder's audience, the owing unit (no responsible person of its own): the
    # township's mailbox.
    digest = text_of(smtp.mailbox.to(f"unit{addressed.unit('七里河镇').pk}@jz.example.cn")[-1])
    assert "回头看复查（应于10月10日前完成）" in digest
    assert "大榆树堡村饮水管网漏损" in digest
    assert len(smtp.mailbox.to(VILLAGE_HEAD)) == village_mail
    sent = len(smtp.mailbox.messages)
    sweep_on(D(2018, 10, 8))
    assert chased(task) == ["reminder"]
    assert len(smtp.mailbox.messages) == sent
    # Recorded in time after the warning: nothing more.
    with time_machine.travel(at_nine(D(2018, 10, 9)), tick=False):
        task_recheck_record(task_id=task.pk, actor=addressed.person("qilihe_head"), result="passed")
    sweep_on(D(2018, 10, 15))
    assert chased(task) == ["reminder"]
