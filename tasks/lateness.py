"""Whether a task is late, and by how many days: the one answer every part of Duban gives.

Days are the office's days. An instant becomes a date in ``settings.TIME_ZONE``
(Asia/Shanghai), in Python and in SQL alike: work closed at 07:00 on 1 December in Beijing
(23:00 on 30 November in UTC, as the database stores it) was closed on 1 December.

A task is open while assigned, in progress, or submitted and awaiting verification. What
it owes by when is listed in ``tasks.obligations``: the work by its due date, and signing
for it, its procedure steps, its periodic progress reports (``tasks.schedules``) and the
issuer's verification each by their own date. The responsible unit owes the work by its
due date until it submits it on or before that date (验收 is then the issuer's, a
``verify`` obligation); a submission after the date leaves the task late until it is
closed. Work without a final date (长期坚持, ``Task.ongoing``) is never owed by its due
date, which only holds the campaign's end for ordering: such a task is late or overdue
only by what else it owes, its reports first. As of a local day ``on``, an open task is

- **overdue** when anything it owes is past its date: the work (``due_date < on``, while
  the unit still owes it) or an unmet obligation (``next_obligation_date < on``). This is
  the red light, the API's ``overdue``, the dashboard's and the bulletin's overdue counts;
- **late** if the work is overdue, or was finished on a local day after its due date
  (judged by the day of the submission that was verified, whatever day asks; the
  closing day for a task closed without one): what on-time rates and 逾期天数 count;
- never late while a draft (not issued), suspended (the clock stands still; resuming moves
  the due date) or cancelled (owed by nobody).

A closed item owes nothing of its own: a re-check (回头看) still owed on it is the issuer's,
neither overdue nor late here, and counted as missed apart (``tasks.obligations``).

How late: calendar days from the due date to the day it was closed (or ``on``, while
open), as ledgers and bulletins print 逾期天数; or working days in (due date, that day]
under the holiday calendar of ``tasks.workdays``, the count the ladder's rungs use ("listed
3 working days overdue"), and so what digests say: 已逾期 3 个工作日.
"""

import datetime
from collections.abc import Iterable

from django.db.models import F, Q
from django.db.models.functions import Coalesce, TruncDate
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


def owes_work(task: Task) -> bool:
    """Open and the work still owed by the unit: not submitted on or before its due date."""
    submitted_in_time = task.submitted_on is not None and task.submitted_on <= task.due_date
    return (
        task.state in OPEN_STATES
        and not task.ongoing
        and not (task.state == TaskState.SUBMITTED and submitted_in_time)
    )


def work_overdue(task: Task, on: datetime.date) -> bool:
    """The work itself is owed and past its due date on ``on``."""
    return owes_work(task) and task.due_date < on


def owed_date(task: Task, *, warned: bool = False) -> datetime.date | None:
    """The earliest date an open task owes anything by (or, ``warned``, anything warned of
    before its date: the work, its steps and reports, ``tasks.obligations.WARNED``); None
    when it owes nothing, and for a task no longer open (a closed item's re-check is
    warned of by the ladder, never by a light)."""
    if task.state not in OPEN_STATES:
        return None
    dates = [task.due_date] if owes_work(task) else []
    other = task.next_warned_date if warned else task.next_obligation_date
    if other is not None:
        dates.append(other)
    return min(dates, default=None)


def is_overdue(task: Task, on: datetime.date) -> bool:
    """Owes anything past its date on ``on``: the red light."""
    owed = owed_date(task)
    return owed is not None and owed < on


def finished_on(task: Task) -> datetime.date | None:
    """The day a closed task's unit finished it: the day of the submission that was
    verified (the issuer's time to verify is not the unit's delay), or the closing day for
    a task closed without one on record."""
    closed = closed_on(task)
    return (task.submitted_on or closed) if closed else None


def counted_until(task: Task, on: datetime.date) -> datetime.date:
    """The last day a task's lateness counts to: the day it was finished, else ``on``."""
    return finished_on(task) or on


def is_late(task: Task, on: datetime.date) -> bool:
    """The work overdue on ``on``, or finished after its due date."""
    finished = finished_on(task)
    if finished:
        return finished > task.due_date and not task.ongoing
    return work_overdue(task, on)


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


