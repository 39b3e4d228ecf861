"""Moving a task through its states: every transition declared on ``Task`` (``TRANSITIONS``)
goes through ``task_transition``."""

from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from core.errors import Conflict, InvalidInput, InvalidTransition
from responsibility.models import User
from responsibility.selectors import access_for_user

from .. import rules
from ..lateness import today
from ..models import TRANSITIONS, UNFINISHED_STATES, Task, TaskKind, TaskState
from ..obligations import obligations_after, obligations_resumed
from ..scope import COPIED, scope_sync
from ..workdays import calendar_for
from .common import event_record, locked_task, require_text
from .transfers import transfers_supersede


def _ensure_no_open_children(task: Task) -> None:
    """Every child is finished, and stays so until the parent's change commits.

    All children are locked, in id order, and their states read from the locked rows: a
    child reopened at the same moment either commits first (and is seen open here) or
    waits, then finds the parent closed (``_ensure_parent_open``). Filtering the lock by
    state would miss a child that was closed in this statement's snapshot and reopened
    while it waited."""
    states = (
        Task.objects.select_for_update(no_key=True)
        .filter(parent_id=task.pk)
        .order_by("pk")
        .values_list("state")
    )
    if any(state in UNFINISHED_STATES for (state,) in states):
        raise Conflict(_("仍有未办结的子任务，不能销号。"), code="children_open")


def _ensure_parent_open(task: Task) -> None:
    """A child is reopened only under a parent that is still being worked on.

    A submitted, closed or cancelled parent has no open child (``_ensure_no_open_children``).
    Reopening the parent along with the child would move another unit's item back without
    its issuer deciding it; refused, the recurrence (屡改屡犯) goes to whoever issued the
    parent, who reopens it first, so the issuer above sees the item come back. The parent
    row is read, not locked: a parent closing at the same moment holds its children's locks
    until it commits, so this child's lock is had only after that parent state is final."""
    if task.parent_id is None:
        return
    parent_state = Task.objects.filter(pk=task.parent_id).values_list("state", flat=True).get()
    if parent_state in (TaskState.SUBMITTED, TaskState.CLOSED, TaskState.CANCELLED):
        raise Conflict(_("上级任务已申请销号、已销号或已撤销，请先重新打开上级任务。"), code="parent_closed")


def _ensure_steps_done(task: Task) -> None:
    if task.kind == TaskKind.PROCEDURE and task.steps.filter(done_at__isnull=True).exists():
        raise Conflict(_("程序步骤尚未全部完成。"), code="steps_incomplete")


def _ensure_not_split(task: Task) -> None:
    """An item split to units below is the unit's own: returning it would leave their work
    under a draft nobody issued."""
    if task.children.filter(state__in=UNFINISHED_STATES).exists():
        raise Conflict(_("任务已分解下达，不能退回。"), code="children_open")


def _suspend_arguments(task: Task) -> dict:
    return {"today": today()}


def _resume_arguments(task: Task) -> dict:
    # The overdue clock stood still while the task was suspended: move the due date by
    # the working days it spent suspended.
    on = today()
    calendar = calendar_for(task.suspended_on, on, task.due_date)
    paused = max(calendar.working_days_between(task.suspended_on, on), 0)
    new_due = calendar.add_working_days(task.due_date, paused) if paused else task.due_date
    return {"new_due_date": new_due}


# What the model cannot decide from the task's own row, by transition name: checks of
# other rows, run after the rule and before the transition, and the keyword arguments a
# transition method takes, computed from the locked task. ``TRANSITIONS`` says the rest.
GUARDS: dict[str, tuple[Callable[[Task], None], ...]] = {
    "submit": (_ensure_no_open_children, _ensure_steps_done),
    "close": (_ensure_no_open_children,),
    "cancel": (_ensure_no_open_children,),
    "reopen": (_ensure_parent_open,),
    "return_to_issuer": (_ensure_not_split,),
}
ARGUMENTS: dict[str, Callable[[Task], dict]] = {
    "suspend": _suspend_arguments,
    "resume": _resume_arguments,
}


def _resume_obligations(task: Task, before: dict[str, object]) -> None:
    obligations_resumed(task, before["suspended_on"], today())


# What follows a transition besides its obligations (``tasks.obligations.obligations_after``),
# given the task's columns from before it.
AFTER: dict[str, Callable[[Task, dict], None]] = {
    "resume": _resume_obligations,
}


def _column_values(task: Task) -> dict[str, object]:
    return {field.attname: getattr(task, field.attname) for field in Task._meta.concrete_fields}


def _save_changed(task: Task, before: dict[str, object]) -> None:
    """Save the columns a transition changed: it sets two or three of thirty, and writing
    the other columns back is a part of a write request's time worth saving (bench/FIXES.md)."""
    changed = [name for name, value in _column_values(task).items() if value != before[name]]
    task.save(update_fields=[*changed, "updated_at"])
    if set(changed) & set(COPIED):
        scope_sync(task)


def task_available_transitions(*, task: Task, actor: User) -> list[str]:
    """The transitions the actor could perform on the task now.

    A read: it takes the task a selector returned (visible to the actor) and locks
    nothing; ``task_transition`` decides again on the locked row."""
    access = access_for_user(actor)
    return [
        name
        for name, declared in TRANSITIONS.items()
        if can_proceed(getattr(task, declared.method)) and rules.may(access, task, name)
    ]


def task_transition(*, task_id: int, actor: User, name: str, comment: str = "") -> Task:
    """Perform one named transition (see ``TRANSITIONS``) for the actor."""
    declared = TRANSITIONS.get(name)
    if declared is None:
        raise InvalidInput(_("未知的操作：%(name)s。") % {"name": name}, code="unknown_transition")
    if declared.needs_comment:
        comment = require_text(comment, "comment", _("请填写说明或理由。"))
    with transaction.atomic():
        task, access = locked_task(task_id, actor)
        rules.ensure_may(access, task, name)
        method = getattr(task, declared.method)
        if not can_proceed(method):
            raise InvalidTransition()
        for check in GUARDS.get(name, ()):
            check(task)
        from_state = task.state
        old_due = task.due_date
        before = _column_values(task)
        method(**(ARGUMENTS[name](task) if name in ARGUMENTS else {}))
        obligations_after(task, name)
        _save_changed(task, before)
        if name in AFTER:
            AFTER[name](task, before)
        data = {"due_date": [str(old_due), str(task.due_date)]} if task.due_date != old_due else {}
        event_record(
            task,
            actor,
            declared.event,
            from_state=from_state,
            to_state=task.state,
            comment=comment,
            data=data,
        )
        if from_state == TaskState.ASSIGNED and task.state != TaskState.ASSIGNED:
            # Signed for, returned, suspended or cancelled: a transfer asked before is moot.
            transfers_supersede([task], actor=actor, because=name)
    return task
