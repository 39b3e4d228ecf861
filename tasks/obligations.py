"""What is owed by when: the obligations of a task, opened and met in one place.

A task owes, each by its own date:

- **task** — the work itself, by ``Task.due_date`` (kept on the task; see
  ``tasks.lateness`` for when the unit stops owing it);
- **sign_for** (签收) — the lead unit signs for an assigned task within the campaign's
  ``sign_for_working_days``; met by ``accept``;
- **step** — each procedure step by its date (入户核查 → 民主评议 → …); met when the step
  is done;
- **verify** (验收) — the issuing unit verifies a submission within the campaign's
  ``verify_working_days``; met by ``close`` or ``return``;
- **report** (按期反馈) — one progress report per period of the task's report schedule,
  written when the task is assigned or its schedule set, met by a report made within the
  period (``tasks.schedules``).
- **reply** (回执) — the lead unit returns the 回执 of a 督办通知单 by the date the notice
  sets; opened when the office issues it, met when the unit answers (``bulletins``,
  through ``obligation_open`` and ``obligation_met``).
- **recheck** (回头看复查) — the issuing unit re-checks a closed rectification item within
  the campaign's ``recheck_working_days`` of the day it was closed (0: never); met when it
  records the result (``tasks.services.recheck``: a failure reopens the item), or by a
  ``reopen`` by hand, which makes it moot.

A re-check is the one obligation of a task that is no longer open: it is owed on a closed
item. What that means, written once here:

- the closed item is not overdue and has no light (``tasks.lateness``: its work is done);
  its ``next_obligation_date`` and ``next_warned_date`` are its re-check's date, the only
  thing a closed task can owe, and the lights never read them for a closed task;
- the issuing unit is reminded before that date (``WARNED``: the reminder rung, up its own
  chain), as a unit is of a step or a report;
- a re-check past its date and not recorded is **missed** (``recheck_missed_q``): the
  office's own lateness, counted as such where re-checks are counted (the dashboard's
  ``recheck_missed``, the bulletin's rectification figures) and chased by the ladder up
  the issuing unit's chain like a verification (``OWED_IN_STATES``).

Each but the first is an ``Obligation`` row, opened and met by the services through
``obligations_after`` and ``obligation_step_met``; ``Task.next_obligation_date`` keeps the
earliest unmet date so that the lights read one column. The ladder chases an unmet row as
it chases an overdue task: the same rungs and audiences, counted from the row's date, one
set-based statement per sweep part (``notifications.services.escalations``); a
verification is chased up the issuing unit's chain, the rest up the lead unit's.
"""

import datetime

from django.db import connection
from django.db.models import Min, OuterRef, Q, Subquery
from django.utils import timezone

from core.db import as_date

from .models import (
    OPEN_STATES,
    Campaign,
    Obligation,
    ObligationKind,
    ProcedureStep,
    ReportSchedule,
    Task,
    TaskKind,
    TaskScope,
    TaskState,
)
from .schedules import period_rows
from .workdays import calendar_for

# Kinds warned of before their date (the reminder rung, the yellow light). Signing for and
# verifying start when the work reaches the one who owes them, a few days before their
# date: a warning would come with the work itself, so they show only once missed. A
# re-check falls due weeks after 销号, when the item is out of the office's mind: it is
# warned of (the issuer's reminder rung, the campaign's ``yellow_working_days`` before), as
# steps and reports are; a closed item has no light, so only the ladder and the workbench
# read it.
WARNED = (ObligationKind.STEP, ObligationKind.REPORT, ObligationKind.RECHECK)
# Kinds owed by the issuing unit rather than the lead unit: the ladder climbs the issuer's
# chain for them.
OWED_BY_ISSUER = (ObligationKind.VERIFY, ObligationKind.RECHECK)
# The states of the task in which an obligation of each kind is owed (and chased); every
# other kind is owed while the task is open. A re-check is owed on a closed item.
OWED_IN_STATES = {ObligationKind.RECHECK: (TaskState.CLOSED,)}
# The transitions that open or meet obligations, by name (``tasks.transitions``).
OPENED_BY = {
    "assign": (ObligationKind.SIGN_FOR, ObligationKind.STEP, ObligationKind.REPORT),
    "submit": (ObligationKind.VERIFY,),
    "close": (ObligationKind.RECHECK,),
}
MET_BY = {
    "accept": (ObligationKind.SIGN_FOR,),
    "close": (ObligationKind.VERIFY,),
    "return": (ObligationKind.VERIFY,),
    # Reopened by hand, the item is being reworked: its pending re-check is moot.
    "reopen": (ObligationKind.RECHECK,),
}
# The transitions that end obligations without meeting them (``Obligation.voided``).
VOIDED_BY = {
    # Back with the issuer as a draft, the item is owed by nobody until issued again, when
    # it owes its own periods from then: a period it had missed was not reported late.
    "return_to_issuer": (ObligationKind.SIGN_FOR, ObligationKind.STEP, ObligationKind.REPORT),
}


