"""Reads of escalations, the outbox and the responsibility trace; all start from the
tasks the caller may see."""

import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from outbox.models import OutboundMessage
from responsibility.models import User
from responsibility.selectors import access_for_user
from tasks import lateness
from tasks.models import Task, TaskScope, TaskState
from tasks.selectors import period_at, responsibility_trace, task_visibility_q

from .models import Escalation


def escalation_list_for_user(user: User) -> QuerySet[Escalation]:
    visible = Task.objects.filter(task_visibility_q(user)).values("pk")
    return (
        Escalation.objects.filter(task__in=visible)
        .select_related("task", "lead_unit", "responsible_person", "actor")
        .prefetch_related("people")
    )


def task_escalations(task: Task) -> QuerySet[Escalation]:
    return (
        Escalation.objects.filter(task=task)
        .select_related("task", "lead_unit", "responsible_person", "actor")
        .prefetch_related("people")
    )


def outbox_list_for_user(user: User) -> QuerySet[OutboundMessage]:
    """Messages to the caller; for supervision offices, also those about tasks they all see.

    A digest goes to one address and may cover tasks of several counties: an office reads
    it only if it sees every task the digest covers, else it would read about the others."""
    if not user.is_authenticated:
        return OutboundMessage.objects.none()
    access = access_for_user(user)
    if access.is_admin:
        condition = Q()
    elif access.supervised_paths:
        visible = Task.objects.filter(task_visibility_q(user)).values("pk")
        covered = Escalation.messages.through.objects.filter(outboundmessage_id=OuterRef("pk"))
        hidden = covered.exclude(escalation__task_id__in=visible)
        condition = Q(recipient_user=user) | (Q(Exists(covered)) & ~Q(Exists(hidden)))
    else:
        condition = Q(recipient_user=user)
    return OutboundMessage.objects.filter(condition).select_related(
        "recipient_user", "recipient_unit", "robot"
    )


def task_trace(task: Task, on: datetime.date) -> dict:
    """Who carried the task at each moment, and who when it went overdue (责任倒查), with its
    escalations, each recorded against the unit and person of its moment.

    A task becomes late at the start of the office's day after its due date; the period
    that holds that instant names who let it run late."""
    periods = responsibility_trace(task)
    since = lateness.late_since(task, on)
    return {
        "task": task.pk,
        "periods": periods,
        "overdue_since": since,
        "responsible_when_overdue": period_at(periods, lateness.start_of_day(since)) if since else None,
        "escalations": task_escalations(task),
    }


def escalations_of_day_in_unit(unit_id: int, day: datetime.date, *, limit: int = 100) -> tuple[int, list]:
    """The rungs recorded on the office's ``day`` for tasks under a unit (its ``TaskScope``
    rows), newest first, each with the messages that told of it: today's ladder on a
    dashboard, for a caller already allowed the unit's dashboard
    (``tasks.dashboard.dashboard_units``), who sees the tasks under it. How many there
    were, and the first ``limit``."""
    start = lateness.start_of_day(day)
    recorded = Escalation.objects.filter(
        task_id__in=TaskScope.objects.filter(unit_id=unit_id)
        .exclude(state=TaskState.DRAFT)
        .values("task_id"),
        created_at__gte=start,
        created_at__lt=start + datetime.timedelta(days=1),
    )
    messages = OutboundMessage.objects.select_related("recipient_user", "recipient_unit").order_by("pk")
    first = list(
        recorded.select_related("task", "lead_unit")
        .prefetch_related(Prefetch("messages", queryset=messages))
        .order_by("-created_at", "-pk")[:limit]
    )
    return recorded.count(), first
