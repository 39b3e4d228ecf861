"""A missed progress report (催报) is chased by the same ladder as an overdue task.

七里河镇 asks the village 大榆树堡村 to report its house renovation every month by the 28th
("每月28日前报送", a city plan's words), in the autumn of 2018: the October period falls due
on Friday 26 October (the 28th was a Sunday).
"""

import datetime

import pytest
import time_machine

from notifications.models import Escalation
from notifications.services import sweep_run
from tasks import lateness
from tasks.dashboard import unit_dashboard
from tasks.models import Obligation, ObligationKind, Task
from tasks.rungs import LEVEL_RANK, Level
from tasks.schedules import periods_of, report_periods, schedule_status
from tasks.services import progress_report_create, report_schedule_set, task_create, task_transition

from .conftest import at_nine, text_of

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

D = datetime.date
VILLAGE_HEAD = "village_a_head@jz.example.cn"


def sweep_on(day: datetime.date) -> dict:
    with time_machine.travel(at_nine(day), tick=False):
        return sweep_run(day=day)


def scheduled(
    world, cadence: str, day: int | None, due: datetime.date, title: str, accept: bool = True
) -> Task:
    """Assigned on Monday 1 October 2018 with the schedule, signed for the next day unless
    ``accept`` is false."""
    with time_machine.travel(at_nine(D(2018, 10, 1)), tick=False):
        task = task_create(
            actor=world.person("qilihe_head"),
            campaign=world.campaign,
            title=title,
            issuing_unit=world.unit("七里河镇"),
            lead_unit=world.unit("大榆树堡村"),
            responsible_person=world.person("village_a_head"),
            due_date=due,
        )
        report_schedule_set(task_id=task.pk, actor=world.person("qilihe_head"), cadence=cadence, day=day)
        task = task_transition(task_id=task.pk, actor=world.person("qilihe_head"), name="assign")
    if not accept:
        return task
    with time_machine.travel(at_nine(D(2018, 10, 2)), tick=False):
        return task_transition(task_id=task.pk, actor=world.person("village_a_head"), name="accept")


def levels(obligation: Obligation) -> list[str]:
    return sorted(Escalation.objects.filter(obligation=obligation).values_list("level", flat=True))


def test_a_missed_month_climbs_once_per_rung_and_the_digest_holds_one_line(addressed, smtp):
    world = addressed
    task = scheduled(world, "monthly", 28, D(2018, 12, 31), "大榆树堡村危房改造进展")
    october = Obligation.objects.get(task=task, kind=ObligationKind.REPORT, due_date=D(2018, 10, 26))

    sweep_on(D(2018, 10, 24))  # within the warning distance: a reminder, no more
    assert levels(october) == ["reminder"]
    sweep_on(D(2018, 10, 29))  # Monday after the missed Friday
    assert levels(october) == ["overdue", "reminder"]
    october.refresh_from_db()
    assert october.escalation_rank == LEVEL_RANK[Level.OVERDUE]
    digest = text_of(smtp.mailbox.to(VILLAGE_HEAD)[-1])
    assert digest.count("月度进展报送（应于10月26日前报送）") == 1
    assert digest.count("大榆树堡村危房改造进展") == 1
    assert "11月28日" not in digest  # the next period is not owed yet

    sent = len(smtp.mailbox.messages)
    sweep_on(D(2018, 10, 29))  # the same day again: nothing new, nobody told twice
    assert levels(october) == ["overdue", "reminder"]
    assert len(smtp.mailbox.messages) == sent
    # The task's own date is two months away: the ladder chased the report only.
    assert not Escalation.objects.filter(task=task, obligation__isnull=True).exists()

    # Red everywhere the lights are read: the task, the list filter and the dashboard.
    task.refresh_from_db()
    assert lateness.is_overdue(task, D(2018, 10, 29))
    with time_machine.travel(at_nine(D(2018, 10, 29)), tick=False):
        village = unit_dashboard(world.person("qilihe_head"), world.unit("大榆树堡村").pk)[0]
    assert village.overdue == 1 and village.red == 1


def test_a_report_in_time_leaves_nothing_to_chase(addressed, smtp):
    world = addressed
    task = scheduled(world, "monthly", 28, D(2018, 12, 31), "王家屯村饮水安全进展")
    with time_machine.travel(at_nine(D(2018, 10, 26)), tick=False):
        progress_report_create(task_id=task.pk, actor=world.person("village_a_head"), text="已完成 40 户")
    sweep_on(D(2018, 10, 29))
    assert not Escalation.objects.filter(task=task, level=Level.OVERDUE).exists()
    task.refresh_from_db()
    assert task.next_obligation_date == D(2018, 11, 28)
    assert not lateness.is_overdue(task, D(2018, 10, 29))


def test_a_late_report_meets_the_missed_period_and_the_ladder_stops(addressed, smtp):
    world = addressed
    task = scheduled(world, "monthly", 28, D(2018, 12, 31), "大榆树堡村厕所改造进展")
    october = Obligation.objects.get(task=task, kind=ObligationKind.REPORT, due_date=D(2018, 10, 26))
    sweep_on(D(2018, 10, 29))
    assert levels(october) == ["overdue", "reminder"]
    # 补报 on the 30th: October's period is met, late; November's is still to come.
    with time_machine.travel(at_nine(D(2018, 10, 30)), tick=False):
        progress_report_create(task_id=task.pk, actor=world.person("village_a_head"), text="十月进展补报")
    october.refresh_from_db()
    assert october.met_at is not None and october.due_date == D(2018, 10, 26)
    november = Obligation.objects.get(task=task, kind=ObligationKind.REPORT, due_date=D(2018, 11, 28))
    assert november.met_at is None
    # Days later the ladder would have reached the next rung for October: it does not.
    sent = len(smtp.mailbox.messages)
    sweep_on(D(2018, 11, 9))
    assert levels(october) == ["overdue", "reminder"]
    assert not any("10月26日前报送" in text_of(m) for m in smtp.mailbox.messages[sent:])
    task.refresh_from_db()
    assert task.next_obligation_date == D(2018, 11, 28)
    assert not lateness.is_overdue(task, D(2018, 11, 9))