def days_overdue(task: Task, on: datetime.date) -> int | None:
    """Calendar days an overdue task has owed something past its date (the work, or an
    obligation such as signing for it, whichever is earliest), as of ``on``; None unless
    it is overdue (the red light). What ledgers print as 逾期天数 beside the light."""
    owed = owed_date(task)
    return calendar_days_past(owed, on) if owed is not None and owed < on else None


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


def finished_day() -> Coalesce:
    """``finished_on`` as an expression."""
    return Coalesce(F("submitted_on"), closed_day())


def owes_work_q() -> Q:
    submitted_in_time = Q(state=TaskState.SUBMITTED, submitted_on__lte=F("due_date"))
    return Q(state__in=OPEN_STATES, ongoing=False) & ~submitted_in_time


def work_overdue_q(on: datetime.date) -> Q:
    return owes_work_q() & Q(due_date__lt=on)


def owed_before_q(day: datetime.date, *, warned: bool = False) -> Q:
    """Open and owing something (``warned``: warned of) by a date before ``day``."""
    other = Q(next_warned_date__lt=day) if warned else Q(next_obligation_date__lt=day)
    return work_overdue_q(day) | (Q(state__in=OPEN_STATES) & other)


def overdue_q(on: datetime.date) -> Q:
    return owed_before_q(on)


def closed_late_q() -> Q:
    return Q(state=TaskState.CLOSED, ongoing=False) & Q(GreaterThan(finished_day(), F("due_date")))


def closed_on_time_q() -> Q:
    return Q(state=TaskState.CLOSED) & (Q(ongoing=True) | Q(LessThanOrEqual(finished_day(), F("due_date"))))


def late_q(on: datetime.date) -> Q:
    return work_overdue_q(on) | closed_late_q()


# Traffic lights (红黄绿灯), for open tasks only: red when it owes anything past its date
# (overdue); yellow when the work or a step falls due within the campaign's
# ``yellow_working_days`` (signing for and verifying, owed from the day the item arrives,
# show only once missed, as the ladder warns of them only then); green otherwise.


def request_calendar(request, on: datetime.date) -> WorkCalendar:
    """The holiday calendar for ``on``, read once per request (None: no request) however
    many parts of it draw lights: the list's light filter and its serializer."""
    cached = getattr(request, "_duban_calendar", None)
    if cached is not None and cached[0] == on:
        return cached[1]
    calendar = calendar_for(on)
    if request is not None:
        request._duban_calendar = (on, calendar)
    return calendar


def yellow_limit(on: datetime.date, working_days: int, calendar: WorkCalendar | None = None) -> datetime.date:
    """The last due date that still shows yellow on day ``on``."""
    return (calendar or calendar_for(on)).add_working_days(on, working_days)


def light_q(light: str, on: datetime.date, working_days: int, calendar: WorkCalendar | None = None) -> Q:
    limit = yellow_limit(on, working_days, calendar)
    red = overdue_q(on)
    if light == "red":
        return red
    warned = owed_before_q(limit + datetime.timedelta(days=1), warned=True)
    if light == "yellow":
        return warned & ~red
    # Not red and not (warned and not red): not red and not warned. Django's negations
    # test NULL dates explicitly, so the shorter form selects the same rows, and it is a
    # third less SQL to build and compile on every request for a light (bench/FIXES.md).
    return Q(state__in=OPEN_STATES) & ~red & ~warned


def campaigns_light_q(
    light: str, on: datetime.date, working_days: Iterable[int], calendar: WorkCalendar | None = None
) -> Q:
    """``light_q`` over tasks of campaigns that warn at different distances: each campaign
    sets its ``yellow_working_days``, and ``working_days`` are the values they set.

    When every campaign sets the same value, as most offices' do, the campaign is not
    consulted: a light filter then reads the scope's columns alone, without joining the
    campaigns for every row it counts (bench/FIXES.md)."""
    working_days = list(working_days)
    if len(working_days) == 1:
        return light_q(light, on, working_days[0], calendar)
    condition = Q(pk__in=[])
    for days in working_days:
        condition |= Q(campaign__yellow_working_days=days) & light_q(light, on, days, calendar)
    return condition


def task_light(task: Task, on: datetime.date, limit: datetime.date) -> str | None:
    if task.state not in OPEN_STATES:
        return None
    if is_overdue(task, on):
        return "red"
    warned = owed_date(task, warned=True)
    return "yellow" if warned is not None and warned <= limit else "green"