def owed_in_states(kind: str) -> tuple[str, ...]:
    return OWED_IN_STATES.get(kind, OPEN_STATES)


def owing_q() -> Q:
    """Tasks that may owe anything: the open ones, and those in a later state that owe an
    obligation of a kind owed there (a closed item's re-check)."""
    owing = Q(state__in=OPEN_STATES)
    for kind, states in OWED_IN_STATES.items():
        owing |= Q(state__in=states, obligations__kind=kind, obligations__met_at__isnull=True)
    return owing


def recheck_pending(task: Task) -> bool:
    """A closed item whose re-check is still to be recorded (its one unmet obligation)."""
    return task.state == TaskState.CLOSED and task.next_obligation_date is not None


def recheck_pending_q() -> Q:
    return Q(state=TaskState.CLOSED, next_obligation_date__isnull=False)


def recheck_missed_q(on: datetime.date) -> Q:
    """Tasks (or their scope rows) whose re-check is missed on ``on``: closed, with an
    unmet obligation past its date, which for a closed task can only be its re-check."""
    return Q(state=TaskState.CLOSED, next_obligation_date__lt=on)


def recheck_missed_rows_q(on: datetime.date) -> Q:
    """The same as obligation rows: the re-checks missed on ``on``."""
    return Q(kind=ObligationKind.RECHECK, met_at__isnull=True, due_date__lt=on, task__state=TaskState.CLOSED)


def recheck_due(task: Task, closed_on: datetime.date) -> datetime.date | None:
    """The day a closed item's re-check falls due, or None when its campaign re-checks
    nothing of its kind: only rectification items are re-checked (回头看 looks back at
    problems that were fixed; other work closed is verified once)."""
    days = task.campaign.recheck_working_days
    if task.kind != TaskKind.RECTIFICATION or not days:
        return None
    return calendar_for(closed_on).add_working_days(closed_on, days)


def _local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localdate(moment, timezone.get_default_timezone())


def _opened(task: Task, kind: str) -> list[Obligation]:
    campaign = task.campaign
    if kind == ObligationKind.SIGN_FOR:
        start = _local_day(task.assigned_at or timezone.now())
        due = calendar_for(start).add_working_days(start, campaign.sign_for_working_days)
        return [Obligation(task=task, kind=kind, owed_by_id=task.lead_unit_id, due_date=due)]
    if kind == ObligationKind.VERIFY:
        start = task.submitted_on or _local_day(timezone.now())
        due = calendar_for(start).add_working_days(start, campaign.verify_working_days)
        return [Obligation(task=task, kind=kind, owed_by_id=task.issuing_unit_id, due_date=due)]
    if kind == ObligationKind.REPORT:
        schedule = ReportSchedule.objects.filter(task=task).first()
        return period_rows(task, schedule, _local_day(task.assigned_at or timezone.now())) if schedule else []
    if kind == ObligationKind.RECHECK:
        due = recheck_due(task, _local_day(task.closed_at or timezone.now()))
        if due is None:
            return []
        return [Obligation(task=task, kind=kind, owed_by_id=task.issuing_unit_id, due_date=due)]
    return [
        Obligation(
            task=task,
            kind=kind,
            key=str(step.pk),
            label=step.name,
            step=step,
            owed_by_id=task.lead_unit_id,
            due_date=step.due_date,
        )
        for step in task.steps.filter(done_at__isnull=True)
    ]