def test_a_missed_quarter_and_a_missed_week_are_chased_alike(addressed, smtp):
    world = addressed
    quarterly = scheduled(world, "quarterly", None, D(2018, 12, 31), "产业项目季度形象进度")
    weekly = scheduled(world, "weekly", 5, D(2018, 10, 31), "百日攻坚周报")
    # The quarter ends on a Sunday worked before National Day: 30 September, before the
    # assignment, so the first quarter owed is the fourth, due Saturday 29 December (worked).
    assert list(
        Obligation.objects.filter(task=quarterly, kind="report").values_list("due_date", flat=True)
    ) == [D(2018, 12, 29)]
    # National Day ran 1–7 October: Friday 5 October moved to the last working day before
    # it, Sunday 30 September, before the assignment; the first week owed ends on the 12th.
    assert list(Obligation.objects.filter(task=weekly, kind="report").values_list("due_date", flat=True)) == [
        D(2018, 10, 12),
        D(2018, 10, 19),
        D(2018, 10, 26),
    ]
    with time_machine.travel(at_nine(D(2018, 10, 11)), tick=False):
        progress_report_create(task_id=weekly.pk, actor=world.person("village_a_head"), text="第二周进展")
    sweep_on(D(2018, 10, 22))
    week = Obligation.objects.get(task=weekly, due_date=D(2018, 10, 19))
    assert levels(week) == ["overdue", "reminder"]
    assert not Escalation.objects.filter(
        obligation__task=weekly, obligation__due_date=D(2018, 10, 12)
    ).exists()
    digest = text_of(smtp.mailbox.to(VILLAGE_HEAD)[-1])
    assert "每周进展报送（应于10月19日前报送）" in digest
    sweep_on(D(2019, 1, 2))
    quarter = Obligation.objects.get(task=quarterly, kind="report")
    assert "overdue" in levels(quarter)


def _periods(task: Task, on: datetime.date) -> tuple[int, int]:
    """(missed, met late) as the ledgers count them."""
    return periods_of(Task.objects.annotate(periods=report_periods(on)).get(pk=task.pk).periods)


def test_a_schedule_replaced_after_a_period_was_warned_of_keeps_that_warning_in_the_record(addressed, smtp):
    world = addressed
    task = scheduled(world, "monthly", 28, D(2018, 12, 31), "大榆树堡村危房改造进展")
    october = Obligation.objects.get(task=task, kind=ObligationKind.REPORT, due_date=D(2018, 10, 26))
    sweep_on(D(2018, 10, 24))
    assert levels(october) == ["reminder"]
    with time_machine.travel(at_nine(D(2018, 10, 24)), tick=False):
        report_schedule_set(task_id=task.pk, actor=world.person("qilihe_head"), cadence="weekly", day=5)
    # The warned period stays with its reminder, no longer owed nor listed; the week's is owed.
    october.refresh_from_db()
    assert (october.voided, october.met_at is not None) == (True, True)
    assert levels(october) == ["reminder"]
    status = schedule_status(task, D(2018, 10, 24))
    assert status["next_due_date"] == D(2018, 10, 26)
    with time_machine.travel(at_nine(D(2018, 10, 25)), tick=False):
        progress_report_create(task_id=task.pk, actor=world.person("village_a_head"), text="本周进展")
    assert _periods(task, D(2018, 10, 29)) == (0, 0)
    assert not task.obligations.filter(kind="report", due_date=D(2018, 10, 26), met_at=None).exists()


def test_an_item_returned_to_its_issuer_has_missed_no_period_nor_reported_one_late(addressed, smtp):
    world = addressed
    task = scheduled(world, "monthly", 28, D(2018, 12, 31), "大榆树堡村危房改造进展", accept=False)
    sweep_on(D(2018, 10, 29))  # neither signed for nor reported by the 26th
    assert _periods(task, D(2018, 10, 29)) == (1, 0)
    with time_machine.travel(at_nine(D(2018, 10, 30)), tick=False):
        task_transition(
            task_id=task.pk,
            actor=world.person("village_a_head"),
            name="return_to_issuer",
            comment="不属于本村职责",
        )
    # Back with the issuer, owed by nobody: October was not reported late when it left.
    assert _periods(task, D(2018, 11, 5)) == (0, 0)
    status = schedule_status(task, D(2018, 11, 5))
    assert (status["missed"], status["met_late"], status["next_due_date"]) == ([], [], None)

    with time_machine.travel(at_nine(D(2018, 11, 1)), tick=False):
        task_transition(task_id=task.pk, actor=world.person("qilihe_head"), name="assign")
    # Issued again, it owes its periods from then on, November's first.
    status = schedule_status(task, D(2018, 11, 1))
    assert (status["missed"], status["met_late"], status["next_due_date"]) == ([], [], D(2018, 11, 28))
    with time_machine.travel(at_nine(D(2018, 11, 20)), tick=False):
        task_transition(task_id=task.pk, actor=world.person("village_a_head"), name="accept")
        progress_report_create(task_id=task.pk, actor=world.person("village_a_head"), text="十一月进展")
    assert _periods(task, D(2018, 12, 3)) == (0, 0)
    assert not task.obligations.filter(kind="report", due_date=D(2018, 11, 28), met_at=None).exists()
