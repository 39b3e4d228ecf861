"""Asking for a later due date, and deciding on it (an item without an approved extension
is judged against its original date)."""

import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from core.errors import Conflict, InvalidInput, InvalidTransition
from responsibility.models import User

from .. import lateness, rules
from ..lateness import today
from ..models import UNFINISHED_STATES, EventAction, ExtensionRequest, TaskState
from ..obligations import next_obligation_refresh
from ..schedules import periods_extended
from ..scope import scope_sync
from .common import (
    ensure_within_campaign,
    ensure_within_parent,
    event_record,
    locked_request,
    locked_task,
    require_text,
)


def extension_request_create(
    *, task_id: int, actor: User, requested_due_date: datetime.date, reason: str
) -> ExtensionRequest:
    """Ask, for the responsible side, that the task fall due later; one request is pending at
    a time, and an item without an approved extension is judged against its current date."""
    reason = require_text(reason, "reason", _("请填写延期理由。"))
    with transaction.atomic():
        task, access = locked_task(task_id, actor)
        rules.ensure_may(access, task, "request_extension")
        rules.ensure_state(task, "request_extension", _("只有已下达或办理中的任务可以申请延期。"))
        if requested_due_date <= task.due_date:
            message = _("申请的时限须晚于当前完成时限（%(date)s）。") % {"date": task.due_date}
            raise InvalidInput(message, code="not_later", fields={"requested_due_date": [message]})
        ensure_within_campaign(requested_due_date, task.campaign, "requested_due_date")
        ensure_within_parent(requested_due_date, task.parent, "requested_due_date")
        try:
            with transaction.atomic():
                extension = ExtensionRequest.objects.create(
                    task=task, requested_by=actor, requested_due_date=requested_due_date, reason=reason
                )
        except IntegrityError:
            raise Conflict(_("该任务已有待审批的延期申请。"), code="extension_pending") from None
        event_record(
            task,
            actor,
            EventAction.EXTENSION_REQUESTED,
            from_state=task.state,
            to_state=task.state,
            comment=reason,
            data={"extension": extension.pk, "requested_due_date": str(requested_due_date)},
        )
    return extension


def extension_decide(*, extension_id: int, actor: User, approve: bool, comment: str = "") -> ExtensionRequest:
    """Approve (moving the due date; the original date is kept) or reject an extension.

    The request's task is locked first, like every write to a task, then the request; an
    extension of a task the actor cannot see is missing (404)."""
    if not approve:
        comment = require_text(comment, "comment", _("驳回须说明理由。"))
    with transaction.atomic():
        task, _access, extension = locked_request(ExtensionRequest, extension_id, actor, "decide_extension")
        method = extension.approve if approve else extension.reject
        if not can_proceed(method):
            raise InvalidTransition(_("该延期申请已处理。"))
        if approve:
            if task.state not in UNFINISHED_STATES:
                raise InvalidTransition(_("任务已办结或撤销，不能延期。"))
            ensure_within_parent(extension.requested_due_date, task.parent, "requested_due_date")
        method(by=actor, comment=comment)
        extension.save()
        data = {"extension": extension.pk}
        if approve:
            data["due_date"] = [str(task.due_date), str(extension.requested_due_date)]
            data["was_overdue"] = lateness.is_overdue(task, today())
            before = task.due_date
            task.move_due_date(extension.requested_due_date)
            task.save(update_fields=["due_date", "escalation_rank", "updated_at"])
            scope_sync(task)
            # The periods of its report schedule cover the new date as they covered the old.
            if task.state != TaskState.DRAFT and periods_extended(task, before, task.due_date):
                next_obligation_refresh(task)
        event_record(
            task,
            actor,
            EventAction.EXTENSION_APPROVED if approve else EventAction.EXTENSION_REJECTED,
            from_state=task.state,
            to_state=task.state,
            comment=comment,
            data=data,
        )
    return extension