def obligations_after(task: Task, transition: str) -> None:
    """Open and meet what the transition ``transition`` of ``task`` starts and ends, and set
    the task's next dates to match, unsaved: the caller saves them with the transition's
    own columns, on the task and its scope rows at once. Called by the service inside its
    transaction, on the locked row, before it saves the row."""
    met, voided = MET_BY.get(transition, ()), VOIDED_BY.get(transition, ())
    if met:
        task.obligations.filter(kind__in=met, met_at__isnull=True).update(met_at=timezone.now())
    if voided:
        task.obligations.filter(kind__in=voided, met_at__isnull=True).update(
            met_at=timezone.now(), voided=True
        )
    opened = [row for kind in OPENED_BY.get(transition, ()) for row in _opened(task, kind)]
    if opened:
        Obligation.objects.bulk_create(opened, ignore_conflicts=True)
    if met or voided or opened:
        next_obligation_dates(task)


def obligations_issued(
    tasks: list[Task], campaign: Campaign, schedules: dict[int, ReportSchedule] | None = None
) -> None:
    """What tasks of ``campaign`` written assigned in bulk owe from their issue (a
    decomposition's children): their steps read in one query, the periods of the report
    schedules the caller wrote for them (``schedules``, by task id), all written in one
    statement, their dates set in two statements."""
    if not tasks:
        return
    calendar = calendar_for(*(_local_day(task.assigned_at or timezone.now()) for task in tasks))
    owner = {task.pk: task.lead_unit_id for task in tasks}
    steps = ProcedureStep.objects.filter(task_id__in=owner, done_at__isnull=True)
    rows = [
        Obligation(
            task_id=step.task_id,
            kind=ObligationKind.STEP,
            key=str(step.pk),
            label=step.name,
            step=step,
            owed_by_id=owner[step.task_id],
            due_date=step.due_date,
        )
        for step in steps
    ]
    for task in tasks:
        start = _local_day(task.assigned_at or timezone.now())
        due = calendar.add_working_days(start, campaign.sign_for_working_days)
        rows.append(
            Obligation(task=task, kind=ObligationKind.SIGN_FOR, owed_by_id=task.lead_unit_id, due_date=due)
        )
        schedule = (schedules or {}).get(task.pk)
        if schedule is not None:
            rows.extend(period_rows(task, schedule, start, calendar))
    Obligation.objects.bulk_create(rows, ignore_conflicts=True)
    next_obligations_refresh([task.pk for task in tasks])


def next_obligations_refresh(task_ids: list[int]) -> None:
    """``next_obligation_refresh`` for many tasks at once, in two statements: their next
    dates from their unmet rows, on the tasks and their scope rows."""
    if not task_ids:
        return

    def earliest(kinds, task_column: str) -> Subquery:
        return Subquery(
            Obligation.objects.filter(task=OuterRef(task_column), met_at__isnull=True, kind__in=kinds)
            .order_by()
            .values("task")
            .annotate(first=Min("due_date"))
            .values("first")
        )

    for model, column, field in ((Task, "pk", "pk"), (TaskScope, "task_id", "task_id")):
        model.objects.filter(**{f"{field}__in": task_ids}).update(
            next_obligation_date=earliest(ObligationKind.values, column),
            next_warned_date=earliest(WARNED, column),
        )


def obligation_open(
    task: Task, *, kind: str, key: str, label: str, owed_by_id: int, due_date: datetime.date
) -> Obligation:
    """Open one obligation a service decides on by itself (a notice's 回执, owed by the
    date the notice sets), on the locked task, inside its transaction."""
    obligation = Obligation.objects.create(
        task=task, kind=kind, key=key, label=label, owed_by_id=owed_by_id, due_date=due_date
    )
    next_obligation_refresh(task)
    return obligation


