"""转办: the lead unit asks, before signing for a task, that it go to another unit, and the
issuing side decides. Returning an item to its issuer (退回) is a transition
(``Task.return_to_issuer``) and goes through ``task_transition``."""

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from core.errors import Conflict, Forbidden, InvalidInput, InvalidTransition
from responsibility import jurisdiction
from responsibility.models import Unit, User

from .. import rules
from ..lateness import today
from ..models import (
    EventAction,
    Task,
    TaskEvent,
    TaskState,
    TaskUnit,
    TaskUnitRole,
    TransferRequest,
    TransferState,
)
from ..obligations import obligations_transferred
from ..scope import scope_rebuild
from .common import event_record, locked_request, locked_task, require_text


def _ensure_target(task, to_unit: Unit) -> None:
    """The named unit is another than the lead unit, within the issuer's jurisdiction (the
    rule by which the issuer handed the task down in the first place)."""
    if to_unit.pk == task.lead_unit_id:
        message = _("转办单位不能是本单位。")
        raise InvalidInput(message, code="same_unit", fields={"to_unit": [message]})
    jurisdiction.ensure_reaches(
        task.issuing_unit, {"to_unit": [to_unit]}, through_task=task.parent_id is not None
    )


def transfer_request_create(*, task_id: int, actor: User, to_unit: Unit, reason: str) -> TransferRequest:
    """Ask, as a member of the lead unit and before signing for the task, that the issuer
    hand it to ``to_unit``. The sign-for stays owed, on its date, until the issuer approves."""
    reason = require_text(reason, "reason", _("请填写转办理由。"))
    with transaction.atomic():
        task, access = locked_task(task_id, actor)
        rules.ensure_may(access, task, "request_transfer")
        rules.ensure_state(task, "request_transfer", _("只有尚未签收的任务可以申请转办。"))
        _ensure_target(task, to_unit)
        try:
            with transaction.atomic():
                transfer = TransferRequest.objects.create(
                    task=task,
                    requested_by=actor,
                    from_unit_id=task.lead_unit_id,
                    to_unit=to_unit,
                    reason=reason,
                )
        except IntegrityError:
            raise Conflict(_("该任务已有待审批的转办申请。"), code="transfer_pending") from None
        event_record(
            task,
            actor,
            EventAction.TRANSFER_REQUESTED,
            from_state=task.state,
            to_state=task.state,
            comment=reason,
            data={"transfer": transfer.pk, "from_unit": task.lead_unit_id, "to_unit": to_unit.pk},
        )
    return transfer


def _hand_over(task, to_unit: Unit) -> None:
    """Make ``to_unit`` the lead unit: its link replaces the old lead's (a unit that was
    cooperating becomes responsible), and the responsible person, who answered for the old
    unit, is cleared for the new unit to name its own."""
    old_lead_id = task.lead_unit_id
    TaskUnit.objects.filter(task=task, unit_id__in=[old_lead_id, to_unit.pk]).delete()
    TaskUnit.objects.create(task=task, unit=to_unit, role=TaskUnitRole.RESPONSIBLE)
    task.lead_unit = to_unit
    task.responsible_person = None
    task.save(update_fields=["lead_unit", "responsible_person", "updated_at"])
    scope_rebuild([task.pk])


# Why a pending request closed by itself, by what the task did (``TransferRequest.closed_because``).
SUPERSEDED_BECAUSE = {
    "accept": _("任务已签收，转办申请自动失效。"),
    "return_to_issuer": _("任务已退回下达单位，转办申请自动失效。"),
    "suspend": _("任务已暂缓，转办申请自动失效。"),
    "cancel": _("任务已撤销，转办申请自动失效。"),
    "edit": _("牵头单位已调整，转办申请自动失效。"),
    "import": _("重新导入调整了牵头单位，转办申请自动失效。"),
}

CLOSED_MESSAGES = {
    TransferState.APPROVED: _("该转办申请已同意，不能再处理。"),
    TransferState.REFUSED: _("该转办申请已不同意，不能再处理。"),
    TransferState.WITHDRAWN: _("该转办申请已由申请单位撤回。"),
    TransferState.SUPERSEDED: _("该转办申请已失效（任务已签收、退回、暂缓、撤销或调整了牵头单位）。"),
}


def _ensure_pending(transfer: TransferRequest) -> None:
    if transfer.state != TransferState.PENDING:
        raise Conflict(CLOSED_MESSAGES[transfer.state], code="transfer_closed")


