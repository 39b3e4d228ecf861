"""What waits for a person now (我的工作台): tasks to sign for, report on and submit, to
verify, extension and transfer requests to decide, and closed items to re-check (回头看) from
``RECHECK_AHEAD_WORKING_DAYS`` before their date, each with its light and working days.

The candidates are read as one set (tasks linked to a unit the person belongs to, or issued
by one they head); which of them wait for the person is then decided task by task by the
rules themselves (``tasks.rules`` and the transitions' declarations), never by a second
copy of them written as SQL.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch, Q
from django_fsm import can_proceed

from responsibility.models import Role, User
from responsibility.selectors import access_for_user

from . import lateness, obligations, rules
from .models import (
    TRANSITIONS,
    ExtensionRequest,
    ExtensionState,
    Task,
    TaskState,
    TaskUnit,
    TaskUnitRole,
    TransferRequest,
    TransferState,
)
from .selectors import task_visibility_q
from .workdays import calendar_for

# Beyond this many, the workbench points to the task list: a page is for a day's work.
WORKLIST_LIMIT = 200
# What a person can do about a task that counts as waiting for them, in the order shown.
WAITING_ACTIONS = (
    "accept",
    "report",
    "submit",
    "close",
    "return",
    "decide_extension",
    "decide_transfer",
    "recheck",
)
# A re-check falls due weeks after 销号: the workbench shows it from this many working days
# before its date (and until it is recorded), not for the whole wait.
RECHECK_AHEAD_WORKING_DAYS = 10
LIGHT_ORDER = ("red", "yellow", "green")


@dataclass
class WorkItem:
    task: Task
    actions: list[str]
    light: str | None
    # Working days until the due date (the re-check's, for an item to re-check);
    # negative: working days overdue.
    working_days: int
    pending_extensions: list[ExtensionRequest]
    pending_transfers: list[TransferRequest]
    # The date a closed item's re-check falls due, when that is what waits.
    recheck_due: datetime.date | None = None


def work_items_for_user(user: User, *, on: datetime.date | None = None) -> list[WorkItem]:
    """The tasks waiting for the user, reddest and most urgent first, at a fixed number
    of queries: the memberships, the candidates, their unit links, their pending
    extensions and transfers and the holiday calendar (read even when nothing waits, so the count is
    the same)."""
    on = on or lateness.today()
    access = access_for_user(user)
    member_of = [unit_id for unit_id, roles in access.roles.items() if roles & {Role.MEMBER, Role.HEAD}]
    heads = [unit_id for unit_id, roles in access.roles.items() if Role.HEAD in roles]
    if not member_of:
        return []
    # Every task links its lead unit as responsible (``tasks.services.editing``).
    responsible_side = Q(state__in=[TaskState.ASSIGNED, TaskState.IN_PROGRESS]) & Q(
        pk__in=TaskUnit.objects.filter(unit__in=member_of, role=TaskUnitRole.RESPONSIBLE).values("task_id")
    )
    clock = TaskClock(on)
    recheck_soon = obligations.recheck_pending_q() & Q(
        next_obligation_date__lte=clock.calendar.add_working_days(on, RECHECK_AHEAD_WORKING_DAYS)
    )
    issuing_side = Q(issuing_unit__in=heads) & (
        Q(state=TaskState.SUBMITTED)
        | Q(extension_requests__state=ExtensionState.PENDING)
        | Q(state=TaskState.ASSIGNED, transfer_requests__state=TransferState.PENDING)
        | recheck_soon
    )
    candidates = (
        Task.objects.filter(task_visibility_q(user))
        .filter(responsible_side | issuing_side)
        .distinct()
        .select_related("campaign", "issuing_unit", "lead_unit", "responsible_person")
        .prefetch_related(
            Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit").order_by("pk")),
            Prefetch(
                "extension_requests",
                queryset=ExtensionRequest.objects.filter(state=ExtensionState.PENDING).select_related(
                    "requested_by"
                ),
                to_attr="pending_extensions",
            ),
            Prefetch(
                "transfer_requests",
                queryset=TransferRequest.objects.filter(state=TransferState.PENDING).select_related(
                    "requested_by", "to_unit"
                ),
                to_attr="pending_transfers",
            ),
        )
        .order_by("due_date", "pk")[:WORKLIST_LIMIT]
    )
    items = []
    for task in candidates:
        actions = [
            name
            for name in WAITING_ACTIONS
            if name in TRANSITIONS
            and can_proceed(getattr(task, TRANSITIONS[name].method))
            and rules.may(access, task, name)
        ]
        rechecking = obligations.recheck_pending(task)
        actions += [
            name
            for name in rules.actions_available(access, task)
            if name == "report" or (name == "recheck" and rechecking)
        ]
        if task.pending_extensions and rules.may(access, task, "decide_extension"):
            actions.append("decide_extension")
        # A transfer is decided before the item is signed for (``rules.ACTION_STATES``).
        if (
            task.pending_transfers
            and task.state in rules.ACTION_STATES["decide_transfer"]
            and rules.may(access, task, "decide_transfer")
        ):
            actions.append("decide_transfer")
        if not actions:
            continue
        recheck_due = task.next_obligation_date if "recheck" in actions else None
        items.append(
            WorkItem(
                task=task,
                actions=sorted(actions, key=WAITING_ACTIONS.index),
                light=clock.recheck_light(task, recheck_due) if recheck_due else clock.light(task),
                working_days=clock.working_days(task, recheck_due),
                pending_extensions=task.pending_extensions,
                recheck_due=recheck_due,
                pending_transfers=task.pending_transfers,
            )
        )
    items.sort(
        key=lambda item: (
            LIGHT_ORDER.index(item.light) if item.light else 3,
            item.recheck_due or item.task.due_date,
        )
    )
    return items


class TaskClock:
    """Each task's light and working days as of one day, with one holiday calendar for a
    whole page of tasks (the yellow limit is computed once per campaign setting)."""

    def __init__(self, on: datetime.date | None = None):
        self.on = on or lateness.today()
        self.calendar = calendar_for(self.on)
        self._limits: dict[int, datetime.date] = {}

    def light(self, task: Task) -> str | None:
        days = task.campaign.yellow_working_days
        if days not in self._limits:
            self._limits[days] = lateness.yellow_limit(self.on, days, self.calendar)
        return lateness.task_light(task, self.on, self._limits[days])

    def working_days(self, task: Task, until: datetime.date | None = None) -> int:
        """Working days until the due date (or ``until``); negative: working days overdue."""
        return self.calendar.working_days_between(self.on, until or task.due_date)

    def recheck_light(self, task: Task, due: datetime.date) -> str:
        """A closed item has no light of its own; the office's re-check of it is red once
        missed, yellow within the campaign's warning days, green before."""
        days = task.campaign.yellow_working_days
        if days not in self._limits:
            self._limits[days] = lateness.yellow_limit(self.on, days, self.calendar)
        if due < self.on:
            return "red"
        return "yellow" if due <= self._limits[days] else "green"
