"""What every service of a task shares: the locked, visible row; the history row; the
checks of text and of dates that several services make."""

import datetime

from django.utils.translation import gettext_lazy as _

from core.errors import InvalidInput, NotFound
from responsibility.models import User
from responsibility.selectors import Access, access_for_user

from .. import rules
from ..models import Campaign, Task, TaskEvent
from ..selectors import task_visible_to


def locked_task(task_id: int, actor: User) -> tuple[Task, Access]:
    """The task under a row lock, if the actor can see it, and what the actor's memberships
    reach, for the service's own rules to decide on without reading them again; call inside
    a transaction.

    Visibility is decided on the locked row (``task_visible_to``), so an API write reads
    the task once: a task the actor cannot see is missing (404), as on every read path.
    Units, unit links and the parent are read only by the rules and services that need
    them: most writes come from a member of the lead unit, decided on the row alone.

    The lock is FOR NO KEY UPDATE: a task's id never changes, so writes on other tasks that
    merely reference this one (a child updated twice in its own transaction has its parent
    key checked at commit) need not wait for it; they would otherwise deadlock with a
    parent that, holding its own lock, waits for that child's.

    The campaign comes with the row, unlocked (``of=("self",)``): most services read its
    working-day settings, and a lock on it would make every write in the campaign wait."""
    try:
        locked = Task.objects.select_for_update(no_key=True, of=("self",)).select_related("campaign")
        task = locked.get(pk=task_id)
    except Task.DoesNotExist:
        raise NotFound() from None
    access = access_for_user(actor)
    if not task_visible_to(access, task):
        raise NotFound()
    return task, access


def locked_request(model, request_id: int, actor: User, action: str, *related: str):
    """A request about a task (an extension, a transfer) to be decided by ``action``: its
    task locked first, like every write to a task, and the actor's right to ``action``
    checked on it, then the request itself locked; call inside a transaction. A request of
    a task the actor cannot see is missing (404). Returns (task, access, request)."""
    # A request never changes task: its task id is read before any lock is taken.
    task_id = model.objects.filter(pk=request_id).values_list("task_id", flat=True).first()
    if task_id is None:
        raise NotFound()
    task, access = locked_task(task_id, actor)
    rules.ensure_may(access, task, action)
    request = model.objects.select_for_update().select_related(*related).get(pk=request_id)
    return task, access, request


def event_record(
    task: Task,
    actor: User | None,
    action: str,
    *,
    from_state: str = "",
    to_state: str = "",
    comment: str = "",
    data: dict | None = None,
) -> TaskEvent:
    """Append one row to the task's history (``EventAction`` names what happened)."""
    return TaskEvent.objects.create(
        task=task,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        comment=comment,
        data=data or {},
    )


def require_text(value: str, field_name: str, message) -> str:
    """The text stripped, or ``InvalidInput`` with ``message`` on ``field_name`` if empty."""
    value = (value or "").strip()
    if not value:
        raise InvalidInput(message, code="required", fields={field_name: [message]})
    return value


def due_date_bounds(campaign: Campaign) -> tuple[datetime.date, datetime.date]:
    """The dates a campaign's work may fall due on: from the start of the year it starts in
    (an annual plan imported mid-year keeps its "6月底前" items) to the end of the year after
    it ends (rectification items it finds late are due in the office's follow-up year)."""
    return datetime.date(campaign.starts_on.year, 1, 1), datetime.date(campaign.ends_on.year + 1, 12, 31)


def ensure_within_campaign(due_date: datetime.date, campaign: Campaign, field_name: str = "due_date") -> None:
    """A date outside ``due_date_bounds`` is a typing error (0001-01-01, 9999-12-31), not a plan."""
    earliest, latest = due_date_bounds(campaign)
    if not earliest <= due_date <= latest:
        message = _("完成时限须在 %(start)s 至 %(end)s 之间（攻坚行动所在年度及其后一年）。") % {
            "start": earliest,
            "end": latest,
        }
        raise InvalidInput(message, code="due_date_outside_campaign", fields={field_name: [message]})


def ensure_within_parent(due_date: datetime.date, parent: Task | None, field_name: str = "due_date") -> None:
    """A child task is due no later than its parent."""
    if parent is not None and due_date > parent.due_date:
        message = _("完成时限不能晚于上级任务的完成时限（%(date)s）。") % {"date": parent.due_date}
        raise InvalidInput(message, code="due_date_after_parent", fields={field_name: [message]})
