"""回头看: the issuing unit records the re-check of a closed rectification item.

The re-check is an obligation opened when the item is closed (``tasks.obligations``). A
passed re-check meets it; a failed one meets it and reopens the item, exactly as the
``reopen`` transition does (the 屡改屡犯 count goes up, the history says so), with the new
due date the issuer sets for the renewed rectification: the old date is long past, and an
item reopened against it would be red and chased from its first day for the issuer's
finding, not for the unit's delay."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from core.errors import InvalidInput, InvalidTransition
from responsibility.models import User

from .. import rules
from ..attachments import checked_uploads, store_checked
from ..lateness import today
from ..models import EventAction, Obligation, ObligationKind, RecheckAttachment, RecheckResult, Task
from ..obligations import next_obligation_refresh, obligations_after
from .common import ensure_within_campaign, ensure_within_parent, event_record, locked_task, require_text
from .lifecycle import GUARDS, _column_values, _save_changed


def _ensure_new_due_date(task: Task, due_date: datetime.date | None) -> datetime.date:
    if due_date is None:
        message = _("复查未通过须重新确定整改时限。")
        raise InvalidInput(message, code="required", fields={"due_date": [message]})
    if due_date <= today():
        message = _("新的整改时限须晚于今天。")
        raise InvalidInput(message, code="not_later", fields={"due_date": [message]})
    ensure_within_campaign(due_date, task.campaign)
    ensure_within_parent(due_date, task.parent)
    return due_date


def task_recheck_record(
    *,
    task_id: int,
    actor: User,
    result: str,
    notes: str = "",
    due_date: datetime.date | None = None,
    files: list | None = None,
) -> Task:
    """Record the re-check of a closed item for the issuing side: ``result`` passed or
    failed, ``notes`` (required when failed: what was found), ``due_date`` (required when
    failed, refused when passed), ``files`` what the office found (photos, the check sheet),
    checked as evidence is and kept against the re-check, all before any is stored. Refused
    with 409 ``no_recheck_due`` when no re-check is pending, so that sending the same
    finding twice records it once."""
    if result not in RecheckResult.values:
        message = _("复查结果须为“通过”或“未通过”。")
        raise InvalidInput(message, code="invalid_choice", fields={"result": [message]})
    failed = result == RecheckResult.FAILED
    if failed:
        notes = require_text(notes, "notes", _("复查未通过须写明发现的问题。"))
    elif due_date is not None:
        message = _("复查通过的事项不需要新的整改时限。")
        raise InvalidInput(message, code="not_allowed", fields={"due_date": [message]})
    notes = (notes or "").strip()
    with transaction.atomic():
        task, access = locked_task(task_id, actor)
        rules.ensure_may(access, task, "recheck")
        # Checked once the caller may record it (a file is no way to learn of an item).
        checked = checked_uploads(list(files or []))
        obligation = (
            Obligation.objects.select_for_update()
            .filter(task=task, kind=ObligationKind.RECHECK, met_at__isnull=True)
            .first()
        )
        if obligation is None or task.state not in rules.ACTION_STATES["recheck"]:
            raise InvalidTransition(_("该事项没有待进行的回头看复查。"), code="no_recheck_due")
        if failed:
            due_date = _ensure_new_due_date(task, due_date)
            # What the reopen transition checks besides its own row (a parent still open).
            for check in GUARDS["reopen"]:
                check(task)
            if not can_proceed(task.reopen):
                raise InvalidTransition()
        on = today()
        obligation.met_at, obligation.result = timezone.now(), result
        obligation.save(update_fields=["met_at", "result"])
        stored = store_checked(RecheckAttachment, checked, obligation=obligation)
        event_record(
            task,
            actor,
            EventAction.RECHECKED,
            from_state=task.state,
            to_state=task.state,
            comment=notes,
            data={
                "result": result,
                "recheck_due": str(obligation.due_date),
                "late": obligation.due_date < on,
                **({"files": [attachment.original_name for attachment in stored]} if stored else {}),
            },
        )
        if not failed:
            next_obligation_refresh(task)
            return task
        from_state, old_due = task.state, task.due_date
        before = _column_values(task)
        task.reopen()
        task.move_due_date(due_date)
        obligations_after(task, "reopen")
        _save_changed(task, before)
        event_record(
            task,
            actor,
            EventAction.REOPENED,
            from_state=from_state,
            to_state=task.state,
            comment=notes,
            data={"due_date": [str(old_due), str(task.due_date)], "recheck": obligation.pk},
        )
    return task
