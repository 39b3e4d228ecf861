"""Reads of 督办通知单: a notice is seen by whoever sees its item."""

from django.db.models import QuerySet

from core.errors import NotFound
from responsibility.models import User
from tasks.models import Task
from tasks.selectors import task_visibility_q

from .models import Notice


def notice_list_for_user(user: User) -> QuerySet[Notice]:
    """The notices about the tasks the user sees (``tasks.selectors``): the office that
    issued them, the unit they went to and the levels above it."""
    visible = Task.objects.filter(task_visibility_q(user)).order_by().values("pk")
    return (
        Notice.objects.filter(task_id__in=visible)
        .select_related("office", "to_unit", "task", "issued_by", "replied_by", "withdrawn_by")
        .order_by("-created_at", "-pk")
    )


def notice_get_for_user(user: User, pk) -> Notice:
    try:
        return notice_list_for_user(user).get(pk=pk)
    except (Notice.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def notices_of_task(task: Task) -> QuerySet[Notice]:
    """A task's notices, newest first, for a caller who sees the task already."""
    return Notice.objects.filter(task=task).select_related("office", "to_unit").order_by("-created_at", "-pk")
