"""A unit's dashboard (督办看板): how the work of each unit one level below it stands.

Whose work a row counts is visibility's own rule (``tasks.selectors``): the tasks a unit's
subtree issued, leads, answers for or cooperates on, drafts left out (nobody has been
given them yet). A task shared by two children counts in both rows; the unit's own row
counts it once. Lights and lateness are ``tasks.lateness``'s rules, the same the list and
the ladder show.
"""

from dataclasses import dataclass

from django.db.models import F, Func, IntegerField, Value
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from core.errors import Forbidden, NotFound
from responsibility.models import PATH_SEGMENT_WIDTH, PATH_SEPARATOR, Unit, User
from responsibility.selectors import access_for_user

from .lateness import finished_on, is_overdue, task_light, today, yellow_limit
from .models import Task, TaskState, TaskUnit
from .selectors import tasks_of_units_q
from .workdays import calendar_for

SEGMENT = PATH_SEGMENT_WIDTH + len(PATH_SEPARATOR)


@dataclass
class DashboardRow:
    """One unit's figures.

    ``red``, ``yellow`` and ``green`` count open tasks (assigned, in progress, submitted)
    by their light; ``overdue`` is the open tasks that owe anything past its date (the red
    light, ``tasks.lateness``); ``closed`` the tasks closed (销号), of which
    ``closed_on_time`` finished on or before their due date (``lateness.finished_on``);
    ``suspended`` and ``cancelled`` the rest; ``total`` every task issued, so
    ``red + yellow + green + closed + suspended + cancelled == total``. ``on_time_rate`` is
    ``closed_on_time / closed``, the share of the closed work that was finished on or
    before its due date; None while nothing is closed. ``is_total`` marks the row of the
    unit asked about (its whole subtree, each task once), which comes first; the children
    follow in the tree's order."""

    unit_id: int
    name: str
    kind: str
    is_total: bool = False
    red: int = 0
    yellow: int = 0
    green: int = 0
    closed: int = 0
    closed_on_time: int = 0
    suspended: int = 0
    cancelled: int = 0
    total: int = 0
    overdue: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return self.closed_on_time / self.closed if self.closed else None


def dashboard_unit(user: User, unit_id) -> Unit:
    """The unit, if the user's work reaches it: a unit that does not exist is a 404; one
    outside every subtree whose tasks the user sees is a 403 (the tree itself is public)."""
    try:
        unit = Unit.objects.get(pk=unit_id)
    except (Unit.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    access = access_for_user(user)
    if not access.is_admin and not any(unit.path.startswith(root) for root in access.visible_paths):
        raise Forbidden(_("该单位不在您的管辖范围内。"), code="outside_jurisdiction")
    return unit


def unit_dashboard(user: User, unit_id) -> list[DashboardRow]:
    """The unit's own row, then one row per unit one level below it (departments and
    offices attached to it included), in a fixed number of queries."""
    unit = dashboard_unit(user, unit_id)
    children = list(Unit.objects.filter(parent=unit).order_by("path"))
    rows = {unit.path: DashboardRow(unit.pk, unit.name, unit.kind, is_total=True)}
    rows.update((child.path, DashboardRow(child.pk, child.name, child.kind)) for child in children)
    on = today()
    calendar = calendar_for(on)
    limits: dict[int, object] = {}
    seen: set[int] = set()
    for child_path, task in _tasks_by_child(unit):
        counted = [rows[child_path]] if child_path != unit.path else []
        if task.pk not in seen:
            seen.add(task.pk)
            counted.append(rows[unit.path])
        days = task.campaign.yellow_working_days
        if days not in limits:
            limits[days] = yellow_limit(on, days, calendar)
        for row in counted:
            _count(row, task, on, limits[days])
    return list(rows.values())


def _count(row: DashboardRow, task: Task, on, limit) -> None:
    row.total += 1
    light = task_light(task, on, limit)
    if light:
        setattr(row, light, getattr(row, light) + 1)
        row.overdue += is_overdue(task, on)
    elif task.state == TaskState.CLOSED:
        row.closed += 1
        finished = finished_on(task)
        row.closed_on_time += finished is not None and finished <= task.due_date
    elif task.state == TaskState.SUSPENDED:
        row.suspended += 1
    elif task.state == TaskState.CANCELLED:
        row.cancelled += 1


def _tasks_by_child(unit: Unit):
    """(the path of the child whose subtree holds a unit of the task, or the unit's own
    path, the task) for every issued task of the unit's subtree, each pair once."""
    length = len(unit.path) + SEGMENT

    def child(path_field: str) -> Func:
        return Substr(F(path_field), 1, Value(length, IntegerField()))

    linked = (
        TaskUnit.objects.filter(unit__path__startswith=unit.path)
        .annotate(child=child("unit__path"))
        .values_list("child", "task_id")
    )
    issued = (
        Task.objects.filter(issuing_unit__path__startswith=unit.path)
        .annotate(child=child("issuing_unit__path"))
        .values_list("child", "pk")
    )
    pairs = list(linked.union(issued).order_by())
    tasks = (
        Task.objects.exclude(state=TaskState.DRAFT)
        .filter(tasks_of_units_q(Unit.objects.filter(path__startswith=unit.path).values("pk")))
        .select_related("campaign")
        .only(
            "state",
            "due_date",
            "closed_at",
            "submitted_on",
            "next_obligation_date",
            "next_warned_date",
            "campaign__yellow_working_days",
        )
    )
    by_id = {task.pk: task for task in tasks}
    return [(path, by_id[task_id]) for path, task_id in pairs if task_id in by_id]
