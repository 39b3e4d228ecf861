"""Setting a task's report schedule (按期反馈): the issuing side says when the lead unit
reports; the periods it owes follow (``tasks.schedules``)."""

import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.errors import InvalidInput
from responsibility.models import User

from .. import rules
from ..lateness import today as local_today
from ..models import OPEN_STATES, EventAction, ReportCadence, ReportSchedule, Task
from ..obligations import next_obligation_refresh
from ..schedules import periods_replace, schedule_wording
from .common import ensure_within_campaign, event_record, locked_task

WORDING_MAX = ReportSchedule._meta.get_field("wording").max_length


def _refuse(field: str, message, code: str) -> InvalidInput:
    return InvalidInput(message, code=code, fields={field: [message]})


def report_schedule_validate(
    *, task: Task, cadence: str, day: int | None, once_on: datetime.date | None, wording: str
) -> ReportSchedule:
    """The schedule as it would be saved, or ``InvalidInput`` naming the field at fault."""
    if cadence not in ReportCadence.values:
        raise _refuse("cadence", _("报送周期须为每月、每季度、每周或一次。"), "invalid_cadence")
    if cadence == ReportCadence.MONTHLY and not (day is not None and 1 <= day <= 31):
        raise _refuse("day", _("按月报送须写明每月几日（1 至 31）。"), "invalid_report_day")
    if cadence == ReportCadence.QUARTERLY and day is not None and not 1 <= day <= 31:
        raise _refuse("day", _("按季度报送的日期须在 1 至 31 之间，季度末报送请留空。"), "invalid_report_day")
    if cadence == ReportCadence.WEEKLY and not (day is not None and 1 <= day <= 7):
        raise _refuse("day", _("按周报送须写明星期几（1 为周一，7 为周日）。"), "invalid_report_day")
    if cadence == ReportCadence.ONCE:
        if once_on is None:
            raise _refuse("once_on", _("一次报送须写明报送日期。"), "required")
        ensure_within_campaign(once_on, task.campaign, "once_on")
        day = None
    else:
        once_on = None
    wording = (wording or "").strip()
    if len(wording) > WORDING_MAX:
        message = _("报送要求原文不能超过 %(max)s 个字。") % {"max": WORDING_MAX}
        raise _refuse("wording", message, "too_long")
    return ReportSchedule(task=task, cadence=cadence, day=day, once_on=once_on, wording=wording)


def _snapshot(schedule: ReportSchedule | None) -> str:
    return schedule_wording(schedule) if schedule else ""


def report_schedule_set(
    *,
    task_id: int,
    actor: User,
    cadence: str,
    day: int | None = None,
    once_on: datetime.date | None = None,
    wording: str = "",
) -> ReportSchedule:
    """Set or replace the task's report schedule. Only the issuing side may (as it edits the
    task), in a state it may edit. On an open task the periods not yet due are written anew
    from today; periods already due stay as they are."""
    with transaction.atomic():
        task, access = locked_task(task_id, actor)
        rules.ensure_may(access, task, "edit")
        rules.ensure_state(task, "edit", _("已办结或已撤销的任务不能修改报送要求。"))
        schedule = report_schedule_validate(
            task=task, cadence=cadence, day=day, once_on=once_on, wording=wording
        )
        before = ReportSchedule.objects.filter(task=task).first()
        schedule.save()
        if task.state in OPEN_STATES:
            periods_replace(task, schedule, local_today())
            next_obligation_refresh(task)
        event_record(
            task,
            actor,
            EventAction.EDITED,
            from_state=task.state,
            to_state=task.state,
            data={"report_schedule": [_snapshot(before), _snapshot(schedule)]},
        )
    return schedule


def report_schedule_remove(*, task_id: int, actor: User) -> None:
    """Remove the task's report schedule: periods not yet due are no longer owed."""
    with transaction.atomic():
        task, access = locked_task(task_id, actor)
        rules.ensure_may(access, task, "edit")
        rules.ensure_state(task, "edit", _("已办结或已撤销的任务不能修改报送要求。"))
        before = ReportSchedule.objects.filter(task=task).first()
        if before is None:
            return
        before.delete()
        if task.state in OPEN_STATES:
            periods_replace(task, None, local_today())
            next_obligation_refresh(task)
        event_record(
            task,
            actor,
            EventAction.EDITED,
            from_state=task.state,
            to_state=task.state,
            data={"report_schedule": [_snapshot(before), ""]},
        )
