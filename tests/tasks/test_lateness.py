"""Late or not, and by how many days: the Python rules and their SQL form agree, in the
office's days (Asia/Shanghai), across weekends and the National Day holiday."""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from tasks import lateness
from tasks.models import Task, TaskState
from tasks.services import task_transition

pytestmark = pytest.mark.django_db

D = datetime.date
SHANGHAI = ZoneInfo("Asia/Shanghai")
ON = D(2018, 12, 3)  # Monday


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Case:
    """A task due on ``due``, taken to ``state`` (closed at ``closed``, Shanghai time), and
    what it is on ``ON``: late or not, by how many calendar and working days."""

    due: datetime.date
    state: str
    closed: datetime.datetime | None
    late: bool
    days: int | None
    working_days: int | None


CASES = {
    "closed two days before": Case(
        D(2018, 11, 29), TaskState.CLOSED, at(D(2018, 11, 27), 10), False, None, None
    ),
    "closed on the due date": Case(
        D(2018, 11, 29), TaskState.CLOSED, at(D(2018, 11, 29), 10), False, None, None
    ),
    # 15:30 UTC: the same day in both zones.
    "closed at 23:30 on the due date": Case(
        D(2018, 11, 29), TaskState.CLOSED, at(D(2018, 11, 29), 23, 30), False, None, None
    ),
    # 23:00 UTC on the due date: in UTC it would look on time.
    "closed at 07:00 the day after": Case(
        D(2018, 11, 29), TaskState.CLOSED, at(D(2018, 11, 30), 7), True, 1, 1
    ),
    "closed the next week": Case(D(2018, 11, 29), TaskState.CLOSED, at(D(2018, 12, 4), 10), True, 5, 3),
    # Friday's task closed on Saturday: a day late, no working day lost.
    "closed over the weekend": Case(D(2018, 11, 30), TaskState.CLOSED, at(D(2018, 12, 1), 10), True, 1, 0),
    # Due Friday 28 September; the weekend after was worked (调休), then National Day
    # ran from 1 to 7 October.
    "closed after national day": Case(D(2018, 9, 28), TaskState.CLOSED, at(D(2018, 10, 8), 10), True, 10, 3),
    "closed during national day": Case(D(2018, 9, 30), TaskState.CLOSED, at(D(2018, 10, 7), 10), True, 7, 0),
    # Submitted after its due date and awaiting verification: still late, as verification
    # may send it back.
    "submitted past the due date": Case(
        D(2018, 11, 29), TaskState.SUBMITTED, at(D(2018, 11, 30), 10), True, 4, 2
    ),
    # Submitted in time: the unit owes nothing more; the issuer owes the verification.
    "submitted in time, now past the due date": Case(
        D(2018, 11, 29), TaskState.SUBMITTED, at(D(2018, 11, 29), 18), False, None, None
    ),
    "submitted before the due date": Case(D(2018, 12, 5), TaskState.SUBMITTED, None, False, None, None),
    "open on its due date": Case(ON, TaskState.IN_PROGRESS, None, False, None, None),
    "open past a weekend": Case(D(2018, 11, 30), TaskState.IN_PROGRESS, None, True, 3, 1),
    "assigned, never started": Case(D(2018, 11, 20), TaskState.ASSIGNED, None, True, 13, 9),
    "cancelled past the due date": Case(D(2018, 11, 20), TaskState.CANCELLED, None, False, None, None),
    "draft past the due date": Case(D(2018, 11, 20), TaskState.DRAFT, None, False, None, None),
}

STEPS = {
    TaskState.DRAFT: [],
    TaskState.ASSIGNED: [],
    TaskState.IN_PROGRESS: [("yi_member", "accept")],
    TaskState.SUBMITTED: [("yi_member", "accept"), ("yi_member", "submit")],
    TaskState.CLOSED: [("yi_member", "accept"), ("yi_member", "submit"), ("city_head", "close")],
    TaskState.CANCELLED: [("city_head", "cancel")],
}


