"""Whether a task is late, and by how many days: the one answer every part of Duban gives.

Days are the office's days. An instant becomes a date in ``settings.TIME_ZONE``
(Asia/Shanghai), in Python and in SQL alike: work closed at 07:00 on 1 December in Beijing
(23:00 on 30 November in UTC, as the database stores it) was closed on 1 December.

As of a local day ``on``, a task is

- **overdue** while it is still owed (assigned, in progress, or submitted and awaiting
  acceptance, which may yet send it back) and its due date has passed: ``due_date < on``.
  This is the red light, the API's ``overdue`` and the ladder's overdue rung;
- **late** if it is overdue, or was closed on a local day after its due date (judged by
  its closing day, whatever day asks);
- never late while a draft (not issued), suspended (the clock stands still; resuming moves
  the due date) or cancelled (owed by nobody).

How late: calendar days from the due date to the day it was closed (or ``on``, while
open), as ledgers and bulletins print 逾期天数; or working days in (due date, that day]
under the holiday calendar of ``tasks.workdays``, the count the ladder's rungs use ("listed
3 working days overdue"), and so what digests say: 已逾期 3 个工作日.
"""

import datetime
from collections.abc import Iterable

from django.db.models import F, Q
from django.db.models.functions import TruncDate
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone

from .models import OPEN_STATES, Task, TaskState
from .workdays import WorkCalendar, calendar_for


def _office_zone() -> datetime.tzinfo:
    # The settings' zone, not the current one: a request that activated another zone
    # must not move a deadline, nor make Python and SQL disagree.
    return timezone.get_default_timezone()


def local_date(moment: datetime.datetime) -> datetime.date:
    """The office's date of an instant."""
    return timezone.localdate(moment, _office_zone())


def today() -> datetime.date:
    return local_date(timezone.now())


def start_of_day(day: datetime.date) -> datetime.datetime:
    """The first instant of the office's ``day``."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=_office_zone())


def closed_on(task: Task) -> datetime.date | None:
    """The office's day the task was closed (销号), if it is closed."""
    if task.state != TaskState.CLOSED or task.closed_at is None:
        return None
    return local_date(task.closed_at)


def is_overdue(task: Task, on: datetime.date) -> bool:
    """Still owed and past its due date on ``on``."""
    return task.state in OPEN_STATES and task.due_date < on


def counted_until(task: Task, on: datetime.date) -> datetime.date:
    """The last day a task's lateness counts to: the day it was closed, else ``on``."""
    return closed_on(task) or on


def is_late(task: Task, on: datetime.date) -> bool:
    """Overdue on ``on``, or closed after its due date."""
    finished = closed_on(task)
    return finished > task.due_date if finished else is_overdue(task, on)


def late_since(task: Task, on: datetime.date) -> datetime.date | None:
    """The first day the task was late (the day after its due date), if it is or was."""
    return task.due_date + datetime.timedelta(days=1) if is_late(task, on) else None


def calendar_days_past(due_date: datetime.date, day: datetime.date) -> int:
    """Calendar days from ``due_date`` to ``day``; 0 on or before the due date."""
    return max((day - due_date).days, 0)


def working_days_past(
    due_date: datetime.date, day: datetime.date, calendar: WorkCalendar | None = None
) -> int:
    """Working days in (``due_date``, ``day``]: a rung "n working days overdue" is reached
    on the day this becomes n. 0 on or before the due date."""
    if day <= due_date:
        return 0
    calendar = calendar or calendar_for(due_date, day)
    return calendar.working_days_between(due_date, day)


def days_late(task: Task, on: datetime.date) -> int | None:
    """Calendar days late as of ``on``; None if the task is not late."""
    return calendar_days_past(task.due_date, counted_until(task, on)) if is_late(task, on) else None


def working_days_late(task: Task, on: datetime.date, calendar: WorkCalendar | None = None) -> int | None:
    """Working days late as of ``on``; None if the task is not late. Late over a weekend
    or a holiday alone is late by 0 working days."""
    if not is_late(task, on):
        return None
    return working_days_past(task.due_date, counted_until(task, on), calendar)


# The same rules in SQL, for figures counted in the database. Tests hold each to its
# Python form above.


def closed_day() -> TruncDate:
    """The office's day of ``closed_at``, as an expression."""
    return TruncDate("closed_at", tzinfo=_office_zone())


def overdue_q(on: datetime.date) -> Q:
    return Q(state__in=OPEN_STATES, due_date__lt=on)


def closed_late_q() -> Q:
    return Q(state=TaskState.CLOSED) & Q(GreaterThan(closed_day(), F("due_date")))


def closed_on_time_q() -> Q:
    return Q(state=TaskState.CLOSED) & Q(LessThanOrEqual(closed_day(), F("due_date")))


def late_q(on: datetime.date) -> Q:
    return overdue_q(on) | closed_late_q()


# Traffic lights (红黄绿灯), for open tasks only: red overdue, yellow due within the
# campaign's ``yellow_working_days``, green on track.


def yellow_limit(on: datetime.date, working_days: int, calendar: WorkCalendar | None = None) -> datetime.date:
    """The last due date that still shows yellow on day ``on``."""
    return (calendar or calendar_for(on)).add_working_days(on, working_days)


def light_q(light: str, on: datetime.date, working_days: int, calendar: WorkCalendar | None = None) -> Q:
    limit = yellow_limit(on, working_days, calendar)
    if light == "red":
        return overdue_q(on)
    if light == "yellow":
        return Q(state__in=OPEN_STATES, due_date__gte=on, due_date__lte=limit)
    return Q(state__in=OPEN_STATES, due_date__gt=limit)


def campaigns_light_q(
    light: str, on: datetime.date, working_days: Iterable[int], calendar: WorkCalendar | None = None
) -> Q:
    """``light_q`` over tasks of campaigns that warn at different distances: each campaign
    sets its ``yellow_working_days``, and ``working_days`` are the values they set."""
    condition = Q(pk__in=[])
    for days in working_days:
        condition |= Q(campaign__yellow_working_days=days) & light_q(light, on, days, calendar)
    return condition


def task_light(task: Task, on: datetime.date, limit: datetime.date) -> str | None:
    if task.state not in OPEN_STATES:
        return None
    if is_overdue(task, on):
        return "red"
    return "yellow" if task.due_date <= limit else "green"