def transfers_supersede(tasks: list[Task], *, actor: User | None, because: str) -> int:
    """Close the pending transfer requests of ``tasks``, which have just left the state in
    which a transfer makes sense (signed for, returned, suspended, cancelled) or been given
    another lead unit: a request approved now would hand over work the unit has taken on,
    or that is no longer its. Each closed request is a history event of its task. One
    statement when nothing waits, two otherwise; call inside the transaction that changed
    the tasks, with them locked."""
    if not tasks:
        return 0
    by_pk = {task.pk: task for task in tasks}
    comment = gettext(SUPERSEDED_BECAUSE[because])
    table = connection.ops.quote_name(TransferRequest._meta.db_table)
    placeholders = ", ".join(["%s"] * len(by_pk))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table}
            SET state = %s, closed_because = %s, decided_by_id = %s, decided_at = %s, decision_comment = %s
            WHERE state = %s AND task_id IN ({placeholders})
            RETURNING id, task_id, from_unit_id, to_unit_id
            """,
            [
                TransferState.SUPERSEDED,
                because,
                actor.pk if actor else None,
                timezone.now(),
                comment,
                TransferState.PENDING,
                *by_pk,
            ],
        )
        closed = cursor.fetchall()
    TaskEvent.objects.bulk_create(
        TaskEvent(
            task_id=task_id,
            actor=actor,
            action=EventAction.TRANSFER_SUPERSEDED,
            from_state=by_pk[task_id].state,
            to_state=by_pk[task_id].state,
            comment=comment,
            data={"transfer": pk, "from_unit": from_unit, "to_unit": to_unit, "because": because},
        )
        for pk, task_id, from_unit, to_unit in closed
    )
    return len(closed)


def transfer_withdraw(*, transfer_id: int, actor: User, comment: str = "") -> TransferRequest:
    """Withdraw a pending request, as a member of the unit that asked (the lead unit while it
    waits: a new lead unit closes it, ``transfers_supersede``). The sign-for stays owed."""
    with transaction.atomic():
        task, access, transfer = locked_request(TransferRequest, transfer_id, actor, "withdraw_transfer")
        # The unit that asked, which a pending request's lead unit is; after a hand-over the
        # new lead unit is told the request is closed only if it asked it.
        if not access.is_member_of_any([transfer.from_unit_id]):
            raise Forbidden(_("只有申请转办的单位可以撤回申请。"))
        _ensure_pending(transfer)
        comment = (comment or "").strip()
        transfer.withdraw(by=actor, comment=comment)
        transfer.save()
        event_record(
            task,
            actor,
            EventAction.TRANSFER_WITHDRAWN,
            from_state=task.state,
            to_state=task.state,
            comment=comment,
            data={
                "transfer": transfer.pk,
                "from_unit": transfer.from_unit_id,
                "to_unit": transfer.to_unit_id,
            },
        )
    return transfer


def transfer_decide(*, transfer_id: int, actor: User, approve: bool, comment: str = "") -> TransferRequest:
    """Approve (the named unit leads the task, with a new sign-for window from today) or
    refuse (a reason is required; the asking unit still owes the sign-for by its date).

    The request's task is locked first, like every write to a task, then the request; a
    request of a task the actor cannot see is missing (404)."""
    if not approve:
        comment = require_text(comment, "comment", _("不同意转办须说明理由。"))
    with transaction.atomic():
        task, _access, transfer = locked_request(
            TransferRequest, transfer_id, actor, "decide_transfer", "to_unit"
        )
        _ensure_pending(transfer)
        method = transfer.approve if approve else transfer.refuse
        if not can_proceed(method):
            raise InvalidTransition(_("该转办申请已处理。"))
        data = {"transfer": transfer.pk, "from_unit": transfer.from_unit_id, "to_unit": transfer.to_unit_id}
        if approve:
            if task.state != TaskState.ASSIGNED:
                raise InvalidTransition(_("任务已签收、退回或撤销，不能转办。"))
            # The tree may have moved since the request: the rule is checked as of now.
            _ensure_target(task, transfer.to_unit)
        method(by=actor, comment=comment)
        transfer.save()
        if approve:
            _hand_over(task, transfer.to_unit)
            data["sign_for_due"] = str(obligations_transferred(task, today()))
        event_record(
            task,
            actor,
            EventAction.TRANSFER_APPROVED if approve else EventAction.TRANSFER_REFUSED,
            from_state=task.state,
            to_state=task.state,
            comment=comment,
            data=data,
        )
    return transfer