@pytest.fixture
def cases(world, make_task) -> dict[str, Task]:
    made = {}
    for name, case in CASES.items():
        with time_machine.travel(at(D(2018, 9, 3), 9), tick=False):
            task = make_task(name, due_date=case.due, assign=case.state != TaskState.DRAFT)
        for username, step in STEPS[case.state]:
            with time_machine.travel(case.closed or at(D(2018, 9, 4), 9), tick=False):
                task_transition(task_id=task.pk, actor=world.person(username), name=step, comment="已完成")
        made[name] = Task.objects.get(pk=task.pk)
    return made


def test_each_case_is_judged_as_the_office_counts(cases):
    judged = {
        name: (
            lateness.is_late(task, ON),
            lateness.days_late(task, ON),
            lateness.working_days_late(task, ON),
        )
        for name, task in cases.items()
    }
    assert judged == {name: (case.late, case.days, case.working_days) for name, case in CASES.items()}


def test_the_query_agrees_with_python_on_every_case(cases):
    def names(condition) -> set[str]:
        return set(Task.objects.filter(condition).values_list("title", flat=True))

    tasks = cases.values()
    assert names(lateness.late_q(ON)) == {t.title for t in tasks if lateness.is_late(t, ON)}
    assert names(lateness.overdue_q(ON)) == {t.title for t in tasks if lateness.is_overdue(t, ON)}
    closed = [t for t in tasks if lateness.closed_on(t)]
    assert names(lateness.closed_late_q()) == {t.title for t in closed if lateness.is_late(t, ON)}
    assert names(lateness.closed_on_time_q()) == {t.title for t in closed if not lateness.is_late(t, ON)}
    days = dict(Task.objects.annotate(day=lateness.closed_day()).values_list("title", "day"))
    assert days == {t.title: lateness.local_date(t.closed_at) if t.closed_at else None for t in tasks}


def test_another_active_time_zone_changes_no_answer(cases):
    # A request that activated UTC would see the 07:00 closing on the due date.
    with timezone.override("UTC"):
        late = set(Task.objects.filter(lateness.late_q(ON)).values_list("title", flat=True))
        assert "closed at 07:00 the day after" in late
        assert lateness.is_late(cases["closed at 07:00 the day after"], ON)
        assert lateness.closed_on(cases["closed at 07:00 the day after"]) == D(2018, 11, 30)


def test_the_local_day_of_an_instant_and_the_first_instant_of_a_day():
    late_evening_utc = datetime.datetime(2018, 11, 30, 23, 0, tzinfo=datetime.UTC)
    assert lateness.local_date(late_evening_utc) == D(2018, 12, 1)
    assert lateness.start_of_day(D(2018, 12, 1)) == datetime.datetime(
        2018, 11, 30, 16, 0, tzinfo=datetime.UTC
    )


def test_late_since_is_the_day_after_the_due_date(cases):
    assert lateness.late_since(cases["closed at 07:00 the day after"], ON) == D(2018, 11, 30)
    assert lateness.late_since(cases["open past a weekend"], ON) == D(2018, 12, 1)
    assert lateness.late_since(cases["closed at 23:30 on the due date"], ON) is None
    assert lateness.late_since(cases["cancelled past the due date"], ON) is None


def test_a_suspended_task_is_not_late_while_its_clock_stands_still(world, make_task):
    task = make_task("暂缓任务", due_date=D(2018, 11, 20))
    with time_machine.travel(at(D(2018, 11, 15), 9), tick=False):
        task_transition(task_id=task.pk, actor=world.person("city_head"), name="suspend", comment="汛期")
    task = Task.objects.get(pk=task.pk)

    assert not lateness.is_late(task, ON)
    assert lateness.days_late(task, ON) is None
    assert not Task.objects.filter(lateness.late_q(ON), pk=task.pk).exists()


def test_days_past_a_due_date_are_never_negative():
    assert lateness.calendar_days_past(D(2018, 11, 30), D(2018, 11, 28)) == 0
    assert lateness.working_days_past(D(2018, 11, 30), D(2018, 11, 28)) == 0
    assert lateness.working_days_past(D(2018, 11, 30), D(2018, 11, 30)) == 0
    assert lateness.working_days_past(D(2018, 11, 30), D(2018, 12, 3)) == 1