def obligation_met(task: Task, *, kind: str, key: str) -> None:
    """Meet the unmet obligation of ``kind`` and ``key`` (none left: nothing changes)."""
    if task.obligations.filter(kind=kind, key=key, met_at__isnull=True).update(met_at=timezone.now()):
        next_obligation_refresh(task)


def obligation_step_met(task: Task, step_id: int) -> None:
    task.obligations.filter(step_id=step_id, met_at__isnull=True).update(met_at=timezone.now())
    next_obligation_refresh(task)


def next_obligation_dates(task: Task) -> dict[str, datetime.date | None]:
    """Set ``Task.next_obligation_date`` and ``next_warned_date`` on ``task`` from its unmet
    rows, without saving them; answers them by name."""
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_DATES_SQL, [*WARNED, task.pk])
        row = cursor.fetchone()
    dates = dict(zip(("next_obligation_date", "next_warned_date"), map(as_date, row), strict=True))
    for name, value in dates.items():
        setattr(task, name, value)
    return dates


# Read on every transition that opens or meets a row: written by hand, as the ORM took
# longer to build it than the database to answer it (bench/FIXES.md).
_NEXT_DATES_SQL = f"""
SELECT MIN(due_date), MIN(CASE WHEN kind IN ({", ".join(["%s"] * len(WARNED))}) THEN due_date END)
FROM {Obligation._meta.db_table} WHERE task_id = %s AND met_at IS NULL
"""


def next_obligation_refresh(task: Task) -> None:
    """``Task.next_obligation_date`` and ``next_warned_date`` from the unmet rows, on the
    task, its row and its scope rows (``tasks.scope``), which the lights read."""
    dates = next_obligation_dates(task)
    Task.objects.filter(pk=task.pk).update(**dates)
    TaskScope.objects.filter(task_id=task.pk).update(**dates)


def obligations_transferred(task: Task, on: datetime.date) -> datetime.date:
    """The task's lead unit has just changed by an approved transfer (转办): the old unit's
    sign-for is met, what the lead unit owes passes to the new one, and a new sign-for
    window opens from ``on``. Answers the new sign-for date."""
    task.obligations.filter(kind=ObligationKind.SIGN_FOR, met_at__isnull=True).update(met_at=timezone.now())
    obligations_reowned([task.pk])
    due = calendar_for(on).add_working_days(on, task.campaign.sign_for_working_days)
    Obligation.objects.create(
        task=task, kind=ObligationKind.SIGN_FOR, owed_by_id=task.lead_unit_id, due_date=due
    )
    next_obligation_refresh(task)
    return due


def obligations_reowned(task_ids: list[int]) -> None:
    """The unmet rows the lead unit owes, owed by the tasks' lead units as they are now: after
    a transfer, an edit or a re-import that changed a lead unit. One statement."""
    unmet = Obligation.objects.filter(task_id__in=task_ids, met_at__isnull=True)
    unmet.exclude(kind__in=OWED_BY_ISSUER).update(
        owed_by_id=Subquery(Task.objects.filter(pk=OuterRef("task_id")).values("lead_unit_id")[:1])
    )


def obligations_resumed(task: Task, suspended_on: datetime.date, on: datetime.date) -> None:
    """Move the unmet dates by the working days the task spent suspended, as resuming moves
    its due date: the clock stood still for every date it owes. Two queries, whatever the
    number of rows."""
    rows = list(task.obligations.filter(met_at__isnull=True))
    if not rows:
        return
    calendar = calendar_for(suspended_on, on, *(row.due_date for row in rows))
    paused = max(calendar.working_days_between(suspended_on, on), 0)
    if not paused:
        return
    for row in rows:
        row.due_date = calendar.add_working_days(row.due_date, paused)
        # A new date starts the ladder again for the row, as for the task's own date.
        row.escalation_rank = None
    Obligation.objects.bulk_update(rows, ["due_date", "escalation_rank"])
    next_obligation_refresh(task)
