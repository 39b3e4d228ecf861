"""Report schedules (按期反馈, 催报): when a task's lead unit owes a progress report.

A ``ReportSchedule`` names a cadence; each period of it owes one progress report, kept as
an ``Obligation`` of kind ``report`` whose date is the period's due date:

- **monthly by day N** (每月28日前): the N-th of every month; a month shorter than N days
  falls due on its last day (每月31日 is 30 April, 28 or 29 February);
- **quarterly** (每季度末): the last day of March, June, September and December; or the
  N-th day of the quarter's last month (每季度最后一个月20日前), the last day when shorter;
- **weekly by weekday** (每周五): that weekday of every week;
- **once** (11月30日前报送): that date.

**A due day that is not worked moves to the working day before it** under the holiday
calendar (``tasks.workdays``: the State Council's holidays and the weekends worked in their
place, 调休). "每月28日前" means the report is in hand by the 28th; when the 28th is a
Sunday, the office's last working day before it is the Friday, and a weekend worked
in lieu (调休上班) is a working day like any other. Two nominal days that move to the
same working day (a weekly Friday inside a long holiday) make one period.

A period runs from the day after the previous period's due date up to and including its
own due date. A period passed without a report is missed, chased by the ladder as every
obligation is (``notifications.services.escalations``) until a report meets it or the task
is closed. A progress report meets one period: the earliest missed one, if any (a late
report, 补报: the period is met late, its ``met_at`` after its date, and no longer
chased), else the period its office-local day falls in, the first due on or after that day.
A report on the 28th meets the period due on the 28th; one on the 29th, with that period
unmet, meets it late and leaves the next one owed. A second report in the same period meets
nothing more.

The periods are written when they become owed, in one ``bulk_create`` each time: every
period due after the task's assignment up to its due date (for 长期坚持 work, the
campaign's end, which its due date holds) when the task is assigned or split off its
parent (a piece reports on a copy of the parent's schedule), those due after today when an
open task's schedule is set or replaced, by hand or by a re-imported table (periods
already past stay as they are: a missed report stays missed until a late report meets
it), and those up to the new date when an extension moves the due date. The sweep
therefore never rolls periods forward.
"""

import calendar as month_calendar
import datetime

from django.db import connection
from django.db.models import BooleanField, Case, Count, F, JSONField, OuterRef, Q, Subquery, When
from django.db.models.functions import JSONObject, TruncDate
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    OPEN_STATES,
    Obligation,
    ObligationKind,
    ProgressReport,
    ReportCadence,
    ReportSchedule,
    Task,
    TaskState,
)
from .workdays import WorkCalendar, calendar_for

WEEKDAYS = "一二三四五六日"
# A period's due date moves back over non-working days by at most a long holiday.
MAX_SHIFT = datetime.timedelta(days=14)


def _month_day(year: int, month: int, day: int) -> datetime.date:
    return datetime.date(year, month, min(day, month_calendar.monthrange(year, month)[1]))


