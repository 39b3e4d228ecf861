"""Reads of tasks. Every read path starts from the caller's visibility, written once in
three forms tested to agree (``task_visibility_q`` for sets, ``task_row_visibility_q`` for
tasks known by id, ``task_visible_to`` for a task already read with its units), so a task
the caller cannot see is missing everywhere (404), never forbidden (403)."""

import datetime
from itertools import chain

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from core.errors import NotFound
from notifications.models import Escalation
from responsibility.models import User
from responsibility.selectors import Access, access_for_user, unit_subtree_ids

from .models import (
    OPEN_STATES,
    Attachment,
    ExtensionRequest,
    Indicator,
    ProgressReport,
    Task,
    TaskEvent,
    TaskState,
    TaskUnit,
)
from .workdays import calendar_for


def today() -> datetime.date:
    return timezone.localdate()


def tasks_of_units_q(units: QuerySet) -> Q:
    """Tasks issued by, or linked to (lead, responsible, cooperating), any of ``units``.

    One UNION of two indexed lookups (every task links its lead unit too). An OR of the
    same conditions makes PostgreSQL filter every task row instead of using either index
    (bench/FIXES.md)."""
    linked = TaskUnit.objects.filter(unit__in=units).order_by().values("task_id")
    issued = Task.objects.filter(issuing_unit__in=units).order_by().values("pk")
    return Q(pk__in=linked.union(issued))


def task_visibility_q(user: User) -> Q:
    """The tasks the user sees, as a set: for lists and counts.

    A draft is not issued yet: only the issuing side sees it (people whose subtrees hold
    the issuing unit, and its lead leader), not the units it will be issued to."""
    access = access_for_user(user)
    if access.is_admin:
        return Q()
    condition = Q(lead_leader_id=user.pk)
    if access.visible_paths:
        units = unit_subtree_ids(access.visible_paths)
        # The UNION is kept whole (see tasks_of_units_q); the draft test is on the outer
        # row only, where it cannot turn the UNION back into a filter over every task.
        condition |= tasks_of_units_q(units) & (~Q(state=TaskState.DRAFT) | Q(issuing_unit__in=units))
    return condition


def task_row_visibility_q(user: User) -> Q:
    """The same visibility as ``task_visibility_q``, tested row by row: for a few tasks
    known by id. The set form would build a county's whole UNION to answer for one task;
    this one looks up that task's own links (bench/FIXES.md)."""
    access = access_for_user(user)
    if access.is_admin:
        return Q()
    condition = Q(lead_leader_id=user.pk)
    if access.visible_paths:
        subtree = unit_subtree_ids(access.visible_paths)
        linked = TaskUnit.objects.filter(task=OuterRef("pk"), unit__in=subtree)
        condition |= Q(issuing_unit__in=subtree) | (Q(Exists(linked)) & ~Q(state=TaskState.DRAFT))
    return condition


def task_visible_to(access: Access, task: Task) -> bool:
    """The same visibility, decided in Python on one task: for a service that has just
    locked the row, and so read it already; building and compiling the row form as SQL
    would cost more than that read (bench/FIXES.md). Cheapest first: a member of the
    issuing or lead unit sees the task without any unit being read; then the issuing
    unit's path; the links (the lead unit is one of them) only when that does not decide."""
    if access.is_admin or (access.user_id is not None and task.lead_leader_id == access.user_id):
        return True
    draft = task.state == TaskState.DRAFT
    units = (task.issuing_unit_id,) if draft else (task.issuing_unit_id, task.lead_unit_id)
    if access.is_member_of_any(units):
        return True
    paths = chain([task.issuing_unit], () if draft else (link.unit for link in task.links()))
    return any(unit.path.startswith(root) for unit in paths for root in access.visible_paths)


def _with_details(tasks: QuerySet[Task]) -> QuerySet[Task]:
    # The highest escalation rung reached against the current due date: an approved
    # extension starts the ladder again.
    escalation_rank = (
        Escalation.objects.filter(task=OuterRef("pk"), due_date=OuterRef("due_date"))
        .order_by("-rank")
        .values("rank")[:1]
    )
    return (
        tasks.annotate(escalation_rank=Subquery(escalation_rank))
        .select_related("campaign", "issuing_unit", "lead_unit", "lead_leader", "responsible_person")
        .prefetch_related(
            Prefetch("task_units", queryset=TaskUnit.objects.select_related("unit").order_by("pk")),
            "indicators",
        )
    )


def task_list_for_user(user: User) -> QuerySet[Task]:
    return _with_details(Task.objects.filter(task_visibility_q(user)))


def task_visible_get(user: User, pk) -> Task:
    """The task, if the user sees it, without the details a response shows: for views that
    hand it to a service, which re-reads it under a lock."""
    try:
        return Task.objects.filter(task_row_visibility_q(user)).get(pk=pk)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def task_get_with_details(pk) -> Task:
    """A task with everything a response shows, read again after a change the caller was
    allowed to make: the service found the task among those they see."""
    return _with_details(Task.objects.filter(pk=pk)).prefetch_related("steps").get()


def task_get_for_user(user: User, pk) -> Task:
    try:
        tasks = Task.objects.filter(task_row_visibility_q(user))
        return _with_details(tasks).prefetch_related("steps").get(pk=pk)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def task_visible_exists(user: User, task_ref: str = "task_id") -> Exists:
    """For rows that belong to a task, reached by ``task_ref``: whether the user sees it."""
    return Exists(Task.objects.filter(task_row_visibility_q(user), pk=OuterRef(task_ref)))


def overdue_q(on: datetime.date) -> Q:
    return Q(state__in=OPEN_STATES, due_date__lt=on)


def yellow_limit(on: datetime.date, working_days: int) -> datetime.date:
    """The last due date that still shows yellow on day ``on``."""
    return calendar_for(on).add_working_days(on, working_days)


def light_q(light: str, on: datetime.date, working_days: int) -> Q:
    """Traffic lights, for open tasks only: red overdue, yellow due soon, green on track."""
    limit = yellow_limit(on, working_days)
    if light == "red":
        return overdue_q(on)
    if light == "yellow":
        return Q(state__in=OPEN_STATES, due_date__gte=on, due_date__lte=limit)
    return Q(state__in=OPEN_STATES, due_date__gt=limit)


def task_light(task: Task, on: datetime.date, limit: datetime.date) -> str | None:
    if not task.is_open:
        return None
    if task.due_date < on:
        return "red"
    return "yellow" if task.due_date <= limit else "green"


def task_history(task: Task) -> QuerySet[TaskEvent]:
    return TaskEvent.objects.filter(task=task).select_related("actor").order_by("at", "pk")


def task_reports(task: Task) -> QuerySet[ProgressReport]:
    return ProgressReport.objects.filter(task=task).select_related("author").prefetch_related("attachments")


def task_extensions(task: Task) -> QuerySet[ExtensionRequest]:
    return ExtensionRequest.objects.filter(task=task).select_related("requested_by", "decided_by")


def extension_get_for_user(user: User, pk) -> ExtensionRequest:
    try:
        return ExtensionRequest.objects.select_related("task").filter(task_visible_exists(user)).get(pk=pk)
    except (ExtensionRequest.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def attachment_get_for_user(user: User, pk) -> Attachment:
    try:
        visible = task_visible_exists(user, "report__task_id")
        return Attachment.objects.select_related("report").filter(visible).get(pk=pk)
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def indicator_leaves(task: Task) -> QuerySet[Indicator]:
    return Indicator.objects.filter(task=task, children__isnull=True)