def _nominal(schedule: ReportSchedule, start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The schedule's days in [start, end] before moving off non-working days."""
    if schedule.cadence == ReportCadence.ONCE:
        return [schedule.once_on] if start <= schedule.once_on <= end else []
    if schedule.cadence == ReportCadence.WEEKLY:
        first = start + datetime.timedelta(days=(schedule.day - 1 - start.weekday()) % 7)
        return [first + datetime.timedelta(weeks=n) for n in range((end - first).days // 7 + 1)]
    months = range(start.year * 12 + start.month - 1, end.year * 12 + end.month)
    days = []
    for index in months:
        year, month = divmod(index, 12)
        month += 1
        if schedule.cadence == ReportCadence.QUARTERLY and month % 3:
            continue
        day = schedule.day or 31
        days.append(_month_day(year, month, day))
    return [day for day in days if start <= day <= end]


def due_dates(
    schedule: ReportSchedule, after: datetime.date, until: datetime.date, calendar: WorkCalendar | None = None
) -> list[datetime.date]:
    """The periods' due dates in (``after``, ``until``], each moved to the working day
    before it when it is not worked."""
    calendar = calendar or calendar_for(after, until)
    moved = set()
    for day in _nominal(schedule, after - MAX_SHIFT, until + MAX_SHIFT):
        worked = day if calendar.is_workday(day) else calendar.add_working_days(day, -1)
        if after < worked <= until:
            moved.add(worked)
    return sorted(moved)


def schedule_wording(schedule: ReportSchedule) -> str:
    """The schedule in the office's words: as written, else the usual phrase for it."""
    if schedule.wording:
        return schedule.wording
    if schedule.cadence == ReportCadence.MONTHLY:
        return f"每月{schedule.day}日前"
    if schedule.cadence == ReportCadence.QUARTERLY:
        return f"每季度最后一个月{schedule.day}日前" if schedule.day else "每季度末"
    if schedule.cadence == ReportCadence.WEEKLY:
        return f"每周{WEEKDAYS[schedule.day - 1]}前"
    return f"{schedule.once_on.year}年{schedule.once_on.month}月{schedule.once_on.day}日前"


def schedule_label(schedule: ReportSchedule) -> str:
    """What a period's obligation is called in digests and on pages: "月度进展报送"."""
    return {
        ReportCadence.MONTHLY: _("月度进展报送"),
        ReportCadence.QUARTERLY: _("季度进展报送"),
        ReportCadence.WEEKLY: _("每周进展报送"),
    }.get(schedule.cadence, _("进展报送"))


def period_rows(
    task: Task, schedule: ReportSchedule, after: datetime.date, calendar: WorkCalendar | None = None
) -> list[Obligation]:
    """The schedule's periods due in (``after``, the task's due date], as unsaved report
    obligations of the lead unit."""
    until = task.due_date
    if until <= after:
        return []
    label = schedule_label(schedule)
    return [
        Obligation(
            task=task,
            kind=ObligationKind.REPORT,
            key=day.isoformat(),
            label=label,
            owed_by_id=task.lead_unit_id,
            due_date=day,
        )
        for day in due_dates(schedule, after, until, calendar)
    ]


def periods_open(task: Task, schedule: ReportSchedule, after: datetime.date) -> int:
    """Write ``period_rows`` in one statement; periods already open are kept."""
    rows = period_rows(task, schedule, after)
    Obligation.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def periods_extended(task: Task, before: datetime.date, until: datetime.date) -> int:
    """The task's due date has moved later, from ``before`` to ``until`` (an approved
    extension): write the periods of its schedule it now owes in one ``bulk_create``,
    continuing the series it owes. Resuming after a suspension moved the unmet periods by
    the working days it was suspended (``tasks.obligations.obligations_resumed``), each row
    keeping its schedule's date as its ``key``: the new periods follow the last one's key
    and are moved alike, so the series stays one, spaced as the schedule says. A schedule
    set since the last period was written starts its own series after the day it was set,
    as ``periods_replace`` does. Answers the number written."""
    schedule = ReportSchedule.objects.filter(task=task).first()
    if schedule is None:
        return 0
    last = (
        task.obligations.filter(kind=ObligationKind.REPORT, voided=False)
        .order_by("-due_date", "-pk")
        .values_list("key", "due_date")
        .first()
    )
    set_on = _local_day(schedule.updated_at)
    after, moved_to = max(set_on, before), None
    if last is not None and _key_day(*last) > set_on:
        after, moved_to = _key_day(*last), last[1]
    calendar = calendar_for(after, until)
    shift = calendar.working_days_between(after, moved_to) if moved_to else 0
    label = schedule_label(schedule)
    rows = []
    for day in due_dates(schedule, after, until, calendar):
        due = calendar.add_working_days(day, shift) if shift > 0 else day
        if due <= until:
            rows.append(
                Obligation(
                    task=task,
                    kind=ObligationKind.REPORT,
                    key=day.isoformat(),
                    label=label,
                    owed_by_id=task.lead_unit_id,
                    due_date=due,
                )
            )
    Obligation.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _key_day(key: str, due_date: datetime.date) -> datetime.date:
    # A period's key is its date in the schedule (``period_rows``); a row written otherwise
    # counts from its due date.
    try:
        return datetime.date.fromisoformat(key)
    except ValueError:
        return due_date


def periods_replace(task: Task, schedule: ReportSchedule | None, today: datetime.date) -> None:
    """An open task's schedule set, replaced or removed today: ``periods_rewrite`` for it."""
    periods_rewrite([(task, schedule)], today)


def periods_rewrite(changed: list[tuple[Task, ReportSchedule | None]], today: datetime.date) -> None:
    """Open tasks' schedules set, replaced or removed today (by hand, or by a re-imported
    table): the periods not yet due are written anew; those already due stay (met, or missed
    and chased). A report made today or earlier in the period that contains today meets the
    new period too. Three statements whatever the number of tasks; the caller refreshes
    their next dates (``tasks.obligations``)."""
    if not changed:
        return
    later = Obligation.objects.filter(
        task_id__in=[task.pk for task, _schedule in changed],
        kind=ObligationKind.REPORT,
        met_at__isnull=True,
        due_date__gt=today,
    )
    # A period warned of before its date is in the task's record of escalations, which
    # keeps it: it ends without being met (``Obligation.voided``); the others go.
    later.filter(escalations__isnull=False).update(met_at=timezone.now(), voided=True)
    later.delete()
    scheduled = [(task, schedule) for task, schedule in changed if schedule is not None]
    if not scheduled:
        return
    calendar = calendar_for(today, *(task.due_date for task, _schedule in scheduled))
    rows, since = [], {}
    for task, schedule in scheduled:
        periods = period_rows(task, schedule, today, calendar)
        if periods:
            # The period that contains today runs from the day after the schedule's date
            # before it: a report since then meets it.
            before = due_dates(schedule, periods[0].due_date - datetime.timedelta(days=400), today, calendar)
            since[task.pk] = (
                periods[0],
                _start_of_day(before[-1] + datetime.timedelta(days=1)) if before else None,
            )
        rows.extend(periods)
    if since:
        reported = Q()
        for task_id, (_period, start) in since.items():
            reported |= Q(task_id=task_id, created_at__gte=start) if start else Q(task_id=task_id)
        now = timezone.now()
        reporting = ProgressReport.objects.filter(reported).order_by().values_list("task_id", flat=True)
        for task_id in reporting.distinct():
            since[task_id][0].met_at = now
    Obligation.objects.bulk_create(rows, ignore_conflicts=True)


def _start_of_day(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_default_timezone())


def report_period_met(task: Task, day: datetime.date) -> bool:
    """A report made on the office's ``day`` meets one period, if one is owed: the earliest
    period missed before it (a late report, 补报, met late: its ``met_at`` falls after its
    date, ``met_late_q``), else the period it falls in, the first due on or after it, if
    that period is still unmet. True if it met one.

    Most tasks report on no schedule: a task whose ``next_warned_date`` is empty owes no
    warned row, so no unmet period, and the report meets nothing without a statement."""
    if task.next_warned_date is None:
        return False
    ops = connection.ops
    # Written by hand: the ORM took longer to build this one statement than the database
    # to run it, on every report (bench/FIXES.md).
    with connection.cursor() as cursor:
        cursor.execute(
            _PERIOD_MET_SQL,
            [
                ops.adapt_datetimefield_value(timezone.now()),
                *[task.pk, ObligationKind.REPORT, ops.adapt_datefield_value(day)] * 2,
            ],
        )
        return cursor.rowcount > 0


# The earliest period missed before the day, else the period the day falls in: the first
# row due on or after it, met or not (a second report in a period meets nothing more) but
# not voided (no longer a period), which is met only if still unmet. One statement,
# whichever it meets.
_PERIOD_MET_SQL = f"""
UPDATE {Obligation._meta.db_table} SET met_at = %s
WHERE met_at IS NULL AND id = COALESCE(
    (SELECT id FROM {Obligation._meta.db_table}
     WHERE task_id = %s AND kind = %s AND met_at IS NULL AND due_date < %s
     ORDER BY due_date LIMIT 1),
    (SELECT id FROM {Obligation._meta.db_table}
     WHERE task_id = %s AND kind = %s AND due_date >= %s AND NOT voided
     ORDER BY due_date, met_at NULLS LAST LIMIT 1))
"""


def met_late_q(prefix: str = "") -> Q:
    """Obligation rows (or, with ``prefix``, rows reached through it) met after their date: a
    late report (补报) meets its missed period, the fact that it was late is kept by the
    office-local day of ``met_at`` falling after ``due_date``, whatever time zone the
    request or job has active. What ledgers and bulletins count as met late."""
    met_day = TruncDate(f"{prefix}met_at", tzinfo=timezone.get_default_timezone())
    met = Q(**{f"{prefix}met_at__isnull": False, f"{prefix}voided": False})
    return met & Q(GreaterThan(met_day, F(f"{prefix}due_date")))


def missed_q(on: datetime.date) -> Q:
    """Report periods missed as of ``on``: unmet and past their date while the task owed
    them. An open task owes its periods up to ``on``; a suspended one up to the day it was
    suspended (the clock stands still: resuming moves the unmet periods on); a closed one up
    to its closing day (it owed nothing after it). A draft or a cancelled task is owed by
    nobody, as ``tasks.lateness`` has it, so it has missed nothing."""
    closed_day = TruncDate("task__closed_at", tzinfo=timezone.get_default_timezone())
    owed = (
        Q(task__state__in=OPEN_STATES)
        | Q(task__state=TaskState.SUSPENDED, due_date__lt=F("task__suspended_on"))
        | Q(task__state=TaskState.CLOSED, due_date__lt=closed_day)
    )
    return Q(met_at__isnull=True, due_date__lt=on) & owed


def report_periods(on: datetime.date) -> Subquery:
    """An annotation for a queryset of tasks: ``{"missed": n, "late": n}``, the report
    periods each task missed as of ``on`` (``missed_q``) and those a late report (补报) met
    (``met_late_q``); null for a task that never owed one. One aggregate over the task's
    periods inside the tasks' own statement, so a ledger costs no query more for them."""
    counts = (
        Obligation.objects.filter(task=OuterRef("pk"), kind=ObligationKind.REPORT)
        .order_by()
        .values("task")
        .annotate(
            counts=JSONObject(missed=Count("pk", filter=missed_q(on)), late=Count("pk", filter=met_late_q()))
        )
        .values("counts")
    )
    return Subquery(counts, output_field=JSONField())


def periods_of(counts: dict | None) -> tuple[int, int]:
    """(missed, met late) from a ``report_periods`` annotation."""
    return (counts["missed"], counts["late"]) if counts else (0, 0)


def schedule_status(task: Task, today: datetime.date) -> dict:
    """The task's schedule with its next period, its missed ones and those met late (two
    queries): what the API and the task page show."""
    schedule = ReportSchedule.objects.filter(task=task).first()
    rows = list(
        task.obligations.filter(kind=ObligationKind.REPORT, voided=False)
        .annotate(missed=_flag(missed_q(today)), late=_flag(met_late_q()))
        .order_by("due_date")
        .values_list("due_date", "met_at", "missed", "late")
    )
    unmet = [due for due, met_at, _missed, _late in rows if met_at is None]
    return {
        "schedule": schedule,
        "cadence": schedule.cadence if schedule else None,
        "day": schedule.day if schedule else None,
        "once_on": schedule.once_on if schedule else None,
        "wording": schedule_wording(schedule) if schedule else "",
        "label": schedule_label(schedule) if schedule else "",
        "next_due_date": next((day for day in unmet if day >= today), None),
        "missed": [due for due, _met_at, missed, _late in rows if missed],
        "met_late": [due for due, _met_at, _missed, late in rows if late],
    }


def _flag(condition: Q) -> Case:
    """A row's ``condition`` as a boolean column, read with the row."""
    return Case(When(condition, then=True), default=False, output_field=BooleanField())


def _local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localdate(moment, timezone.get_default_timezone())
